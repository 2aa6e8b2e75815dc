"""JAKI-DDI and JAKI-COMBINATION."""

from __future__ import annotations

from dataclasses import replace

from jaki_support import (
    complete_record,
    med,
    one_finding,
    one_not_assessed,
    order,
    run,
    unavailable,
    with_meds,
)


def test_tofacitinib_with_clarithromycin_us_suggests_5_mg_once_daily():
    tofa = order("tofacitinib", dose_mg=5.0, per_day=2.0)
    facts = with_meds(complete_record(tofa), med("clarithromycin", "cyp3a4_strong_inhibitor"))
    f = one_finding(run("JAKI-DDI", facts, region="US"))
    assert f.severity == "warning" and f.params["action"] == "reduce"
    assert f.suggestions[0].params == {"dose_mg": 5.0, "per_day": 1.0}
    assert f.evidence[0].label == "medication:cyp3a4_strong_inhibitor"


def test_tofacitinib_with_fluconazole_counts():
    tofa = order("tofacitinib", dose_mg=5.0, per_day=2.0)
    facts = with_meds(
        complete_record(tofa), med("fluconazole", "cyp3a4_moderate_inhibitor_cyp2c19")
    )
    assert one_finding(run("JAKI-DDI", facts, region="US")).params["classes"] == [
        "cyp3a4_moderate_inhibitor_cyp2c19"
    ]


def test_unchecked_region_still_warns_without_a_dose():
    tofa = order("tofacitinib", dose_mg=5.0, per_day=2.0)
    facts = with_meds(complete_record(tofa), med("ketoconazole", "cyp3a4_strong_inhibitor"))
    f = one_finding(run("JAKI-DDI", facts, region="EU"))
    assert f.params["action"] == "check_label" and f.suggestions == []


def test_baricitinib_with_probenecid_eu_suggests_2_mg():
    facts = with_meds(complete_record(), med("probenecid", "oat3_strong_inhibitor"))
    f = one_finding(run("JAKI-DDI", facts))
    assert f.suggestions[0].params == {"dose_mg": 2.0, "per_day": 1.0}


def test_baricitinib_2_mg_with_probenecid_already_labelled():
    facts = with_meds(
        complete_record(order(dose_mg=2.0)), med("probenecid", "oat3_strong_inhibitor")
    )
    assert run("JAKI-DDI", facts) == []


def test_abrocitinib_with_fluvoxamine_japan_holds_the_insert_figure():
    """Japanese insert 7.2: with a strong CYP2C19 inhibitor 50 mg (100 mg allowed)."""
    abro = order("abrocitinib", dose_mg=200.0, indication="atopic_dermatitis")
    facts = with_meds(complete_record(abro), med("fluvoxamine", "cyp2c19_strong_inhibitor"))
    f = one_finding(run("JAKI-DDI", facts, region="JP"))
    assert f.params["action"] == "reduce" and f.params["label"] == "PMDA"
    assert f.suggestions[0].params == {"dose_mg": 100.0, "per_day": 1.0}
    within = replace(abro, dose_mg=100.0)
    facts = with_meds(complete_record(within), med("fluvoxamine", "cyp2c19_strong_inhibitor"))
    assert run("JAKI-DDI", facts, region="JP") == []
    # the US and EU entries ("halve the dose") stay unconfirmed: the warning without a dose
    us = one_finding(
        run(
            "JAKI-DDI",
            with_meds(complete_record(abro), med("fluvoxamine", "cyp2c19_strong_inhibitor")),
            region="US",
        )
    )
    assert us.params["action"] == "check_label" and us.suggestions == []


def test_no_interaction_for_another_drug_pair():
    facts = with_meds(complete_record(), med("clarithromycin", "cyp3a4_strong_inhibitor"))
    assert run("JAKI-DDI", facts) == []  # baricitinib is not a CYP3A4 substrate of note


def test_stopped_interacting_medication_is_ignored():
    tofa = order("tofacitinib", dose_mg=5.0, per_day=2.0)
    facts = with_meds(
        complete_record(tofa), med("rifampicin", "cyp3a4_strong_inducer", status="stopped")
    )
    assert run("JAKI-DDI", facts, region="US") == []


def test_ddi_not_assessed_without_medications():
    facts = complete_record(medications=[], unavailable=[unavailable("medications")])
    assert one_not_assessed(run("JAKI-DDI", facts)).rule_id == "JAKI-DDI"


def test_combination_with_biologic_is_warning():
    facts = with_meds(complete_record(), med("adalimumab", "biologic", "tnfi"))
    f = one_finding(run("JAKI-COMBINATION", facts))
    assert f.severity == "warning" and f.params == {
        "combined_with": ["adalimumab"],
        "two_jak": False,
    }


def test_combination_with_another_jak_inhibitor_is_critical():
    facts = with_meds(complete_record(), med("tofacitinib", "jaki"))
    assert one_finding(run("JAKI-COMBINATION", facts)).severity == "critical"


def test_two_jak_inhibitors_in_the_same_request_are_critical():
    first = order("baricitinib")
    second = order("upadacitinib", dose_mg=15.0, ref="MedicationRequest/draft-2")
    facts = replace(complete_record(first), orders=[first, second])
    f = one_finding(run("JAKI-COMBINATION", facts))
    assert f.severity == "critical" and f.evidence[0].ref == "MedicationRequest/draft-2"


def test_renewal_of_the_same_drug_is_not_a_combination():
    facts = with_meds(complete_record(), med("baricitinib", "jaki"))
    assert run("JAKI-COMBINATION", facts) == []


def test_combination_with_tacrolimus():
    facts = with_meds(complete_record(), med("tacrolimus", "potent_immunosuppressant"))
    assert one_finding(run("JAKI-COMBINATION", facts)).severity == "warning"


def test_combination_not_assessed_without_medications():
    facts = complete_record(medications=[], unavailable=[unavailable("medications")])
    assert one_not_assessed(run("JAKI-COMBINATION", facts)).rule_id == "JAKI-COMBINATION"

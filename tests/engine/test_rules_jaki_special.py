"""JAKI-TOPICAL (and its capping of the other rules), JAKI-PARADOXICAL-ROSACEA,
JAKI-FILGOTINIB-FERTILITY, JAKI-GI-PERFORATION."""

from __future__ import annotations

from jaki_support import (
    complete_record,
    med,
    obs,
    one_finding,
    one_not_assessed,
    order,
    problem,
    run,
    unavailable,
    with_meds,
    with_obs,
    with_problems,
)

CREAM = order(
    "ruxolitinib", dose_mg=None, per_day=2.0, indication="vitiligo", route="topical", topical=True
)


def test_topical_ruxolitinib_cream_is_stated():
    f = one_finding(run("JAKI-TOPICAL", complete_record(CREAM)))
    assert f.severity == "info" and f.params == {"drug": "ruxolitinib", "route": "topical"}


def test_delgocitinib_is_topical_whatever_the_route_says():
    delgo = order("delgocitinib", dose_mg=None, route=None, indication="atopic_dermatitis")
    assert one_finding(run("JAKI-TOPICAL", complete_record(delgo))).params["drug"] == "delgocitinib"


def test_oral_jak_inhibitor_is_not_topical():
    assert run("JAKI-TOPICAL", complete_record()) == []


def test_ruxolitinib_without_route_is_not_assessed():
    unknown = order("ruxolitinib", dose_mg=5.0, per_day=2.0, indication="myelofibrosis", route=None)
    assert "route" in one_not_assessed(run("JAKI-TOPICAL", complete_record(unknown))).missing


def test_topical_order_caps_systemic_rules_at_info_and_says_so():
    facts = with_problems(
        complete_record(CREAM, age=70), problem("dvt", active=False, onset_days_ago=30)
    )
    age = one_finding(run("JAKI-AGE-65", facts))
    assert age.severity == "info"
    assert age.params["topical"] is True and age.params["original_severity"] == "warning"
    vte = one_finding(run("JAKI-VTE-HISTORY", facts))
    assert vte.severity == "info" and vte.params["original_severity"] == "critical"


def test_topical_order_skips_dose_rules():
    facts = with_obs(complete_record(CREAM), obs("crcl", 3, 20.0), drop=("crcl",))
    assert run("JAKI-RENAL-DOSE", facts) == []
    assert run("JAKI-DOSE-MAX", facts) == []


def test_paradoxical_rosacea_when_ordered_for_another_indication():
    facts = with_problems(complete_record(), problem("rosacea"))
    f = one_finding(run("JAKI-PARADOXICAL-ROSACEA", facts))
    assert f.severity == "info" and f.params == {"indication": "ra"}


def test_paradoxical_rosacea_applies_to_tyk2():
    tyk2 = order("deucravacitinib", "tyk2", dose_mg=6.0, indication="psoriasis")
    facts = with_problems(complete_record(tyk2), problem("rosacea"))
    assert one_finding(run("JAKI-PARADOXICAL-ROSACEA", facts)).drug == "deucravacitinib"


def test_no_paradoxical_warning_when_rosacea_is_the_indication():
    rosacea = order("abrocitinib", dose_mg=100.0, indication="rosacea")
    facts = with_problems(complete_record(rosacea), problem("rosacea"))
    assert run("JAKI-PARADOXICAL-ROSACEA", facts) == []


def test_paradoxical_rosacea_not_assessed_with_unknown_indication():
    facts = with_problems(complete_record(order(indication=None)), problem("rosacea"))
    assert one_not_assessed(run("JAKI-PARADOXICAL-ROSACEA", facts)).missing == (
        "indication of the order unknown"
    )


def test_paradoxical_rosacea_not_assessed_without_conditions():
    facts = complete_record(unavailable=[unavailable("conditions")])
    assert (
        one_not_assessed(run("JAKI-PARADOXICAL-ROSACEA", facts)).rule_id
        == "JAKI-PARADOXICAL-ROSACEA"
    )


FILGOTINIB = order("filgotinib", dose_mg=200.0)


def test_filgotinib_for_a_man_fires():
    f = one_finding(run("JAKI-FILGOTINIB-FERTILITY", complete_record(FILGOTINIB, sex="male")))
    assert f.severity == "info" and f.evidence[0].value == "male"


def test_filgotinib_for_a_woman_is_quiet():
    assert run("JAKI-FILGOTINIB-FERTILITY", complete_record(FILGOTINIB)) == []


def test_filgotinib_unknown_sex_not_assessed():
    assert one_not_assessed(run("JAKI-FILGOTINIB-FERTILITY", complete_record(FILGOTINIB, sex=None)))


def test_gi_perforation_diverticulitis_history():
    facts = with_problems(
        complete_record(), problem("diverticulitis", active=False, onset_days_ago=3000)
    )
    f = one_finding(run("JAKI-GI-PERFORATION", facts))
    assert f.severity == "warning" and f.params["reasons"] == ["diverticulitis"]


def test_gi_perforation_steroid_above_7_5_with_nsaid():
    facts = with_meds(complete_record(prednisone_mg_day=10.0), med("naproxen", "nsaid"))
    assert one_finding(run("JAKI-GI-PERFORATION", facts)).params["reasons"] == [
        "steroid_with_nsaid"
    ]


def test_gi_perforation_steroid_without_nsaid_is_quiet():
    assert run("JAKI-GI-PERFORATION", complete_record(prednisone_mg_day=20.0)) == []


def test_gi_perforation_not_assessed_without_medications():
    facts = complete_record(unavailable=[unavailable("medications")])
    assert one_not_assessed(run("JAKI-GI-PERFORATION", facts)).rule_id == "JAKI-GI-PERFORATION"


def test_a_topical_and_an_oral_order_in_one_request_are_each_judged_as_they_are():
    """The topical policy is worked out per order: in one request the cream's age finding is
    capped at info and its dose rules skipped, the tablet's are not."""
    from dataclasses import replace

    from cds_service.assess.engine import assess
    from cds_service.assess.registry import Settings
    from cds_service.knowledge import load_knowledge

    tablet = order("tofacitinib", dose_mg=10.0, per_day=2.0, ref="MedicationRequest/tablet")
    facts = replace(complete_record(CREAM, age=70), orders=[CREAM, tablet])
    findings = assess(facts, load_knowledge(), Settings(label_region="US")).findings
    age = {f.order_ref: f for f in findings if f.rule_id == "JAKI-AGE-65"}
    assert age[CREAM.ref].severity == "info" and age[CREAM.ref].params["topical"] is True
    assert age[tablet.ref].severity == "warning" and "topical" not in age[tablet.ref].params
    dose = {f.order_ref for f in findings if f.rule_id == "JAKI-DOSE-MAX"}
    assert CREAM.ref not in dose

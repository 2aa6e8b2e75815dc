"""Every label figure switched on in knowledge/labels.toml, judged through its rule.

One row per figure (drug, region, indication, age, phase, renal value, Child-Pugh class or
count): what a prescriber ordering under that label would see. docs/labels.md lists where each
figure was read.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from jaki_support import (
    KNOWLEDGE,
    ago,
    complete_record,
    obs,
    one_finding,
    one_not_assessed,
    order,
    problem,
    run,
    with_meds,
    with_obs,
    with_problems,
)

from cds_service.model import Medication

RENAL = ("crcl", "egfr", "creatinine")


def on_drug(facts, drug: str, weeks: float | None):
    """The patient already takes `drug`, started `weeks` ago (None: start not recorded)."""
    started = None if weeks is None else ago(int(weeks * 7))
    current = Medication(
        drug=drug,
        classes=frozenset({"jaki"}),
        ref=f"MedicationRequest/{drug}-current",
        status="active",
        authored=started,
        display=drug,
    )
    return with_meds(facts, current)


# drug, region, indication, mg, per day, age, weeks on the drug (None = new start),
# expected: None (within the label) or (severity, suggested mg, per day)
DOSE = [
    # the known defects: US upadacitinib AD from 65, IBD induction is not the RA dose
    ("upadacitinib", "US", "atopic_dermatitis", 30.0, 1.0, 67, None, ("warning", 15.0, 1.0)),
    ("upadacitinib", "US", "atopic_dermatitis", 30.0, 1.0, 64, None, None),
    ("upadacitinib", "US", "ulcerative_colitis", 45.0, 1.0, 45, None, None),
    ("upadacitinib", "US", "ulcerative_colitis", 45.0, 1.0, 45, 4, None),
    ("upadacitinib", "US", "ulcerative_colitis", 45.0, 1.0, 45, 10, ("warning", 15.0, 1.0)),
    ("upadacitinib", "US", "ulcerative_colitis", 30.0, 1.0, 45, 30, None),
    ("upadacitinib", "US", "crohns", 45.0, 1.0, 45, 10, None),
    ("upadacitinib", "US", "crohns", 45.0, 1.0, 45, 13, ("warning", 15.0, 1.0)),
    ("upadacitinib", "US", "ra", 30.0, 1.0, 45, None, ("warning", 15.0, 1.0)),
    ("upadacitinib", "US", "ra", 45.0, 1.0, 45, None, ("warning", 15.0, 1.0)),
    ("upadacitinib", "EU", "ra", 15.0, 1.0, 45, None, None),
    ("upadacitinib", "EU", "ra", 30.0, 1.0, 45, None, ("warning", 15.0, 1.0)),
    ("upadacitinib", "EU", "ulcerative_colitis", 45.0, 1.0, 45, 12, None),
    ("upadacitinib", "EU", "ulcerative_colitis", 45.0, 1.0, 45, 17, ("warning", 15.0, 1.0)),
    ("upadacitinib", "EU", "atopic_dermatitis", 30.0, 1.0, 16, None, ("warning", 15.0, 1.0)),
    ("upadacitinib", "EU", "atopic_dermatitis", 30.0, 1.0, 40, None, None),
    ("upadacitinib", "EU", "atopic_dermatitis", 30.0, 1.0, 66, None, ("warning", 15.0, 1.0)),
    ("upadacitinib", "JP", "ulcerative_colitis", 45.0, 1.0, 45, None, None),
    ("upadacitinib", "JP", "ra", 30.0, 1.0, 45, None, ("warning", 15.0, 1.0)),
    ("upadacitinib", "JP", "atopic_dermatitis", 30.0, 1.0, 70, None, None),
    ("filgotinib", "EU", "ra", 200.0, 1.0, 70, None, ("warning", 100.0, 1.0)),
    ("filgotinib", "EU", "ra", 200.0, 1.0, 64, None, None),
    ("filgotinib", "EU", "ulcerative_colitis", 200.0, 1.0, 70, None, None),
    ("filgotinib", "JP", "ra", 200.0, 1.0, 70, None, None),
    ("filgotinib", "JP", "ra", 300.0, 1.0, 45, None, ("warning", 200.0, 1.0)),
    ("baricitinib", "EU", "ra", 4.0, 1.0, 66, None, ("warning", 2.0, 1.0)),
    ("baricitinib", "EU", "alopecia_areata", 4.0, 1.0, 66, None, None),
    ("baricitinib", "JP", "ra", 4.0, 1.0, 80, None, None),
    ("baricitinib", "US", "alopecia_areata", 4.0, 1.0, 45, None, None),
    ("tofacitinib", "JP", "ra", 10.0, 2.0, 45, None, ("critical", 5.0, 2.0)),
    ("tofacitinib", "JP", "ulcerative_colitis", 10.0, 2.0, 45, None, None),
    ("tofacitinib", "US", "ulcerative_colitis", 11.0, 2.0, 45, None, None),
    ("tofacitinib", "EU", "ra", 11.0, 1.0, 45, None, None),
    ("abrocitinib", "EU", "atopic_dermatitis", 200.0, 1.0, 70, None, ("warning", 100.0, 1.0)),
    ("abrocitinib", "US", "atopic_dermatitis", 200.0, 1.0, 70, None, None),
    ("peficitinib", "JP", "ra", 150.0, 1.0, 70, None, None),
    ("abrocitinib", "JP", "atopic_dermatitis", 200.0, 1.0, 70, None, None),
    ("abrocitinib", "JP", "atopic_dermatitis", 300.0, 1.0, 30, None, ("warning", 100.0, 1.0)),
    ("peficitinib", "JP", "ra", 200.0, 1.0, 45, None, ("warning", 150.0, 1.0)),
]


@pytest.mark.parametrize(
    ("drug", "region", "indication", "mg", "per_day", "age", "weeks", "expected"), DOSE
)
def test_dose_limit_per_indication_age_and_phase(
    drug, region, indication, mg, per_day, age, weeks, expected
):
    the_order = order(drug, dose_mg=mg, per_day=per_day, indication=indication)
    facts = complete_record(the_order, age=age)
    if weeks is not None:
        facts = on_drug(facts, drug, weeks)
    results = run("JAKI-DOSE-MAX", facts, region=region)
    if expected is None:
        assert results == [], results
        return
    severity, dose_mg, times = expected
    f = one_finding(results)
    assert f.severity == severity
    assert f.suggestions[0].params == {"dose_mg": dose_mg, "per_day": times}
    assert f.params["region"] == region and f"[{region}]" in f.source


def test_maintenance_finding_names_the_phase_and_the_current_treatment():
    uc = order("upadacitinib", dose_mg=45.0, indication="ulcerative_colitis")
    facts = on_drug(complete_record(uc), "upadacitinib", 10)
    f = one_finding(run("JAKI-DOSE-MAX", facts, region="US"))
    assert f.params["phase"] == "maintenance" and f.params["weeks"] == 8
    assert f.params["off_label"] is False and f.params["max_daily_mg"] == 30.0
    assert any(e.label == "medication:upadacitinib" for e in f.evidence)


def test_phase_unknown_when_current_treatment_has_no_start_date():
    uc = order("upadacitinib", dose_mg=45.0, indication="ulcerative_colitis")
    facts = on_drug(complete_record(uc), "upadacitinib", None)
    na = one_not_assessed(run("JAKI-DOSE-MAX", facts, region="US"))
    assert na.missing.startswith("start date of the current treatment not recorded")
    # a dose above both phases' maximum is judged all the same
    over = replace(uc, dose_mg=60.0)
    facts = on_drug(complete_record(over), "upadacitinib", None)
    assert one_finding(run("JAKI-DOSE-MAX", facts, region="US")).severity == "warning"


def test_a_draft_of_the_same_drug_is_not_treatment_under_way():
    uc = order("upadacitinib", dose_mg=45.0, indication="ulcerative_colitis")
    draft = Medication(
        drug="upadacitinib",
        classes=frozenset({"jaki"}),
        ref="MedicationRequest/other-draft",
        status="draft",
        authored=ago(200),
    )
    assert run("JAKI-DOSE-MAX", with_meds(complete_record(uc), draft), region="US") == []


# drug, region, indication, mg, per day, measure, value, expected: None | "critical" | (mg, per day)
RENAL_CASES = [
    ("tofacitinib", "EU", "ra", 5.0, 2.0, "crcl", 20.0, (5.0, 1.0)),
    ("tofacitinib", "EU", "ra", 5.0, 2.0, "crcl", 40.0, None),
    ("tofacitinib", "EU", "ulcerative_colitis", 10.0, 2.0, "crcl", 20.0, (5.0, 2.0)),
    ("tofacitinib", "US", "ra", 11.0, 1.0, "crcl", 40.0, (5.0, 1.0)),
    ("tofacitinib", "US", "ulcerative_colitis", 10.0, 2.0, "crcl", 40.0, (5.0, 2.0)),
    ("tofacitinib", "JP", "ra", 5.0, 2.0, "crcl", 40.0, (5.0, 1.0)),
    ("tofacitinib", "TW", "ra", 5.0, 2.0, "crcl", 40.0, (5.0, 1.0)),
    ("baricitinib", "EU", "ra", 4.0, 1.0, "crcl", 45.0, (2.0, 1.0)),
    ("baricitinib", "JP", "ra", 4.0, 1.0, "egfr", 45.0, (2.0, 1.0)),
    ("baricitinib", "JP", "ra", 2.0, 1.0, "egfr", 25.0, "critical"),
    ("filgotinib", "EU", "ra", 200.0, 1.0, "crcl", 40.0, (100.0, 1.0)),
    ("filgotinib", "EU", "ra", 100.0, 1.0, "crcl", 10.0, "critical"),
    ("filgotinib", "JP", "ra", 200.0, 1.0, "egfr", 20.0, (100.0, 1.0)),
    ("filgotinib", "JP", "ulcerative_colitis", 100.0, 1.0, "egfr", 10.0, "critical"),
    ("abrocitinib", "EU", "atopic_dermatitis", 200.0, 1.0, "egfr", 45.0, (100.0, 1.0)),
    ("abrocitinib", "EU", "atopic_dermatitis", 100.0, 1.0, "egfr", 20.0, None),
    ("abrocitinib", "JP", "atopic_dermatitis", 200.0, 1.0, "egfr", 45.0, (100.0, 1.0)),
    ("abrocitinib", "JP", "atopic_dermatitis", 100.0, 1.0, "egfr", 45.0, None),
    ("abrocitinib", "JP", "atopic_dermatitis", 100.0, 1.0, "egfr", 20.0, (50.0, 1.0)),
]


@pytest.mark.parametrize(
    ("drug", "region", "indication", "mg", "per_day", "measure", "value", "expected"),
    RENAL_CASES,
)
def test_renal_figure(drug, region, indication, mg, per_day, measure, value, expected):
    the_order = order(drug, dose_mg=mg, per_day=per_day, indication=indication)
    facts = with_obs(complete_record(the_order), obs(measure, 3, value), drop=RENAL)
    results = run("JAKI-RENAL-DOSE", facts, region=region)
    if expected is None:
        assert results == [], results
    elif expected == "critical":
        f = one_finding(results)
        assert f.severity == "critical" and f.params["action"] == "not_recommended"
    else:
        f = one_finding(results)
        assert f.suggestions[0].params == {"dose_mg": expected[0], "per_day": expected[1]}


# drug, region, Child-Pugh concept, mg, per day, expected: "critical" | (mg, per day) | None
HEPATIC = [
    ("tofacitinib", "EU", "hepatic_impairment_moderate", 5.0, 2.0, (5.0, 1.0)),
    ("tofacitinib", "EU", "hepatic_impairment_severe", 5.0, 1.0, "critical"),
    ("tofacitinib", "US", "hepatic_impairment_moderate", 11.0, 1.0, (5.0, 1.0)),
    ("tofacitinib", "TW", "hepatic_impairment_moderate", 5.0, 2.0, (5.0, 1.0)),
    ("tofacitinib", "TW", "hepatic_impairment_severe", 5.0, 1.0, "critical"),
    ("baricitinib", "EU", "hepatic_impairment_moderate", 4.0, 1.0, None),
    ("baricitinib", "JP", "hepatic_impairment_severe", 2.0, 1.0, "critical"),
    ("filgotinib", "EU", "hepatic_impairment_severe", 100.0, 1.0, "critical"),
    ("filgotinib", "JP", "hepatic_impairment_severe", 100.0, 1.0, "critical"),
    ("abrocitinib", "EU", "hepatic_impairment_severe", 100.0, 1.0, "critical"),
    ("abrocitinib", "EU", "hepatic_impairment_moderate", 200.0, 1.0, None),
    ("upadacitinib", "EU", "hepatic_impairment_severe", 15.0, 1.0, "critical"),
    ("peficitinib", "JP", "hepatic_impairment_moderate", 150.0, 1.0, (50.0, 1.0)),
    ("peficitinib", "JP", "hepatic_impairment_severe", 50.0, 1.0, "critical"),
    ("ritlecitinib", "EU", "hepatic_impairment_severe", 50.0, 1.0, "critical"),
    ("ritlecitinib", "JP", "hepatic_impairment_severe", 50.0, 1.0, "critical"),
]


@pytest.mark.parametrize(("drug", "region", "concept", "mg", "per_day", "expected"), HEPATIC)
def test_hepatic_figure(drug, region, concept, mg, per_day, expected):
    indication = "atopic_dermatitis" if drug == "abrocitinib" else "ra"
    the_order = order(drug, dose_mg=mg, per_day=per_day, indication=indication)
    facts = with_problems(complete_record(the_order), problem(concept))
    results = run("JAKI-HEPATIC", facts, region=region)
    if expected is None:
        assert results == [], results
    elif expected == "critical":
        assert one_finding(results).severity == "critical"
    else:
        f = one_finding(results)
        assert f.suggestions[0].params == {"dose_mg": expected[0], "per_day": expected[1]}


# rule, concept, drug, region, low (fires), ok (quiet)
LABS = [
    ("JAKI-LAB-ALC", "alc", "tofacitinib", "EU", 740.0, 750.0),
    ("JAKI-LAB-ANC", "anc", "tofacitinib", "EU", 990.0, 1000.0),
    ("JAKI-LAB-HB", "hb", "tofacitinib", "EU", 8.9, 9.0),
    ("JAKI-LAB-ALC", "alc", "tofacitinib", "US", 490.0, 500.0),
    ("JAKI-LAB-HB", "hb", "tofacitinib", "US", 8.9, 9.0),
    ("JAKI-LAB-HB", "hb", "tofacitinib", "JP", 8.9, 9.0),
    ("JAKI-LAB-ANC", "anc", "tofacitinib", "TW", 990.0, 1000.0),
    ("JAKI-LAB-ANC", "anc", "baricitinib", "US", 990.0, 1000.0),
    ("JAKI-LAB-HB", "hb", "baricitinib", "US", 7.9, 8.0),
    ("JAKI-LAB-ANC", "anc", "filgotinib", "JP", 990.0, 1000.0),
    ("JAKI-LAB-HB", "hb", "filgotinib", "EU", 7.9, 8.0),
    ("JAKI-LAB-HB", "hb", "filgotinib", "JP", 7.9, 8.0),
    ("JAKI-LAB-ANC", "anc", "abrocitinib", "EU", 1150.0, 1200.0),
    ("JAKI-LAB-HB", "hb", "abrocitinib", "EU", 9.9, 10.0),
    ("JAKI-LAB-ANC", "anc", "abrocitinib", "US", 990.0, 1000.0),
    ("JAKI-LAB-HB", "hb", "abrocitinib", "US", 7.9, 8.0),
    ("JAKI-LAB-PLT", "platelets", "abrocitinib", "US", 149000.0, 150000.0),
    ("JAKI-LAB-ALC", "alc", "ritlecitinib", "US", 490.0, 500.0),
    ("JAKI-LAB-ANC", "anc", "upadacitinib", "US", 990.0, 1000.0),
    ("JAKI-LAB-HB", "hb", "upadacitinib", "US", 7.9, 8.0),
    ("JAKI-LAB-ANC", "anc", "baricitinib", "JP", 990.0, 1000.0),
    ("JAKI-LAB-ALC", "alc", "baricitinib", "JP", 490.0, 500.0),
    ("JAKI-LAB-PLT", "platelets", "ritlecitinib", "EU", 99000.0, 100000.0),
    ("JAKI-LAB-ANC", "anc", "ritlecitinib", "JP", 990.0, 1000.0),
    ("JAKI-LAB-HB", "hb", "ritlecitinib", "JP", 7.9, 8.0),
    ("JAKI-LAB-ANC", "anc", "peficitinib", "JP", 990.0, 1000.0),
    ("JAKI-LAB-ALC", "alc", "peficitinib", "JP", 490.0, 500.0),
    ("JAKI-LAB-HB", "hb", "peficitinib", "JP", 7.9, 8.0),
]


@pytest.mark.parametrize(("rule_id", "concept", "drug", "region", "low", "ok"), LABS)
def test_starting_lab_floor(rule_id, concept, drug, region, low, ok):
    the_order = order(drug)
    low_result = with_obs(complete_record(the_order), obs(concept, 1, low))
    f = one_finding(run(rule_id, low_result, region))
    assert f.severity == "critical" and f.params["threshold"] == ok
    assert f.params["label"] == KNOWLEDGE.files["labels"][drug][region]["label"]
    assert run(rule_id, with_obs(complete_record(the_order), obs(concept, 1, ok)), region) == []


@pytest.mark.parametrize(
    ("rule_id", "concept", "drug", "region", "value"),
    [
        ("JAKI-LAB-ANC", "anc", "ritlecitinib", "US", 300.0),
        ("JAKI-LAB-HB", "hb", "ritlecitinib", "US", 6.0),
        ("JAKI-LAB-ANC", "anc", "ritlecitinib", "EU", 300.0),
        ("JAKI-LAB-PLT", "platelets", "baricitinib", "EU", 50000.0),
        ("JAKI-LAB-PLT", "platelets", "tofacitinib", "US", 50000.0),
    ],
)
def test_count_the_label_does_not_name_is_not_judged(rule_id, concept, drug, region, value):
    facts = with_obs(complete_record(order(drug)), obs(concept, 1, value))
    assert run(rule_id, facts, region=region) == []


def test_lab_floor_of_an_unread_label_is_not_configured():
    facts = with_obs(complete_record(order("baricitinib")), obs("anc", 1, 300.0))
    na = one_not_assessed(run("JAKI-LAB-ANC", facts, region="TW"))
    assert na.missing == "label rule not configured for this region (TW)"


def test_unconfirmed_count_stays_off_until_the_institution_enables_it():
    labels = {
        **KNOWLEDGE.files["labels"],
        "baricitinib": {
            **KNOWLEDGE.files["labels"]["baricitinib"],
            "EU": {
                **KNOWLEDGE.files["labels"]["baricitinib"]["EU"],
                "labs": {
                    **KNOWLEDGE.files["labels"]["baricitinib"]["EU"]["labs"],
                    "unconfirmed": ["anc"],
                },
            },
        },
    }
    knowledge = replace(KNOWLEDGE, files={**KNOWLEDGE.files, "labels": labels})
    facts = with_obs(complete_record(order("baricitinib")), obs("anc", 1, 300.0))
    assert one_not_assessed(run("JAKI-LAB-ANC", facts, knowledge=knowledge)).missing.endswith(
        "(EU)"
    )
    rules = dict(knowledge.rules)
    rules["JAKI-LAB-ANC"] = {**rules["JAKI-LAB-ANC"], "enable_unchecked": ["baricitinib:EU"]}
    enabled = replace(knowledge, rules=rules)
    assert one_finding(run("JAKI-LAB-ANC", facts, knowledge=enabled)).severity == "critical"
    # the other counts of the same label judge as before
    alc = with_obs(complete_record(order("baricitinib")), obs("alc", 1, 300.0))
    assert one_finding(run("JAKI-LAB-ALC", alc, knowledge=knowledge)).severity == "critical"


def test_every_checked_section_is_cited():
    """A figure that judges names its label: document, issuer, version, URL, section, where read."""
    for drug, regions in KNOWLEDGE.files["labels"].items():
        for region_id, table in regions.items():
            if region_id == "ddi" or table.get("authorised") is False:
                continue
            for key in ("document", "issuer", "version", "url", "label", "source"):
                assert table.get(key), (drug, region_id, key)
            assert table["url"].startswith("https://"), (drug, region_id)
            for section in ("dose", "renal", "hepatic", "labs"):
                part = table.get(section)
                if isinstance(part, dict) and part.get("checked"):
                    assert part.get("section") and part.get("read") and part.get("check"), (
                        drug,
                        region_id,
                        section,
                    )


def test_upadacitinib_us_renal_by_indication():
    """AD 30 mg at eGFR 20 -> 15 mg; ESRD not recommended; the unread UC band stays off."""
    ad = order("upadacitinib", dose_mg=30.0, indication="atopic_dermatitis")
    facts = with_obs(complete_record(ad), obs("egfr", 3, 20.0), drop=RENAL)
    f = one_finding(run("JAKI-RENAL-DOSE", facts, region="US"))
    assert f.suggestions[0].params == {"dose_mg": 15.0, "per_day": 1.0}
    ra = order("upadacitinib", dose_mg=15.0, indication="ra")
    assert run("JAKI-RENAL-DOSE", with_obs(complete_record(ra), obs("egfr", 3, 20.0)), "US") == []
    esrd = with_obs(complete_record(ra), obs("egfr", 3, 10.0), drop=RENAL)
    assert one_finding(run("JAKI-RENAL-DOSE", esrd, region="US")).severity == "critical"
    uc = order("upadacitinib", dose_mg=45.0, indication="ulcerative_colitis")
    unread = with_obs(complete_record(uc), obs("egfr", 3, 20.0), drop=RENAL)
    na = one_not_assessed(run("JAKI-RENAL-DOSE", unread, region="US"))
    assert na.missing == "label rule not configured for this region (US)"


@pytest.mark.parametrize("region", ["EU", "US", "JP"])
def test_deucravacitinib_severe_hepatic_impairment(region):
    tyk2 = order("deucravacitinib", "tyk2", dose_mg=6.0, indication="psoriasis")
    facts = with_problems(complete_record(tyk2), problem("hepatic_impairment_severe"))
    f = one_finding(run("JAKI-HEPATIC", facts, region=region))
    assert f.severity == "critical" and f"[{region}]" in f.source
    moderate = with_problems(complete_record(tyk2), problem("hepatic_impairment_moderate"))
    assert run("JAKI-HEPATIC", moderate, region=region) == []


def test_baricitinib_japan_haemoglobin_floor_not_read_stays_off():
    facts = with_obs(complete_record(order("baricitinib")), obs("hb", 1, 7.0))
    na = one_not_assessed(run("JAKI-LAB-HB", facts, region="JP"))
    assert na.missing == "label rule not configured for this region (JP)"


@pytest.mark.parametrize("region", ["EU", "JP"])
@pytest.mark.parametrize(
    ("rule_id", "concept", "value"),
    [("JAKI-LAB-ANC", "anc", 300.0), ("JAKI-LAB-HB", "hb", 6.0), ("JAKI-LAB-ALC", "alc", 200.0)],
)
def test_delgocitinib_labels_set_no_count_floor(region, rule_id, concept, value):
    """Anzupgo SmPC and the Japanese insert: no blood-count condition: nothing to judge, and
    no 'not configured' either; the TW label was not read."""
    cream = order("delgocitinib", dose_mg=None, per_day=2.0, indication="atopic_dermatitis")
    facts = with_obs(complete_record(cream), obs(concept, 1, value))
    assert run(rule_id, facts, region=region) == []
    na = one_not_assessed(run(rule_id, facts, region="TW"))
    assert na.missing == "label rule not configured for this region (TW)"

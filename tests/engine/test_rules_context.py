"""Disease-context rules (clinical/SPEC.md §4): for every rule id a case where it fires, one
where it must not, and one where it is not assessed for lack of data. Facts are built directly
(the rules are pure functions) and run through the engine with only that rule enabled."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from cds_service.assess import Settings, assess
from cds_service.knowledge import load_knowledge
from cds_service.model import (
    Facts,
    Finding,
    Medication,
    NotAssessed,
    Observed,
    Order,
    Problem,
    Unavailable,
)

TODAY = date(2026, 11, 23)
UNITS = {
    "tjc28": "{count}",
    "sjc28": "{count}",
    "ptga_mm": "mm",
    "prga_mm": "mm",
    "patient_pain_mm": "mm",
    "esr": "mm/h",
    "crp": "mg/L",
    "morning_stiffness_min": "min",
    "elevation_upper_limbs": "{score}",
    "ck": "U/L",
    "ferritin": "ng/mL",
    "spo2": "%",
    "kl6": "U/mL",
}
K = load_knowledge()


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def order(
    drug: str = "tofacitinib", cls: str = "jaki", indication: str | None = "ra", **kw
) -> Order:
    return Order(
        drug=drug,
        drug_class=cls,
        ref="MedicationRequest/draft-1",
        resource={},
        indication=indication,
        **kw,
    )


def problem(*concepts: str, active: bool = True) -> Problem:
    return Problem(
        concepts=frozenset(concepts),
        ref=f"Condition/{'-'.join(concepts)}",
        active=active,
        display=concepts[0],
        onset=days_ago(400),
    )


def obs(
    concept: str, value: float | None, when: date, interpretation: str | None = None
) -> Observed:
    return Observed(
        concept=concept,
        when=when,
        ref=f"Observation/{concept}-{when.isoformat()}",
        value=value,
        unit=UNITS.get(concept) if value is not None else None,
        interpretation=interpretation,
    )


def visit(when: date, **values: float) -> list[Observed]:
    return [obs(c, v, when) for c, v in values.items()]


def med(drug: str, *classes: str, status: str = "active") -> Medication:
    return Medication(
        drug=drug,
        classes=frozenset(classes),
        ref=f"MedicationRequest/{drug}",
        status=status,
        authored=days_ago(60),
    )


def facts(*observations: Observed, orders=(), problems=(), medications=(), **kw) -> Facts:
    by: dict[str, list[Observed]] = {}
    for o in observations:
        by.setdefault(o.concept, []).append(o)
    for values in by.values():
        values.sort(key=lambda o: o.when, reverse=True)
    return Facts(
        today=TODAY,
        orders=list(orders),
        observations=by,
        problems=list(problems),
        medications=list(medications),
        **kw,
    )


def run(f: Facts, rule_id: str, knowledge=K) -> tuple[list[Finding], list[NotAssessed]]:
    a = assess(f, knowledge, Settings(enabled_rules=(rule_id,)))
    return (
        [x for x in a.findings if x.rule_id == rule_id],
        [x for x in a.not_assessed if x.rule_id == rule_id],
    )


def with_rule(rule_id: str, **changes) -> object:
    rules = {**K.rules, rule_id: {**K.rules[rule_id], **changes}}
    return dataclasses.replace(K, rules=rules)


RA_VISIT = {"tjc28": 4, "sjc28": 2, "esr": 20, "crp": 12, "ptga_mm": 40, "prga_mm": 30}
LOW_VISIT = {
    "tjc28": 1,
    "sjc28": 0,
    "esr": 8,
    "ptga_mm": 10,
    "prga_mm": 5,
}  # DAS28-ESR 0.56 + 0.70*2.079442 + 0.14 = 2.16; CDAI 1 + 0 + 1.0 + 0.5 = 2.5


# ------------------------------------------------------------------------------ RA-ACTIVITY


def test_ra_activity_fires_for_a_jak_inhibitor_ordered_for_ra():
    f = facts(*visit(days_ago(10), **RA_VISIT), *visit(days_ago(50), **RA_VISIT), orders=[order()])
    (finding,), na = run(f, "RA-ACTIVITY")
    assert na == []
    assert (finding.severity, finding.category, finding.order_ref) == (
        "info",
        "activity",
        "MedicationRequest/draft-1",
    )
    latest = {s["id"]: s for s in finding.params["latest"]}
    assert latest["DAS28-ESR"]["value"] == 4.17 and latest["DAS28-ESR"]["category"] == "moderate"
    assert latest["CDAI"]["value"] == 13.0 and latest["SDAI"]["value"] == 14.2
    assert [t["date"] for t in finding.params["trend"]["CDAI"]] == [
        days_ago(10).isoformat(),
        days_ago(50).isoformat(),
    ]
    assert finding.params["stale"] is False
    assert {e.label for e in finding.evidence} >= {"tjc28", "sjc28", "esr", "crp"}
    assert finding.source


def test_ra_activity_runs_on_its_own_for_patient_view():
    f = facts(*visit(days_ago(10), **RA_VISIT), problems=[problem("ra")])
    (finding,), _ = run(f, "RA-ACTIVITY")
    assert finding.order_ref is None and finding.drug is None


def test_ra_activity_once_per_order_on_order_hooks():
    f = facts(*visit(days_ago(10), **RA_VISIT), orders=[order()], problems=[problem("ra")])
    findings, _ = run(f, "RA-ACTIVITY")
    assert [x.order_ref for x in findings] == ["MedicationRequest/draft-1"]


def test_ra_activity_says_stale():
    f = facts(*visit(days_ago(200), **RA_VISIT), orders=[order()])
    (finding,), _ = run(f, "RA-ACTIVITY")
    assert finding.params["stale"] is True


def test_ra_activity_does_not_fire_for_another_indication():
    f = facts(*visit(days_ago(10), **RA_VISIT), orders=[order(indication="atopic_dermatitis")])
    assert run(f, "RA-ACTIVITY") == ([], [])


def test_ra_activity_not_assessed_without_scores():
    f = facts(orders=[order()])
    findings, (na,) = run(f, "RA-ACTIVITY")
    assert findings == []
    assert na.missing == "no DAS28, CDAI or SDAI on file" and "tjc28" in na.concepts


# ------------------------------------------------------------------------------ RA-LOW-ACTIVITY


def test_ra_low_activity_fires_when_escalating_in_remission():
    f = facts(*visit(days_ago(10), **LOW_VISIT), orders=[order()])
    (finding,), _ = run(f, "RA-LOW-ACTIVITY")
    assert {s["id"]: s["category"] for s in finding.params["scores"]} == {
        "DAS28-ESR": "remission",
        "CDAI": "remission",
    }


def test_ra_low_activity_quiet_when_activity_is_moderate():
    assert run(facts(*visit(days_ago(10), **RA_VISIT), orders=[order()]), "RA-LOW-ACTIVITY") == (
        [],
        [],
    )


def test_ra_low_activity_quiet_when_one_index_of_the_visit_is_not_low():
    # DAS28-ESR 2.15 remission but CDAI 1 + 0 + 5 + 5 = 11 moderate at the same visit
    f = facts(
        *visit(days_ago(10), tjc28=1, sjc28=0, esr=8, ptga_mm=50, prga_mm=50), orders=[order()]
    )
    assert run(f, "RA-LOW-ACTIVITY") == ([], [])


def test_ra_low_activity_quiet_for_a_continued_drug():
    f = facts(
        *visit(days_ago(10), **LOW_VISIT),
        orders=[order()],
        medications=[med("tofacitinib", "jaki")],
    )
    assert run(f, "RA-LOW-ACTIVITY") == ([], [])


def test_ra_low_activity_not_assessed_when_the_newest_score_is_stale():
    f = facts(*visit(days_ago(130), **LOW_VISIT), orders=[order()])
    findings, (na,) = run(f, "RA-LOW-ACTIVITY")
    assert findings == [] and na.since == days_ago(120)
    assert na.missing == f"no DAS28, CDAI or SDAI since {days_ago(120).isoformat()}"


# ------------------------------------------------------------------------------ RA-PAYER-DAS28


def test_ra_payer_das28_is_off_by_default():
    assert K.rules["RA-PAYER-DAS28"]["enabled"] is False
    assert run(facts(*visit(days_ago(10), **RA_VISIT), orders=[order()]), "RA-PAYER-DAS28") == (
        [],
        [],
    )


def test_ra_payer_das28_fires_when_enabled_and_das28_is_at_or_below_threshold():
    k = with_rule("RA-PAYER-DAS28", enabled=True)
    (finding,), _ = run(
        facts(*visit(days_ago(10), **RA_VISIT), orders=[order()]), "RA-PAYER-DAS28", k
    )
    assert finding.params["das28"] == 4.17 and finding.params["min_das28"] == 5.1


def test_ra_payer_das28_quiet_when_das28_is_above_threshold():
    k = with_rule("RA-PAYER-DAS28", enabled=True)
    high = visit(days_ago(10), tjc28=9, sjc28=4, esr=36, ptga_mm=50)  # 5.45
    assert run(facts(*high, orders=[order()]), "RA-PAYER-DAS28", k) == ([], [])


def test_ra_payer_das28_not_assessed_without_a_recent_das28():
    k = with_rule("RA-PAYER-DAS28", enabled=True)
    findings, (na,) = run(
        facts(*visit(days_ago(100), **RA_VISIT), orders=[order()]), "RA-PAYER-DAS28", k
    )
    assert findings == [] and na.since == days_ago(90) and "Taiwan NHI" in na.missing


# ------------------------------------------------------------------------------ PMR

PMR_VISIT = {
    "crp": 22,
    "patient_pain_mm": 66,
    "prga_mm": 68,
    "morning_stiffness_min": 120,
    "elevation_upper_limbs": 1,
}


def test_pmr_activity_fires_with_score_and_flare():
    f = facts(*visit(days_ago(3), **PMR_VISIT), orders=[order("baricitinib", indication="pmr")])
    (finding,), _ = run(f, "PMR-ACTIVITY")
    latest = finding.params["latest"][0]
    assert (latest["id"], latest["value"], latest["category"]) == ("PMR-AS-CRP", 28.6, "high")
    assert finding.params["flare"] == "yes"


def test_pmr_activity_on_patient_view():
    f = facts(*visit(days_ago(3), **PMR_VISIT), problems=[problem("pmr")])
    (finding,), _ = run(f, "PMR-ACTIVITY")
    assert finding.order_ref is None


def test_pmr_activity_quiet_for_ra():
    assert run(facts(*visit(days_ago(3), **PMR_VISIT), orders=[order()]), "PMR-ACTIVITY") == (
        [],
        [],
    )


def test_pmr_activity_not_assessed_without_components():
    findings, (na,) = run(facts(orders=[order("baricitinib", indication="pmr")]), "PMR-ACTIVITY")
    assert findings == [] and "elevation_upper_limbs" in na.concepts


def test_pmr_off_label_fires_for_a_jak_inhibitor_for_pmr():
    (finding,), _ = run(facts(orders=[order("baricitinib", indication="pmr")]), "PMR-OFF-LABEL")
    assert "BACHELOR" in finding.params["trial"] and "4 mg" in finding.params["regimen"]


def test_pmr_off_label_quiet_for_ra_and_for_biologics():
    assert run(facts(orders=[order("baricitinib")]), "PMR-OFF-LABEL") == ([], [])
    assert run(facts(orders=[order("tocilizumab", "biologic", "pmr")]), "PMR-OFF-LABEL") == ([], [])


def test_pmr_off_label_not_assessed_when_the_indication_is_unknown_in_a_pmr_patient():
    f = facts(orders=[order("baricitinib", indication=None)], problems=[problem("pmr")])
    findings, (na,) = run(f, "PMR-OFF-LABEL")
    assert findings == [] and "indication" in na.missing


def test_pmr_gca_signs_fires_on_jaw_claudication():
    f = facts(
        orders=[order("baricitinib", indication="pmr")],
        problems=[problem("pmr"), problem("jaw_claudication")],
    )
    (finding,), _ = run(f, "PMR-GCA-SIGNS")
    assert finding.severity == "warning" and finding.params["signs"] == ["jaw_claudication"]
    assert finding.evidence[0].ref == "Condition/jaw_claudication"


def test_pmr_gca_signs_quiet_without_signs_or_with_resolved_headache():
    f = facts(
        orders=[order("baricitinib", indication="pmr")],
        problems=[problem("pmr"), problem("headache", active=False)],
    )
    assert run(f, "PMR-GCA-SIGNS") == ([], [])


def test_pmr_gca_signs_not_assessed_when_conditions_could_not_be_read():
    f = facts(
        orders=[order("baricitinib", indication="pmr")],
        unavailable=[Unavailable("conditions", "timeout")],
    )
    findings, (na,) = run(f, "PMR-GCA-SIGNS")
    assert findings == [] and "gca" in na.concepts


# ------------------------------------------------------------------------------ myositis

MYO = [problem("dermatomyositis", "myositis"), problem("ild")]


def test_mda5_ild_risk_fires_and_lists_the_factors():
    f = facts(
        obs("anti_mda5", None, days_ago(30), "positive"),
        obs("ferritin", 820, days_ago(5)),
        obs("spo2", 97, days_ago(5)),
        obs("crp", 4, days_ago(5)),
        obs("kl6", 600, days_ago(5)),
        orders=[order(indication="dermatomyositis")],
        problems=MYO,
        age=66,
    )
    (finding,), _ = run(f, "MYO-MDA5-ILD-RISK")
    assert finding.severity == "warning"
    assert finding.params["factors"] == ["age", "ferritin"] and finding.params["missing"] == []
    assert {e.label for e in finding.evidence} >= {"anti_mda5", "ferritin", "age"}


def test_mda5_ild_risk_quiet_when_mda5_negative():
    f = facts(
        obs("anti_mda5", None, days_ago(30), "negative"),
        obs("ferritin", 900, days_ago(5)),
        problems=MYO,
        age=70,
    )
    assert run(f, "MYO-MDA5-ILD-RISK") == ([], [])


def test_mda5_ild_risk_quiet_when_every_factor_was_measured_normal():
    f = facts(
        obs("anti_mda5", None, days_ago(30), "positive"),
        obs("ferritin", 120, days_ago(5)),
        obs("spo2", 98, days_ago(5)),
        obs("crp", 4, days_ago(5)),
        obs("kl6", 400, days_ago(5)),
        problems=MYO,
        age=45,
    )
    assert run(f, "MYO-MDA5-ILD-RISK") == ([], [])


def test_mda5_ild_risk_not_assessed_without_mda5_result():
    findings, (na,) = run(facts(problems=MYO, age=70), "MYO-MDA5-ILD-RISK")
    assert findings == [] and na.concepts == ("anti_mda5",)


def test_mda5_ild_risk_not_assessed_when_risk_labs_are_missing():
    f = facts(obs("anti_mda5", None, days_ago(30), "positive"), problems=MYO, age=45)
    findings, (na,) = run(f, "MYO-MDA5-ILD-RISK")
    assert findings == [] and set(na.concepts) == {"spo2", "crp", "ferritin", "kl6"}


def test_ck_trend_fires_with_the_last_three_results():
    f = facts(
        *(obs("ck", v, days_ago(d)) for v, d in ((900, 10), (2400, 40), (5200, 70), (8000, 100))),
        problems=MYO,
    )
    (finding,), _ = run(f, "MYO-CK-TREND")
    assert [v["value"] for v in finding.params["values"]] == [900, 2400, 5200]
    assert finding.params["direction"] == "falling"


@pytest.mark.parametrize(
    ("values", "direction"), [((1200, 1000), "stable"), ((3000, 1000), "rising"), ((900,), None)]
)
def test_ck_trend_direction(values, direction):
    f = facts(*(obs("ck", v, days_ago(10 + 30 * i)) for i, v in enumerate(values)), problems=MYO)
    (finding,), _ = run(f, "MYO-CK-TREND")
    assert finding.params["direction"] == direction


def test_ck_trend_quiet_without_myositis():
    assert run(facts(obs("ck", 900, days_ago(10)), problems=[problem("ra")]), "MYO-CK-TREND") == (
        [],
        [],
    )


def test_ck_trend_not_assessed_without_ck():
    findings, (na,) = run(facts(obs("ck", 900, days_ago(400)), problems=MYO), "MYO-CK-TREND")
    assert findings == [] and na.missing == f"no CK result since {days_ago(365).isoformat()}"


def test_pjp_prophylaxis_fires_for_high_dose_steroid_plus_the_ordered_jak_inhibitor():
    f = facts(
        orders=[order(indication="dermatomyositis")],
        problems=MYO,
        medications=[med("prednisone", "steroid")],
        prednisone_mg_day=40.0,
    )
    (finding,), _ = run(f, "MYO-PJP-PROPHYLAXIS")
    assert finding.params == {"prednisone_mg_day": 40.0, "agents": ["tofacitinib"]}


def test_pjp_prophylaxis_fires_on_patient_view_with_tacrolimus():
    f = facts(
        problems=MYO,
        medications=[med("prednisone", "steroid"), med("tacrolimus", "potent_immunosuppressant")],
        prednisone_mg_day=30.0,
    )
    (finding,), _ = run(f, "MYO-PJP-PROPHYLAXIS")
    assert finding.params["agents"] == ["tacrolimus"]


def test_pjp_prophylaxis_quiet_with_tmp_smx_or_low_dose():
    meds = [med("prednisone", "steroid"), med("tacrolimus", "potent_immunosuppressant")]
    covered = facts(
        problems=MYO,
        medications=[*meds, med("trimethoprim-sulfamethoxazole", "pjp_prophylaxis")],
        prednisone_mg_day=30.0,
    )
    low = facts(problems=MYO, medications=meds, prednisone_mg_day=10.0)
    assert run(covered, "MYO-PJP-PROPHYLAXIS") == ([], [])
    assert run(low, "MYO-PJP-PROPHYLAXIS") == ([], [])


def test_pjp_prophylaxis_not_assessed_when_the_steroid_dose_is_unreadable():
    f = facts(
        problems=MYO,
        medications=[med("prednisone", "steroid"), med("tacrolimus", "potent_immunosuppressant")],
    )
    findings, (na,) = run(f, "MYO-PJP-PROPHYLAXIS")
    assert findings == [] and "prednisone-equivalent" in na.missing


# ------------------------------------------------------------------------------ rosacea


def test_rosacea_off_label_fires_for_topical_ruxolitinib():
    o = order("ruxolitinib", indication="rosacea", topical=True, route="topical")
    (finding,), _ = run(facts(orders=[o]), "ROSACEA-OFF-LABEL")
    assert finding.params == {"evidence_level": "case reports and case series", "topical": True}


def test_rosacea_off_label_quiet_for_atopic_dermatitis():
    assert run(
        facts(orders=[order("abrocitinib", indication="atopic_dermatitis")]), "ROSACEA-OFF-LABEL"
    ) == ([], [])


def test_rosacea_off_label_not_assessed_when_the_indication_is_unknown():
    f = facts(orders=[order("upadacitinib", indication=None)], problems=[problem("rosacea")])
    findings, (na,) = run(f, "ROSACEA-OFF-LABEL")
    assert findings == [] and "rosacea" in na.missing


# ------------------------------------------------------------------------------ knowledge


@pytest.mark.parametrize(
    "rule_id",
    [
        "RA-ACTIVITY",
        "RA-LOW-ACTIVITY",
        "RA-PAYER-DAS28",
        "PMR-ACTIVITY",
        "PMR-OFF-LABEL",
        "PMR-GCA-SIGNS",
        "MYO-MDA5-ILD-RISK",
        "MYO-CK-TREND",
        "MYO-PJP-PROPHYLAXIS",
        "ROSACEA-OFF-LABEL",
    ],
)
def test_every_context_rule_has_source_severity_configurable_and_phrase_params(rule_id):
    params = K.rule(rule_id)
    assert params["source"] and params["severity"] in {"info", "warning", "critical"}
    assert all(key in params for key in params["configurable"])
    assert isinstance(params["phrase_params"], dict)


# ------------------------------------------------------------------------------ through normalise
# Codes as EHRs send them: SNOMED CT in one record, ICD-10 in another; drugs by RxNorm + ATC +
# text in one order, by Japanese brand name alone in another.


def _condition(system: str, code: str, n: int) -> dict:
    return {
        "resourceType": "Condition",
        "id": f"c{n}",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": system, "code": code}]},
        "onsetDateTime": "2024-03-01",
    }


def _quantity(code: str, value: float, unit: str, when: str, n: int) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"o{n}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


def _draft(medication: dict) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": medication,
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}],
            }
        ],
    }


def _through_normalise(record, drafts):
    from cds_service.normalise import normalise, recognise_orders

    return normalise(record, recognise_orders(drafts, K), K, TODAY)


def test_ra_activity_from_snomed_condition_and_rxnorm_atc_order():
    from cds_service.model import PatientRecord

    tofacitinib = {
        "coding": [
            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1357536"},
            {"system": "http://www.whocc.no/atc", "code": "L04AF01"},
        ],
        "text": "tofacitinib 5 mg tablet",
    }
    when = "2026-11-02"
    record = PatientRecord(
        patient_id="p1",
        conditions=[_condition("http://snomed.info/sct", "69896004", 1)],
        observations=[
            _quantity("88981-6", 1, "{count}", when, 1),
            _quantity("88980-8", 0, "{count}", when, 2),
            _quantity("75894-6", 1, "cm", when, 3),
            _quantity("75846-6", 0.5, "cm", when, 4),
        ],
    )
    f = _through_normalise(record, [_draft(tofacitinib)])
    assert [(o.drug, o.indication) for o in f.orders] == [("tofacitinib", "ra")]
    (activity,), _ = run(f, "RA-ACTIVITY")
    cdai = next(s for s in activity.params["latest"] if s["id"] == "CDAI")
    assert (cdai["value"], cdai["category"]) == (2.5, "remission")  # 1 + 0 + 1.0 + 0.5
    (low,), _ = run(f, "RA-LOW-ACTIVITY")
    assert low.order_ref == "MedicationRequest/draft-1"


def test_pmr_rules_from_icd10_conditions_and_a_japanese_brand_name():
    from cds_service.model import PatientRecord

    record = PatientRecord(
        patient_id="p2",
        conditions=[
            _condition("http://hl7.org/fhir/sid/icd-10", "M35.3", 1),  # PMR (WHO ICD-10)
            _condition("http://hl7.org/fhir/sid/icd-10-cm", "R51.9", 2),  # headache (ICD-10-CM)
        ],
    )
    f = _through_normalise(record, [_draft({"text": "オルミエント錠4mg"})])
    assert [(o.drug, o.indication) for o in f.orders] == [("baricitinib", "pmr")]
    (off_label,), _ = run(f, "PMR-OFF-LABEL")
    assert "BACHELOR" in off_label.params["trial"]
    (gca,), _ = run(f, "PMR-GCA-SIGNS")
    assert gca.params["signs"] == ["headache"]
    _, (na,) = run(f, "PMR-ACTIVITY")
    assert "crp" in na.concepts


def test_pmr_gca_signs_fire_on_a_snomed_visual_disturbance_and_not_on_a_post_stroke_deficit():
    from cds_service.model import PatientRecord

    sct = "http://snomed.info/sct"
    record = PatientRecord(
        patient_id="p3",
        conditions=[
            _condition("http://hl7.org/fhir/sid/icd-10", "M35.3", 1),  # PMR (WHO ICD-10)
            _condition(sct, "63102001", 2),  # visual disturbance (H53.9)
            _condition(sct, "87551000119101", 3),  # visual disturbance as sequela of stroke
        ],
    )
    f = _through_normalise(record, [_draft({"text": "オルミエント錠4mg"})])
    (gca,), _ = run(f, "PMR-GCA-SIGNS")
    assert gca.params["signs"] == ["visual_disturbance"]
    assert [e.ref for e in gca.evidence] == ["Condition/c2"]


def test_ra_payer_das28_switched_on_through_the_institution_configuration():
    k = load_knowledge(overrides={"RA-PAYER-DAS28": {"enabled": True, "min_das28": 3.2}})
    high_enough = visit(days_ago(10), **RA_VISIT)  # 4.17 > 3.2: requirement met
    assert run(facts(*high_enough, orders=[order()]), "RA-PAYER-DAS28", k) == ([], [])
    (finding,), _ = run(
        facts(*visit(days_ago(10), **LOW_VISIT), orders=[order()]), "RA-PAYER-DAS28", k
    )
    assert finding.params["min_das28"] == 3.2 and finding.params["das28"] == 2.16


def test_concept_ids_of_the_context_rules_exist_in_concepts_toml():
    conditions = set(K.concepts["condition"])
    classes = set(K.concepts["medication_class"])
    for rule_id in (
        "RA-ACTIVITY",
        "PMR-ACTIVITY",
        "PMR-GCA-SIGNS",
        "ROSACEA-OFF-LABEL",
        "MYO-CK-TREND",
    ):
        params = K.rule(rule_id)
        for key in ("indications", "signs", "myositis"):
            assert set(params.get(key, [])) <= conditions, (rule_id, key)
    pjp = K.rule("MYO-PJP-PROPHYLAXIS")
    assert set(pjp["agent_classes"]) | {pjp["prophylaxis_class"]} <= classes


def test_pmr_gca_signs_also_for_an_order_for_another_indication_in_a_pmr_patient():
    f = facts(
        orders=[order("tofacitinib", indication="ra")], problems=[problem("pmr"), problem("gca")]
    )
    (finding,), _ = run(f, "PMR-GCA-SIGNS")
    assert finding.params["signs"] == ["gca"]

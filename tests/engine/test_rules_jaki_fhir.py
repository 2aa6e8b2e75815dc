"""JAKI rules from FHIR JSON as EHRs send it, through recognise_orders -> normalise -> assess:
SNOMED CT in one record, ICD-10 in another, RxNorm + ATC + text in a third, text alone in
Japanese and in Chinese in the last ones."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cds_service.assess.engine import assess
from cds_service.assess.registry import Settings
from cds_service.knowledge import load_knowledge
from cds_service.model import Finding, NotAssessed, PatientRecord
from cds_service.normalise import normalise, recognise_orders

KNOWLEDGE = load_knowledge()
TODAY = date(2026, 11, 23)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def patient(birth: str, gender: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p1", "birthDate": birth, "gender": gender}


def quantity(oid: str, code: str, value: float, unit: str, days_ago: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": day(days_ago),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def coded(oid: str, code: str, answer: dict[str, Any], days_ago: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": day(days_ago),
        "valueCodeableConcept": answer,
    }


def condition(
    cid: str, code: dict[str, Any], onset_days_ago: int, status: str = "active"
) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": status}]},
        "code": code,
        "onsetDateTime": day(onset_days_ago),
    }


def draft(
    medication: dict[str, Any], dose_mg: float, per_day: int, reason: dict | None = None
) -> dict:
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": medication,
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
                "route": {"text": "oral"},
                "doseAndRate": [
                    {"doseQuantity": {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}}
                ],
            }
        ],
    }
    if reason:
        order["reasonCode"] = [reason]
    return order


def active_med(mid: str, medication: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": medication,
        "authoredOn": day(30),
    }


NORMAL_LABS = [
    quantity("hb", "718-7", 13.1, "g/dL", 7),
    quantity("plt", "777-3", 240, "10*3/uL", 7),
    quantity("anc", "751-8", 3.9, "10*3/uL", 7),
    quantity("alc", "731-0", 1.6, "10*3/uL", 7),
    quantity("alt", "1742-6", 21, "U/L", 7),
    quantity("egfr", "98979-8", 92, "mL/min/{1.73_m2}", 7),
    quantity("hdl", "2085-9", 58, "mg/dL", 40),
    quantity("bmi", "39156-5", 24.5, "kg/m2", 40),
]


def run(
    body_order: dict[str, Any],
    observations: list[dict[str, Any]],
    conditions: list[dict[str, Any]],
    meds: list[dict[str, Any]] | None = None,
    who: dict[str, Any] | None = None,
    region: str = "EU",
) -> tuple[list[Finding], list[NotAssessed], Any]:
    orders = recognise_orders([body_order], KNOWLEDGE)
    assert orders, "the JAK inhibitor order was not recognised"
    record = PatientRecord(
        patient_id="p1",
        patient=who or patient("1966-03-02", "female"),
        observations=observations,
        conditions=conditions,
        medication_requests=meds or [],
    )
    facts = normalise(record, orders, KNOWLEDGE, TODAY)
    assessment = assess(facts, KNOWLEDGE, Settings(label_region=region))
    jaki = [f for f in assessment.findings if f.rule_id.startswith("JAKI-")]
    missing = [n for n in assessment.not_assessed if n.rule_id.startswith("JAKI-")]
    return jaki, missing, facts


def ids(items) -> set[str]:
    return {i.rule_id for i in items}


def by_id(items, rule_id: str):
    found = [i for i in items if i.rule_id == rule_id]
    assert len(found) == 1, (rule_id, items)
    return found[0]


TOFACITINIB_RXNORM_ATC_TEXT = {
    "coding": [
        {"system": RXNORM, "code": "1357536", "display": "tofacitinib"},
        {"system": ATC, "code": "L04AF01", "display": "tofacitinib"},
    ],
    "text": "Xeljanz 5 mg tablet",
}


def test_snomed_record_recent_dvt_and_current_smoker():
    conditions = [
        condition(
            "c1",
            {"coding": [{"system": SNOMED, "code": "69896004", "display": "Rheumatoid arthritis"}]},
            2000,
        ),
        condition(
            "c2",
            {
                "coding": [
                    {"system": SNOMED, "code": "128053003", "display": "Deep venous thrombosis"}
                ]
            },
            60,
        ),
    ]
    smoking = coded("smk", "72166-2", {"coding": [{"system": SNOMED, "code": "449868002"}]}, 20)
    findings, _, facts = run(
        draft(TOFACITINIB_RXNORM_ATC_TEXT, 5, 2), [*NORMAL_LABS, smoking], conditions
    )
    vte = by_id(findings, "JAKI-VTE-HISTORY")
    assert vte.severity == "critical" and vte.evidence[0].ref == "Condition/c2"
    smoker = by_id(findings, "JAKI-SMOKER")
    assert smoker.params["status"] == "current" and smoker.evidence[0].ref == "Observation/smk"


def test_icd10_record_prior_zoster_and_recent_cancer():
    conditions = [
        condition("ra", {"coding": [{"system": ICD10CM, "code": "M05.79"}]}, 3000),
        condition("hz", {"coding": [{"system": ICD10, "code": "B02.9"}]}, 500, status="resolved"),
        condition("ca", {"coding": [{"system": ICD10CM, "code": "C50.911"}]}, 400),
    ]
    findings, _, _ = run(draft(TOFACITINIB_RXNORM_ATC_TEXT, 5, 2), NORMAL_LABS, conditions)
    zoster = by_id(findings, "JAKI-ZOSTER")
    assert zoster.severity == "warning" and zoster.params["prior_zoster"] is True
    assert by_id(findings, "JAKI-MALIGNANCY").evidence[0].ref == "Condition/ca"


def test_rxnorm_atc_text_order_above_label_with_interacting_drug():
    clarithromycin = active_med(
        "m1", {"coding": [{"system": ATC, "code": "J01FA09"}], "text": "clarithromycin 500 mg"}
    )
    ra = condition("ra", {"coding": [{"system": SNOMED, "code": "69896004"}]}, 2000)
    findings, _, facts = run(
        draft(TOFACITINIB_RXNORM_ATC_TEXT, 10, 2),
        NORMAL_LABS,
        [ra],
        meds=[clarithromycin],
        region="US",
    )
    assert facts.orders[0].drug == "tofacitinib" and facts.orders[0].indication == "ra"
    dose = by_id(findings, "JAKI-DOSE-MAX")
    assert dose.severity == "critical"
    assert dose.suggestions[0].params == {"dose_mg": 5.0, "per_day": 2.0}
    ddi = by_id(findings, "JAKI-DDI")
    assert ddi.params["action"] == "reduce" and ddi.suggestions[0].params == {
        "dose_mg": 5.0,
        "per_day": 1.0,
    }


def test_japanese_text_only_baricitinib_for_elderly_with_zoster_history():
    order = draft({"text": "オルミエント錠4mg"}, 4, 1)
    conditions = [
        condition("ra", {"text": "関節リウマチ"}, 4000),
        condition("hz", {"text": "帯状疱疹"}, 300, status="resolved"),
    ]
    findings, missing, facts = run(
        order, NORMAL_LABS, conditions, who=patient("1948-01-15", "male")
    )
    assert facts.orders[0].drug == "baricitinib"
    assert by_id(findings, "JAKI-AGE-65").params["age"] == 78
    assert by_id(findings, "JAKI-DOSE-MAX").suggestions[0].params == {
        "dose_mg": 2.0,
        "per_day": 1.0,
    }
    assert by_id(findings, "JAKI-ZOSTER").severity == "warning"
    # no IGRA, HBV, HCV on file: screening findings, not silence
    assert {"JAKI-TB-SCREEN", "JAKI-HBV", "JAKI-HCV"} <= ids(findings)
    # no smoking status: not assessed, never "no risk"
    assert "JAKI-SMOKER" in ids(missing)


def test_chinese_text_only_tofacitinib_with_active_tuberculosis():
    order = draft({"text": "托法替布 5mg"}, 5, 2)
    conditions = [
        condition("ra", {"text": "类风湿关节炎"}, 1000),
        condition("tb", {"text": "肺结核"}, 20),
    ]
    findings, _, facts = run(order, NORMAL_LABS, conditions)
    assert facts.orders[0].drug == "tofacitinib"
    assert by_id(findings, "JAKI-TB-ACTIVE").severity == "critical"


def test_missing_labs_are_not_assessed_and_flagged():
    findings, missing, _ = run(draft(TOFACITINIB_RXNORM_ATC_TEXT, 5, 2), [], [])
    assert {"JAKI-LAB-ANC", "JAKI-LAB-ALC", "JAKI-LAB-HB"} <= ids(missing)
    assert by_id(findings, "JAKI-LAB-MISSING").params["missing"] == [
        "cbc",
        "liver_panel",
        "creatinine",
    ]

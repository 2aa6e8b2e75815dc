"""Conditions that map to no concept are reported, not dropped silently (SPEC.md section 6,
"A condition whose code the service does not know is never read as absent")."""

from __future__ import annotations

from datetime import date

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord, Unclassified
from cds_service.normalise import normalise

K = load_knowledge()
TODAY = date(2026, 11, 23)
SCT = "http://snomed.info/sct"
CM = "http://hl7.org/fhir/sid/icd-10-cm"
ACTIVE = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
    ]
}
RESOLVED = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "resolved"}
    ]
}
# a SNOMED CT code outside every concept (a concept id of the SNOMED CT "example" shape)
UNKNOWN_SCT = "999999001"


def condition(rid: str, *codings: tuple[str, str], text: str | None = None, **extra) -> dict:
    cc: dict = {"coding": [{"system": s, "code": c} for s, c in codings]}
    if text is not None:
        cc["text"] = text
    return {"resourceType": "Condition", "id": rid, "clinicalStatus": ACTIVE, "code": cc, **extra}


def facts(*conditions):
    return normalise(PatientRecord(patient_id="p", conditions=list(conditions)), [], K, TODAY)


def test_an_unknown_snomed_code_is_reported_with_its_family_and_code():
    f = facts(condition("c1", (SCT, UNKNOWN_SCT)))
    assert f.problems == []
    assert f.unclassified_conditions == [Unclassified("Condition/c1", (("snomed", UNKNOWN_SCT),))]
    assert f.unclassified_codes() == [("snomed", UNKNOWN_SCT)]


def test_unknown_snomed_beside_a_known_icd10_code_is_recognised_and_not_reported():
    f = facts(condition("c1", (SCT, UNKNOWN_SCT), (CM, "I82.401")))
    assert [p.concepts for p in f.problems] == [frozenset({"dvt"})]
    assert f.unclassified_conditions == []


def test_a_well_formed_icd10_code_outside_every_concept_is_known_to_be_none():
    # I10 essential hypertension is a concept; J06.9 (acute upper respiratory infection) is not,
    # and ICD-10 concepts are defined by whole categories: nothing is unknown here
    f = facts(condition("c1", (CM, "J06.9")))
    assert f.problems == [] and f.unclassified_conditions == []


def test_a_malformed_icd10_code_is_unclassified():
    f = facts(condition("c1", (CM, "not-a-code")))
    assert f.unclassified_codes() == [("icd10", "not-a-code")]


def test_local_codes_keep_their_system_and_the_counts_are_per_condition():
    local = "http://hospital.example.org/fhir/diagnosis"
    f = facts(
        condition("c1", (local, "DX-17"), (SCT, UNKNOWN_SCT)),
        condition("c2", (SCT, UNKNOWN_SCT), **{"clinicalStatus": RESOLVED}),
        condition("c3", (SCT, "69896004")),  # rheumatoid arthritis
    )
    assert [u.ref for u in f.unclassified_conditions] == ["Condition/c1", "Condition/c2"]
    assert [u.active for u in f.unclassified_conditions] == [True, False]
    assert f.unclassified_codes() == [("local:" + local, "DX-17"), ("snomed", UNKNOWN_SCT)]


def test_text_only_conditions_that_match_no_name_are_counted_without_codes():
    f = facts(condition("c1", text="sore throat after a long flight"))
    assert f.unclassified_conditions == [Unclassified("Condition/c1", ())]


def test_refuted_conditions_are_not_counted():
    refuted = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "refuted",
            }
        ]
    }
    f = facts(condition("c1", (SCT, UNKNOWN_SCT), verificationStatus=refuted))
    assert f.unclassified_conditions == []


# --------------------------------------------------------------------------- through the rules


def _vte_chart(*conditions: dict) -> tuple[list, list]:
    """A tofacitinib order for a patient with a normal BMI and `conditions`; returns
    (JAKI-VTE-RISK not-assessed entries, rendered English card texts)."""
    from cards.render import render_cards
    from cds_service.assess.engine import assess
    from cds_service.assess.registry import Settings
    from cds_service.normalise import recognise_orders

    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "tofacitinib 5 mg tablet"},
    }
    bmi = {
        "resourceType": "Observation",
        "id": "bmi-1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "39156-5"}]},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": 24.0, "unit": "kg/m2"},
    }
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01", "gender": "male"}
    record = PatientRecord(
        patient_id="p", patient=patient, observations=[bmi], conditions=list(conditions)
    )
    orders = recognise_orders([draft], K, None)
    assessment = assess(normalise(record, orders, K, TODAY), K, Settings())
    na = [n for n in assessment.not_assessed if n.rule_id == "JAKI-VTE-RISK"]
    cards = render_cards(assessment, "en", K, "https://docs.example.org", "order-sign")
    return na, [c.get("detail", "") for c in cards]


def test_vte_risk_says_how_many_conditions_it_could_not_classify_instead_of_no_risk():
    na, details = _vte_chart(
        condition("c1", (SCT, UNKNOWN_SCT)), condition("c2", (SCT, "888888001"))
    )
    assert [n.missing for n in na] == ["2 conditions on file could not be classified"]
    assert any("2 condition(s) on the problem list could not be classified" in d for d in details)


def test_vte_risk_stays_silent_when_every_condition_is_classified():
    na, details = _vte_chart(condition("c1", (CM, "J06.9")), condition("c2", (SCT, "69896004")))
    assert na == []
    assert not any("could not be classified" in d for d in details)


def test_resolved_unclassified_conditions_do_not_count_for_active_risk_factors():
    na, _ = _vte_chart(condition("c1", (SCT, UNKNOWN_SCT), clinicalStatus=RESOLVED))
    assert na == []


def test_condition_rules_that_find_nothing_say_how_many_conditions_were_not_classified():
    from cds_service.assess.engine import assess
    from cds_service.assess.registry import Settings
    from cds_service.normalise import recognise_orders

    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "baricitinib 4 mg tablet"},
    }
    record = PatientRecord(
        patient_id="p",
        conditions=[
            condition("c1", (SCT, UNKNOWN_SCT)),
            condition("c2", (SCT, "888888001"), clinicalStatus=RESOLVED),
        ],
    )
    orders = recognise_orders([draft], K, None)
    assessment = assess(normalise(record, orders, K, TODAY), K, Settings())
    said = {n.rule_id: n.missing for n in assessment.not_assessed}
    # a resolved condition counts where history counts (prior VTE, cancer), not for active ones
    assert said["JAKI-VTE-HISTORY"] == "2 conditions on file could not be classified"
    assert said["JAKI-MALIGNANCY"] == "2 conditions on file could not be classified"
    assert said["JAKI-SERIOUS-INFECTION"] == "1 conditions on file could not be classified"
    assert said["JAKI-TB-ACTIVE"] == "1 conditions on file could not be classified"


def test_vte_risk_without_bmi_says_the_count_instead_of_no_other_risk_factor():
    from cds_service.assess.engine import assess
    from cds_service.assess.registry import Settings
    from cds_service.normalise import recognise_orders

    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "tofacitinib 5 mg tablet"},
    }
    record = PatientRecord(patient_id="p", conditions=[condition("c1", (SCT, UNKNOWN_SCT))])
    orders = recognise_orders([draft], K, None)
    assessment = assess(normalise(record, orders, K, TODAY), K, Settings())
    (vte,) = [n for n in assessment.not_assessed if n.rule_id == "JAKI-VTE-RISK"]
    assert vte.missing.endswith("1 conditions on file could not be classified")
    assert "no other VTE risk factor" not in vte.missing


def test_an_unknown_icd10_code_is_judged_once_per_system_and_code():
    """The verdict on a code no concept takes is memoised under its (system, code): the next
    record with the same code is not judged again (records repeat their codes)."""
    from cds_service.normalise.conditions import _unknown_coding

    vs = K.vs
    who = "http://hl7.org/fhir/sid/icd-10"
    first = _unknown_coding(vs, who, "Z22.5")
    assert vs._coding_cache.get(("condunknown", who, "Z22.5")) == first
    assert first == ("icd10", "Z22.5", False)

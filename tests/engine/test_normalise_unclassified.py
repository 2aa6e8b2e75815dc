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

"""Conditions -> Problems: SNOMED CT in one EHR, ICD-10-CM in another, WHO ICD-10 without dot in
a third, Japanese or Chinese text alone in a fourth (SPEC.md section 6)."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise

K = load_knowledge()
TODAY = date(2026, 11, 23)
SCT = "http://snomed.info/sct"
CM = "http://hl7.org/fhir/sid/icd-10-cm"
WHO = "http://hl7.org/fhir/sid/icd-10"


def condition(
    system: str | None, code: str | None, rid: str = "c1", text: str | None = None, **extra
):
    cc: dict = {}
    if code is not None:
        cc["coding"] = [{"system": system, "code": code}]
    if text is not None:
        cc["text"] = text
    resource = {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": cc,
    }
    resource.update(extra)
    return resource


def problems(*conditions):
    record = PatientRecord(patient_id="p", conditions=list(conditions))
    return normalise(record, [], K, TODAY).problems


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (SCT, "69896004", {"ra"}),
        (CM, "M05.79", {"ra"}),  # ICD-10-CM code with extra characters, WHO parent M05
        (WHO, "M0579", {"ra"}),  # without dot
        (CM, "M06.9", {"ra"}),
        (WHO, "M05.1", {"ra", "extra_articular_ra", "ild", "chronic_lung_disease"}),
        ("urn:oid:2.16.840.1.113883.6.90", "M35.3", {"pmr"}),
        (CM, "M33.10", {"dermatomyositis", "myositis"}),  # SPEC section 6 example
        (WHO, "M33.1", {"dermatomyositis", "myositis"}),
        (WHO, "M33.2", {"polymyositis", "myositis"}),
        (CM, "C44.91", {"nmsc", "malignancy"}),  # SPEC section 6 example
        (WHO, "C44.9", {"nmsc", "malignancy"}),
        (WHO, "C18.7", {"malignancy"}),
        (CM, "C83.30", {"lymphoma", "malignancy"}),
        (CM, "I82.401", {"dvt"}),
        (WHO, "I80.2", {"dvt"}),
        (CM, "I26.99", {"pe"}),
        (CM, "I25.2", {"mi"}),  # old MI is more specific than the I25 category (CAD)
        (CM, "I25.10", {"cad"}),
        (CM, "F17.211", {"former_smoker"}),  # nicotine dependence in remission
        (CM, "F17.210", {"current_smoker"}),
        (CM, "L71.9", {"rosacea"}),
        (CM, "J84.10", {"ild", "chronic_lung_disease"}),
        ("http://example.org/fhir/icd-10-jp", "M0690", {"ra"}),  # national edition URI
    ],
)
def test_codes_map_to_concepts(system, code, expected):
    (p,) = problems(condition(system, code))
    assert p.concepts == frozenset(expected)
    assert p.code == f"{system}|{code}"


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (CM, "M06.1"),  # adult-onset Still's disease is not RA
        (CM, "M06.4"),  # inflammatory polyarthropathy
        (CM, "M0"),  # too short to be a category
        (SCT, "M05"),  # an ICD code under the SNOMED system does not match
        (CM, "E66.3"),  # overweight is not obesity
    ],
)
def test_codes_outside_the_value_sets_are_not_problems(system, code):
    assert problems(condition(system, code)) == []


def test_less_specific_code_does_not_match_a_more_specific_entry():
    # C44.9 is listed for nmsc; "C4" is not a code, and Z86.7 (WHO, too broad) is not a DVT
    assert problems(condition(WHO, "C4"), condition(WHO, "Z86.7", "c2")) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("関節リウマチ", {"ra"}),
        ("类风湿关节炎", {"ra"}),
        ("類風濕性關節炎", {"ra"}),
        ("リウマチ性多発筋痛症", {"pmr"}),
        ("皮膚筋炎", {"dermatomyositis", "myositis"}),
        ("Rheumatoid\u00a0Arthritis", {"ra"}),  # no-break space, capitals
        ("ＲＡ", {"ra"}),  # full-width letters
    ],
)
def test_text_alone_is_read_in_japanese_and_chinese(text, expected):
    (p,) = problems(condition(None, None, text=text))
    assert p.concepts == frozenset(expected)
    assert p.display == text


def test_text_is_matched_whole_not_as_a_fragment():
    assert problems(condition(None, None, text="family history of rheumatoid arthritis")) == []


def test_refuted_and_entered_in_error_are_excluded():
    refuted = condition(SCT, "59282003", "r", verificationStatus={"coding": [{"code": "refuted"}]})
    error = condition(SCT, "59282003", "e", verificationStatus="entered-in-error")  # STU3
    kept = condition(SCT, "59282003", "k", verificationStatus={"coding": [{"code": "confirmed"}]})
    assert [p.ref for p in problems(refuted, error, kept)] == ["Condition/k"]


def test_clinical_status_onset_abatement_and_recorded_dates():
    resolved = condition(
        CM,
        "I26.99",
        "pe",
        onsetDateTime="2024-03-02",
        abatementDateTime="2024-09-01",
        recordedDate="2024-03-03",
    )
    resolved["clinicalStatus"] = {"coding": [{"code": "resolved"}]}
    no_status = condition(SCT, "4740000", "hz", abatementString="2025-05")
    del no_status["clinicalStatus"]
    stu3 = condition(SCT, "69896004", "ra", clinicalStatus="active", assertedDate="2019")
    by_ref = {p.ref: p for p in problems(resolved, no_status, stu3)}
    pe = by_ref["Condition/pe"]
    assert (pe.active, pe.onset, pe.abatement, pe.recorded) == (
        False,
        date(2024, 3, 2),
        date(2024, 9, 1),
        date(2024, 3, 3),
    )
    assert by_ref["Condition/hz"].active is False
    assert by_ref["Condition/hz"].abatement == date(2025, 5, 1)
    assert by_ref["Condition/ra"].active is True
    assert by_ref["Condition/ra"].recorded == date(2019, 1, 1)


def test_problem_list_item_and_encounter_diagnosis_are_read_alike():
    a = condition(CM, "M05.9", "a", category=[{"coding": [{"code": "problem-list-item"}]}])
    b = condition(WHO, "M05.9", "b", category=[{"coding": [{"code": "encounter-diagnosis"}]}])
    assert len(problems(a, b)) == 2


def test_a_condition_coded_in_two_systems_unites_their_concepts():
    both = condition(SCT, "69896004")
    both["code"]["coding"].append({"system": CM, "code": "M05.20"})
    (p,) = problems(both)
    assert p.concepts == {"ra", "extra_articular_ra"}


def test_institution_local_codes_extend_the_value_sets():
    local = {
        "conditions": {
            "ra": {"codes": [{"system": "urn:oid:1.2.392.200119.4.101.6", "code": "20054567"}]}
        }
    }
    knowledge = load_knowledge(local_codes=local)
    record = PatientRecord(
        patient_id="p", conditions=[condition("urn:oid:1.2.392.200119.4.101.6", "20054567")]
    )
    assert normalise(record, [], knowledge, TODAY).problems[0].concepts == {"ra"}
    assert problems(condition("urn:oid:1.2.392.200119.4.101.6", "20054567")) == []


def test_the_same_condition_sent_twice_is_one_problem():
    c = condition(SCT, "69896004", "dup")
    assert [p.ref for p in problems(c, dict(c))] == ["Condition/dup"]

"""Conditions recognised by name (issue 11 point 5): only when every code is unknown or there is
text only; SNOMED CT semantic tags, case and width do not matter; negation, family history,
screening and suspected / ruled-out are not the condition; "history of X" is X, inactive; such
findings say "recognised by name" on the card; look-alikes never match."""

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
UNKNOWN_SCT = "999999001"


def condition(text: str | None = None, *codings: tuple[str, str, str], rid: str = "c1") -> dict:
    cc: dict = {"coding": [{"system": s, "code": c, "display": d} for s, c, d in codings]}
    if text is not None:
        cc["text"] = text
    return {
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


def facts(*conditions: dict):
    return normalise(PatientRecord(patient_id="p", conditions=list(conditions)), [], K, TODAY)


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Active tuberculosis (disorder)", "tb_active"),
        ("ACTIVE TUBERCULOSIS", "tb_active"),
        ("ｒｏｓａｃｅａ", "rosacea"),  # full width
        ("Rosacea.", "rosacea"),
        ("Deep vein thrombosis (disorder)", "dvt"),
        ("関節リウマチ", "ra"),
        ("类风湿关节炎", "ra"),
        ("無肌病性皮肌炎", "dermatomyositis"),  # a name that starts with 無 is not negated
    ],
)
def test_text_only_names_are_recognised_and_marked(text, concept):
    f = facts(condition(text))
    (p,) = f.problems
    assert concept in p.concepts and p.by_name and p.active
    assert f.unclassified_conditions == []


def test_display_of_an_unknown_snomed_code_is_read_by_name():
    f = facts(condition(None, (SCT, UNKNOWN_SCT, "Active tuberculosis (disorder)")))
    (p,) = f.problems
    assert "tb_active" in p.concepts and p.by_name


def test_a_known_code_is_never_second_guessed_by_its_name():
    (p,) = facts(condition("tuberculosis", (CM, "M05.79", "Rheumatoid arthritis"))).problems
    assert p.concepts == {"ra"} and not p.by_name
    # an ICD-10 code known to be no concept is not overridden by a name either
    f = facts(condition("tuberculosis", (CM, "J06.9", "Acute upper respiratory infection")))
    assert f.problems == [] and f.unclassified_conditions == []


@pytest.mark.parametrize(
    "text",
    [
        "No history of DVT",
        "no deep vein thrombosis",
        "Denies tuberculosis",
        "結核なし",
        "无结核病",
        "Family history of deep vein thrombosis",
        "FH: deep vein thrombosis",
        "家族歴：関節リウマチ",
        "家族史 类风湿关节炎",
        "Screening for tuberculosis",
        "Tuberculosis screening",
        "Suspected tuberculosis",
        "Rule out pulmonary tuberculosis",
        "r/o deep vein thrombosis",
        "Pulmonary tuberculosis ruled out",
        "肺結核疑い",
        "疑似肺结核",
        "可能肺结核",
        "no family history of rosacea",
        "History of suspected deep vein thrombosis",
    ],
)
def test_negated_family_screening_and_suspected_names_are_not_the_condition(text):
    f = facts(condition(text, (SCT, UNKNOWN_SCT, text)))
    assert f.problems == []
    # the name says what it is not: classified, not a silent gap
    assert f.unclassified_conditions == []


@pytest.mark.parametrize(
    "text",
    ["History of deep vein thrombosis (situation)", "h/o DVT", "結核の既往", "肺结核病史"],
)
def test_history_of_x_is_x_inactive(text):
    (p,) = facts(condition(text)).problems
    assert not p.active and p.by_name
    assert p.concepts & {"dvt", "tb_active"}


@pytest.mark.parametrize(
    ("text", "not_concept"),
    [
        ("Malignant hypertension", "malignancy"),
        ("Latent tuberculosis", "tb_active"),
        ("Herpes simplex", "herpes_zoster"),
        ("Varicella", "herpes_zoster"),
        ("Benign neoplasm of colon", "malignancy"),
        ("Nodular rosacea-like eruption", "rosacea"),
        ("Tuberculosis contact", "tb_active"),
        ("Arthritis", "ra"),
    ],
)
def test_look_alikes_are_not_the_concept(text, not_concept):
    concepts = set().union(*(p.concepts for p in facts(condition(text)).problems))
    assert not_concept not in concepts


def test_a_name_found_by_name_says_so_on_the_card():
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
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01", "gender": "male"}
    record = PatientRecord(
        patient_id="p",
        patient=patient,
        conditions=[condition(None, (SCT, UNKNOWN_SCT, "Active tuberculosis (disorder)"))],
    )
    assessment = assess(
        normalise(record, recognise_orders([draft], K, None), K, TODAY), K, Settings()
    )
    (tb,) = [f for f in assessment.findings if f.rule_id == "JAKI-TB-ACTIVE"]
    assert [e.as_json().get("recognisedBy") for e in tb.evidence] == ["name"]
    cards = render_cards(assessment, "en", K, "https://docs.example.org", "order-sign")
    assert any("recognised by name" in c.get("detail", "") for c in cards)
    cards_ja = render_cards(assessment, "ja", K, "https://docs.example.org", "order-sign")
    assert any("病名の文字列で判定" in c.get("detail", "") for c in cards_ja)


@pytest.mark.parametrize(
    ("display", "concept", "active"),
    [
        ("Malignant neoplasm of colon (disorder)", "malignancy", True),
        ("Acute pulmonary embolism (disorder)", "pe", True),
        ("Diffuse large B-cell lymphoma (disorder)", "lymphoma", True),
        ("Bacterial sepsis (disorder)", "serious_infection", True),
        ("Personal history of malignant neoplasm of breast", "malignancy", False),
    ],
)
def test_displays_of_the_shipped_expansions_are_names_too(display, concept, active):
    local = ("http://hospital.example.org/fhir/dx", "X-1", display)
    (p,) = facts(condition(None, local)).problems
    assert concept in p.concepts and p.by_name and p.active is active


@pytest.mark.parametrize(
    "display",
    [
        "Family history of malignant neoplasm of colon",
        "Suspected sepsis",
        "Benign neoplasm of colon (disorder)",
        "Herpes simplex (disorder)",
    ],
)
def test_expansion_displays_do_not_bring_look_alikes(display):
    local = ("http://hospital.example.org/fhir/dx", "X-1", display)
    concepts = set().union(*(p.concepts for p in facts(condition(None, local)).problems))
    assert not concepts & {"malignancy", "serious_infection", "herpes_zoster"}


# ---------------------------------------------------------------- what the words around say
# (displays in English, Japanese, Traditional and Simplified Chinese, with and without the
# SNOMED CT semantic tag; each was read as the condition, or as a current one, before)


@pytest.mark.parametrize(
    "text",
    [
        "At risk for deep vein thrombosis (finding)",
        "Risk of venous thromboembolism",
        "At increased risk of stroke",
        "深静脉血栓风险",
        "深部静脈血栓症のリスク",
        "肺結核風險",
    ],
)
def test_the_risk_of_a_condition_is_known_not_to_be_it(text):
    f = facts(condition(text))
    assert f.problems == []
    assert f.unclassified_conditions == []  # classified: no silent gap either


@pytest.mark.parametrize(
    "text",
    [
        "Pneumonia, unlikely",
        "Unlikely pulmonary embolism",
        "懷疑肺結核",
        "怀疑肺结核",
        "深部静脈血栓症(疑い)",
        "肺癌の否定",
        "Genetic susceptibility to malignant neoplasm of breast",
        "Melanoma in-situ",
        "Personal history of melanoma in-situ",
        "Cytologic evidence of malignancy on smear of cervix",
        "Elevated cancer antigen 125 [CA 125]",
        "Encounter for follow-up examination after completed treatment for conditions other"
        " than malignant neoplasm",
        "Worried about cancer",
        "Adult forced labor exploitation, confirmed",
        "Counseling and instruction in natural family planning to avoid pregnancy",
        "Encounter for pregnancy test, result unknown",
        "Recurrent pregnancy loss",
        "Outcome of delivery",
        "Encounter for routine postpartum follow-up",
        "Chronic obstructive pyelonephritis",
        "Cystic fibrosis carrier",
        "Long-term (current) use of injectable non-insulin antidiabetic drugs",
        "Borderline diabetes",
        "Other peripheral vascular diseases",
        "Occlusion and stenosis of cerebral arteries, not resulting in cerebral infarction",
        "National Institutes of Health Stroke Scale (NIHSS) score",
        "Ascariasis pneumonia",
        "Meconium passage during delivery",
        "Encounter for childbirth instruction",
        "Postprocedural hypertension",
    ],
)
def test_risk_unlikely_and_look_alike_displays_are_no_condition(text):
    f = facts(condition(text))
    assert [sorted(p.concepts) for p in f.problems] == []


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Tuberculosis resolved", "tb_active"),
        ("Pulmonary tuberculosis, resolved", "tb_active"),
        ("Resolved hepatitis B", "hbv_chronic"),
        ("Cancer survivor", "malignancy"),
        ("s/p DVT", "dvt"),
        ("Status post myocardial infarction", "mi"),
        ("Deep vein thrombosis (resolved)", "dvt"),
        ("肺結核 治癒", "tb_active"),
        ("陳旧性肺結核", "tb_active"),
        ("深部静脈血栓症(既往)", "dvt"),
        ("肺结核已治愈", "tb_active"),
        ("陈旧性肺结核", "tb_active"),
        ("肺結核已治癒", "tb_active"),
        ("陳舊性肺結核", "tb_active"),
        (
            "Encounter for follow-up examination after completed treatment for malignant neoplasm",
            "malignancy",
        ),
    ],
)
def test_resolved_cured_old_and_status_post_are_history_not_current(text, concept):
    (p,) = facts(condition(text)).problems
    assert concept in p.concepts
    assert not p.active and p.by_name


def test_a_shipped_history_display_keeps_its_own_meaning():
    """Z87.891's display names nicotine dependence after "personal history of": it is a former
    smoker (as the code says), not a current smoker in the past; Z82.4's display is the family
    history concept itself, not "family history of CAD, so none"."""
    (p,) = facts(condition("Personal history of nicotine dependence")).problems
    assert "former_smoker" in p.concepts and "current_smoker" not in p.concepts
    text = "Family history of ischemic heart disease and other diseases of the circulatory system"
    (p,) = facts(condition(text)).problems
    assert p.concepts == {"family_history_premature_chd"}


def test_an_x_like_condition_is_not_x():
    for text in ["Lupus-like syndrome", "Zoster-like rash", "Tuberculosis-like illness"]:
        f = facts(condition(text))
        assert f.problems == [], text


@pytest.mark.parametrize(
    "text",
    [
        "Personal history of gestational diabetes",
        "Personal history of other complications of pregnancy, childbirth and the puerperium",
        "History of pregnancy",
        "妊娠の既往",
    ],
)
def test_a_past_pregnancy_is_known_to_be_no_pregnancy(text):
    f = facts(condition(text))
    assert f.problems == [] and f.unclassified_conditions == []

"""Records that name a disease but are not the patient's condition (issue 11, no false positive):
a role or member of staff ("Diabetic nurse"), a department or clinic, an audit, study or
consent, a questionnaire, a quality indicator's exception code, an adverse reaction to a product
whose name has a disease word, a review, letter, referral or education record. One definition,
valuesets/conditions.toml [_not_a_condition], is read by the expansion builder (such a term is
reviewed, not shipped) and by the run-time display reader (a Condition whose codes are all
unknown, or that carries text only, is then counted as not classified: never "no risk").
data/not_a_condition.tsv lists every such code of the pinned inputs that a concept definition
would take by its name; each is read here as a real FHIR Condition through normalise."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.knowledge.expansion import conditions as build
from cds_service.knowledge.meaning import MeaningIndex, load_definitions, load_not_a_condition
from cds_service.model import PatientRecord
from cds_service.normalise import normalise
from cds_service.normalise.conditions import read_name
from tests.engine.condition_resources import active_condition

K = load_knowledge()
DATA = Path(__file__).parent / "data" / "not_a_condition.tsv"
SCT = "http://snomed.info/sct"
TODAY = date(2026, 12, 5)
# a SNOMED CT UK Edition id (valid check digit) that no expansion ships
UNKNOWN = "999999991000000119"


def _rows() -> list[dict[str, str]]:
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, looks_like, kind, display, source = line.split("\t")
        rows.append(
            {
                "code": code,
                "looks_like": looks_like,
                "kind": kind,
                "display": display,
                "source": source,
            }
        )
    return rows


ROWS = _rows()


def _condition(code: str | None, display: str) -> dict[str, Any]:
    cc: dict[str, Any] = (
        {"coding": [{"system": SCT, "code": code, "display": display}]}
        if code is not None
        else {"text": display}
    )
    return active_condition(cc, confirmed=True)


def _read(code: str | None, display: str) -> tuple[list[frozenset[str]], int]:
    """(concepts of each problem, number of Conditions counted as not classified)."""
    record = PatientRecord(patient_id="p", conditions=[_condition(code, display)])
    facts = normalise(record, [], K, TODAY)
    return [p.concepts for p in facts.problems], len(facts.unclassified_conditions)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['code']}-{r['kind']}" for r in ROWS])
def test_a_record_about_a_disease_is_not_the_patients_condition(row):
    why = f"{row['display']} ({row['kind']}; {row['source']})"
    for code in (row["code"], None):  # the code unknown with its display; the text alone
        problems, unclassified = _read(code, row["display"])
        assert problems == [], why
        # counted, so that no rule concludes "no risk" from absence; unless the words around
        # the name say it is none ("Placental function test": a test for it, no result)
        name = read_name(K.vs, row["display"])
        assert unclassified == 1 or (name is not None and name.status != "asserted"), why


def test_the_table_covers_the_kinds_and_comes_from_the_inputs():
    kinds = {r["kind"] for r in ROWS}
    assert {
        "role",
        "department",
        "study",
        "quality indicator",
        "review or monitoring",
        "communication",
        "referral or encounter",
        "care or education",
        "test or measurement",
    } <= kinds
    inputs = {p.stem for p in build.INPUTS.glob("*.tsv")}
    assert {r["source"] for r in ROWS} <= inputs
    assert len(ROWS) >= 300


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        # found by the look-alike audit in UK Edition terms (issue 11)
        ("Diabetic nurse", "diabetes"),
        ("Diabetes specialist nurse", "diabetes"),
        ("Heart failure nurse", "heart_failure"),
        ("Diabetic department", "diabetes"),
        ("Endocrinology and diabetes", "diabetes"),
        ("Diabetic medicine", "diabetes"),
        ("Informed dissent for diabetes national audit", "diabetes"),
        ("Informed consent for diabetes national audit", "diabetes"),
        ("Participant in UK Prospective Diabetes Study", "diabetes"),
        ("Patient in asthma study", "chronic_lung_disease"),
        ("Adverse reaction to Codeine Linctus Diabetic", "diabetes"),
        ("Allergy to diabetic food", "diabetes"),
        ("Rheumatoid Arthritis Impact of Disease questionnaire", "ra"),
        ("Diabetes well being questionnaire", "diabetes"),
        ("Asthma control questionnaire", "chronic_lung_disease"),
        ("Except rheumatoid arthritis qual indicator: informed dissent", "ra"),
        ("Exception reporting: stroke quality indicators", "stroke"),
        ("Excepted from diabetes quality indicators: patient unsuitable", "diabetes"),
        ("Diabetes monitoring", "diabetes"),
        ("Diabetes monitoring first letter", "diabetes"),
        ("Referral to diabetes clinic", "diabetes"),
        ("Seen in asthma clinic", "chronic_lung_disease"),
        ("Heart failure information given to patient", "heart_failure"),
        ("Discharged from heart failure nurse service", "heart_failure"),
        ("Discharge by diabetic liaison nurse", "diabetes"),
        ("Diabetes education", "diabetes"),
        # sent with a semantic tag that says it is a record, not a disorder or finding
        ("Diabetic nurse (occupation)", "diabetes"),
        ("Diabetic clinic (environment)", "diabetes"),
        ("Asthma control questionnaire (assessment scale)", "chronic_lung_disease"),
        # a situation or finding tag does not make an audit or a clinic a condition
        ("Informed dissent for diabetes national audit (situation)", "diabetes"),
        ("Seen in diabetic clinic (finding)", "diabetes"),
    ],
)
def test_reported_records_are_not_the_condition(text, concept):
    for code in (UNKNOWN, None):
        problems, unclassified = _read(code, text)
        assert not any(concept in c for c in problems), text
        assert unclassified == 1, text


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Diabetic retinopathy", "diabetes"),
        ("Type 2 diabetes mellitus with diabetic nephropathy", "diabetes"),
        ("Rheumatoid arthritis of knee", "ra"),
        ("Diabetes mellitus induced by drug", "diabetes"),
        ("Diabetic retinopathy detected by national screening programme", "diabetes"),
        # the care, visit or examination of a pregnancy means the pregnancy
        ("Antenatal care of primigravida", "pregnancy"),
        ("Antenatal 20 week examination", "pregnancy"),
        ("High risk pregnancy care", "pregnancy"),
        ("Failed trial of labour", "pregnancy"),
        ("Trial labor (finding)", "pregnancy"),
        ("Uterine fibroid affecting obstetric care", "pregnancy"),
        # ICD-10 chapter XV names: the care of a pregnancy, not a record of care
        ("Maternal care for fetal bradycardia during pregnancy", "pregnancy"),
        ("Fetal distress affecting management of mother", "pregnancy"),
        (
            "Essential hypertension complicating AND/OR reason for care during pregnancy",
            "pregnancy",
        ),
        ("Chromosomal abnormality in fetus affecting obstetrical care", "pregnancy"),
        # an administration the disease follows; a test whose result states the disease
        ("Heart failure following administration of antineoplastic agent", "heart_failure"),
        ("Pregnant - urine test confirms", "pregnancy"),
        ("Pregnancy with abnormal glucose tolerance test", "pregnancy"),
        (
            "Tuberculosis of lung, bacteriological and histological examination not done",
            "tb_active",
        ),
        # a discharge that is a symptom, not a discharge from care
        ("Vaginal discharge in pregnancy", "pregnancy"),
        # care given by a role says the care, not the role
        ("Antenatal care from general practitioner (finding)", "pregnancy"),
        # a procedure recorded as a problem is read by what it says
        ("Thrombophilia caused by hormone therapy", "thrombophilia"),
        ("Serum pregnancy test positive", "pregnancy"),
        # the ICD-O classification and FIGO names are no department
        (
            "International Federation of Gynecology and Obstetrics vulvar melanoma stage II",
            "malignancy",
        ),
    ],
)
def test_true_conditions_stay_recognised(text, concept):
    for code in (UNKNOWN, None):
        problems, _ = _read(code, text)
        assert any(concept in c for c in problems), text


def test_one_definition_for_the_builder_and_the_display_reader():
    # a cue added to [_not_a_condition] rules a name out for the expansion builder (reviewed,
    # not taken) and for the run-time reader alike; without it both take the name
    data = tomllib.loads(build.CONDITIONS.read_text(encoding="utf-8"))
    defs = load_definitions(data)
    implies = build.implied_closure(data)
    name = "Diabetes mellitus lantern parade"
    table = data["_not_a_condition"]
    extra = {"kind": "parade", "scope": "any", "reason": "a parade", "match": r"\blantern parade\b"}
    for cue_list, taken in ((table["cues"], True), ([*table["cues"], extra], False)):
        cues = load_not_a_condition({"_not_a_condition": {**table, "cues": cue_list}})
        members, review, _ = build.classify_untagged([("1", name)], defs, implies, cues)
        assert ("1" in members) is taken
        assert any(r[3].endswith("(parade)") for r in review) is not taken
        index = MeaningIndex(defs, dict(implies), cues)
        assert (index.concepts_of(name, "") == "diabetes") is taken
        assert (index.concepts_of(name + " (disorder)") == "diabetes") is taken


def test_a_cue_without_a_source_or_scope_is_refused():
    with pytest.raises(KeyError):
        load_not_a_condition({"_not_a_condition": {"cues": [{"kind": "x", "match": "x"}]}})
    with pytest.raises(KeyError):
        load_not_a_condition(
            {
                "_not_a_condition": {
                    "cues": [{"kind": "x", "scope": "any", "reason": "r", "match": "x"}]
                }
            }
        )


@pytest.mark.parametrize(
    ("code", "display", "concept"),
    [
        # ICD-O-3 8683/0: benign; named after paraganglioma, not a glioma
        ("253029009", "Gangliocytic paraganglioma (disorder)", "malignancy"),
        # ICD-10 M83.0 (chapter XIII): a bone disease, not a pregnancy
        ("190643008", "Puerperal osteomalacia", "pregnancy"),
        ("240167004", "Osteomalacia secondary to pregnancy (disorder)", "pregnancy"),
        # ICD-10 chapter II (D39.2, D07.3): a placental tumour not said to be benign may be a
        # gestational trophoblastic tumour arising after the pregnancy: not a pregnancy
        ("126920004", "Neoplasm of placenta", "pregnancy"),
        ("95005005", "Neoplasm of uncertain behavior of placenta (disorder)", "pregnancy"),
        ("237252008", "Placental site trophoblastic tumor (disorder)", "pregnancy"),
    ],
)
def test_decided_by_meaning_not_the_concept(code, display, concept):
    assert K.vs.condition_concept(SCT, code) is None  # not shipped: counted, never "no risk"
    for sent in (code, None):
        problems, unclassified = _read(sent, display)
        assert not any(concept in c for c in problems), display
        assert unclassified == 1, display


@pytest.mark.parametrize(
    ("display", "concept"),
    [
        ("Malignant neoplasm of placenta", "malignancy"),
        ("Paraganglioma, malignant (morphologic abnormality)", "malignancy"),
        ("Osteomalacia", None),
        ("Placenta praevia (disorder)", "pregnancy"),
        # a benign placental tumour (chorioangioma) exists only with the placenta
        ("Benign neoplasm of placenta (disorder)", "pregnancy"),
    ],
)
def test_decided_by_meaning_neighbours_stay(display, concept):
    problems, _ = _read(UNKNOWN, display)
    if concept is None:
        assert problems == []
    else:
        assert any(concept in c for c in problems), display

"""Look-alikes are not the concept they name (issue 11: no false positive on lists that include
look-alikes). data/lookalikes.tsv lists, from what the repository reads (the pinned SNOMED CT
inputs of the expansion builder, the ICD-10-CM tabular list and WHO ICD-10 categories), every
code whose name states a concept's disease with a cue that changes its meaning (family history,
screening, suspected, at risk, exposure, vaccination, a test or score, benign, in situ,
uncertain behaviour, latent, carrier, pseudo-, 'malignant' as a severity, varicella / herpes
simplex, a procedure, a past history), reviewed by meaning. Each runs through the service's
own normalise stage as an active Condition: by code alone, by code and display, by display
alone."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise
from tests.engine.condition_resources import active_condition

K = load_knowledge()
DATA = Path(__file__).parent / "data" / "lookalikes.tsv"
SYSTEMS = {
    "sct": "http://snomed.info/sct",
    "cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "who": "http://hl7.org/fhir/sid/icd-10",
}
HISTORY = "history of (active-only concept)"
TODAY = date(2026, 12, 5)


def _rows() -> list[dict[str, str]]:
    rows = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        system, code, looks_like, cue, display, source = line.split("\t")
        rows.append(
            {
                "system": system,
                "code": code,
                "looks_like": looks_like,
                "cue": cue,
                "display": display,
                "source": source,
            }
        )
    return rows


ROWS = _rows()


def _condition(system: str | None, code: str | None, display: str | None) -> dict[str, Any]:
    coding: dict[str, Any] = {}
    if code is not None:
        coding = {"system": SYSTEMS[system or ""], "code": code}
        if display is not None:
            coding["display"] = display
    return active_condition({"coding": [coding]} if coding else {"text": display})


def _read(resource: dict[str, Any]) -> list[tuple[frozenset[str], bool]]:
    facts = normalise(PatientRecord(patient_id="p", conditions=[resource]), [], K, TODAY)
    return [(p.concepts, p.active) for p in facts.problems]


def _recognised_as(row: dict[str, str]) -> list[str]:
    """How each of the three readings takes the look-alike as the concept it imitates."""
    wrong = []
    looks_like = set(row["looks_like"].split(","))
    runs = {
        "code": _condition(row["system"], row["code"], None),
        "code+display": _condition(row["system"], row["code"], row["display"]),
        "display": _condition(None, None, row["display"]),
    }
    for how, resource in runs.items():
        for concepts, active in _read(resource):
            hit = looks_like & concepts
            if hit and (active or row["cue"] != HISTORY):
                wrong.append(f"{how}: {sorted(hit)}{'' if active else ' (history)'}")
    return wrong


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r['system']}-{r['code']}-{r['looks_like']}" for r in ROWS]
)
def test_a_look_alike_is_not_the_concept_it_names(row):
    assert _recognised_as(row) == [], f"{row['display']} ({row['cue']}; {row['source']})"


def test_the_table_covers_every_cue_and_code_system():
    cues = Counter(r["cue"] for r in ROWS)
    for cue in (
        "family history",
        "screening",
        "suspected",
        "at risk",
        "exposure/contact",
        "vaccination",
        "test/assay",
        "benign",
        "in situ",
        "uncertain behaviour",
        "latent",
        "carrier",
        "pseudo",
        "malignant severity",
        "varicella/HSV",
        HISTORY,
    ):
        assert cues[cue] >= 2, cue
    assert {r["system"] for r in ROWS} == {"sct", "cm", "who"}
    assert len(ROWS) >= 900


def test_the_check_fails_on_a_true_member():
    # the check itself can fail: a code that means its concept is reported
    row = {
        "system": "sct",
        "code": "69896004",
        "looks_like": "ra",
        "cue": "test/assay",
        "display": "Rheumatoid arthritis (disorder)",
        "source": "check",
    }
    assert _recognised_as(row) == ["code: ['ra']", "code+display: ['ra']", "display: ['ra']"]


def _display_only(text: str) -> list[tuple[frozenset[str], bool]]:
    return _read(_condition(None, None, text))


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        # a test, measurement or score without a result that asserts the condition
        ("Rheumatoid arthritis latex test", "ra"),
        ("Squamous cell carcinoma antigen level", "malignancy"),
        ("Edinburgh postnatal depression scale score", "pregnancy"),
        # a procedure sent with its semantic tag is no disorder
        ("Excision of malignant neoplasm (procedure)", "malignancy"),
        ("Asthma annual review (procedure)", "chronic_lung_disease"),
        # a finding sent with its tag is read only by the definitions that take findings
        ("Pleurisy without effusion or active tuberculosis (finding)", "tb_active"),
        # alternatives: means a concept only if each alternative does
        ("(Neurotic depression reactive type) or (postnatal depression)", "pregnancy"),
        # a chemotherapy delivery is no obstetric delivery
        ("Chemotherapy delivery", "pregnancy"),
        # Clark level I melanoma is in situ; "Clark's melanoma level" is a grouper
        ("Clark melanoma level 1", "malignancy"),
        ("Clark's melanoma level", "malignancy"),
        ("pTis: Paget disease without invasive carcinoma (breast) (finding)", "malignancy"),
        # term-fp audit (2026-12-06): names that state a concept's word in another sense
        ("Pregnancy adenoma", "pregnancy"),
        ("Gestational rubella syndrome (disorder)", "pregnancy"),
        ("Pregnancy status unknown", "pregnancy"),
        ("Transmural infarction of intestine (disorder)", "mi"),
        ("Allergic encephalitis (disorder)", "serious_infection"),
        ("Experimental allergic encephalomyelitis", "serious_infection"),
        ("Fall into septic tank", "serious_infection"),
        ("Monoclonal B-cell lymphocytosis chronic lymphocytic leukemia-type", "malignancy"),
        ("Waldenstrom's hypergammaglobulinemic purpura", "malignancy"),
        ("Lymphoma finding", "malignancy"),
        ("Malignant cerebral edema", "malignancy"),
        ("Potentially malignant lesion", "malignancy"),
        ("糖尿病母亲婴儿", "diabetes"),
        ("母体糖尿病児", "diabetes"),
        ("副银屑病", "psoriasis"),
        ("乾癬樣皮膚炎", "psoriasis"),
        # a concept named only in what "without" governs is absent
        ("Pleurisy without effusion or active tuberculosis", "tb_active"),
        ("Pleurisy without effusion or active tuberculosis (disorder)", "tb_active"),
        ("Hypertensive heart disease with or without heart failure", "heart_failure"),
        ("Other pleural effusion excluding mention of tuberculosis", "tb_active"),
        # UK primary care terms (CPRD Aurum) read by display
        ("Myalgic encephalomyelitis", "serious_infection"),
        ("ME - Myalgic encephalomyelitis", "serious_infection"),
        ("Kuru encephalitis", "serious_infection"),
        ("Interstitial pulmonary emphysema", "ild"),
        ("Interstitial pulmonary emphysema", "chronic_lung_disease"),
        ("Maternal diabetes syndrome", "diabetes"),
        ("Bronzed diabetes", "diabetes"),
        ("AURAS-AF - more time needed to decide on diabetes status", "diabetes"),
        ("[M]Juvenile astrocytoma", "malignancy"),
        ("[M]Neuroastrocytoma", "malignancy"),
        ("Diabetic relative", "diabetes"),
        ("Staff group: Nursing - Diabetic Nursing/Liaison", "diabetes"),
        ("Liverpool diabetes pilot - support option 3", "diabetes"),
        ("Diabetes, Heart disease and Stroke(DHDS)prevention pilot project", "stroke"),
        ("Signposting to Diabetes UK", "diabetes"),
        ("Discussion about hypoglycaemia in pregnancy", "pregnancy"),
        ("Inadequate monitoring of dose delivery of peritoneal dialysis (finding)", "pregnancy"),
        ("糖尿病予備軍", "diabetes"),
        ("水痘帯状疱疹ウイルス感染症", "herpes_zoster"),
        ("帯状疱疹ウイルス", "herpes_zoster"),
        ("非細菌性心内膜炎", "serious_infection"),
    ],
)
def test_display_read_by_name_is_not_a_look_alike(text, concept):
    assert not any(concept in concepts for concepts, _ in _display_only(text))


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Rheumatoid arthritis", "ra"),
        ("Polymerase chain reaction test for Hepatitis C positive", "hcv_infection"),
        ("Serum pregnancy test positive", "pregnancy"),
        ("Tuberculosis (disorder)", "tb_active"),
        ("Hepatitis B carrier", "hbv_chronic"),
        ("Clark melanoma level 4 (finding)", "malignancy"),
        ("Antenatal care of primigravida", "pregnancy"),
        ("Unplanned pregnancy unknown if child is wanted", "pregnancy"),
        ("Transmural myocardial infarction", "mi"),
        ("Septic shock", "serious_infection"),
        ("Chronic lymphocytic leukemia", "malignancy"),
        ("Waldenstrom macroglobulinemia", "lymphoma"),
        ("Malignant neoplasm of brain", "malignancy"),
        ("银屑病", "psoriasis"),
        ("Type 2 diabetes mellitus without complication", "diabetes"),
        ("Ketoacidosis without coma due to diabetes mellitus", "diabetes"),
        ("Pulmonary embolism without acute cor pulmonale", "pe"),
        ("Hypertensive heart disease with or without heart failure", "hypertension"),
        ("Malignant neoplasm of skin of trunk, excluding scrotum", "malignancy"),
        ("Anaplastic astrocytoma", "malignancy"),
        ("Herpes simplex encephalitis", "serious_infection"),
        ("Pulmonary emphysema", "chronic_lung_disease"),
        ("帯状疱疹後神経痛", "herpes_zoster"),
        ("感染性心内膜炎", "serious_infection"),
        ("2型糖尿病", "diabetes"),
    ],
)
def test_display_read_by_name_still_takes_true_members(text, concept):
    assert any(concept in concepts for concepts, _ in _display_only(text))


@pytest.mark.parametrize(
    ("code", "display"),
    [
        (
            "316844003",
            "[X]Personal history of malignant neoplasm of other respiratory and intrathoracic"
            " organs",
        ),
        ("428978004", "Past pregnancy history of choriocarcinoma of placenta"),
    ],
)
def test_a_personal_history_code_of_a_past_cancer_is_history(code, display):
    (found,) = _read(_condition("sct", code, None))
    assert found == (K.vs.concepts_with_implied("malignancy"), False)


@pytest.mark.parametrize(
    ("code", "display", "concept"),
    [
        (
            "734522002",
            "Acute myeloid leukemia with FMS-like tyrosine kinase-3 mutation (disorder)",
            "malignancy",
        ),
        ("421658000", "Papillary carcinoma, Warthin-like", "malignancy"),
        (
            "195896004",
            "Pneumonia caused by pleuropneumonia-like organism (disorder)",
            "serious_infection",
        ),
    ],
)
def test_an_x_like_word_that_qualifies_another_word_leaves_the_disease_named(
    code, display, concept
):
    # "-like" qualifies the word it is joined to: the disease named outside it is the patient's
    assert any(concept in c for c, _ in _read(_condition("sct", code, None)))
    assert any(concept in c for c, _ in _display_only(display))


@pytest.mark.parametrize(
    ("text", "concept"),
    [("Lymphoma-like lesion", "lymphoma"), ("Sepsis-like syndrome", "serious_infection")],
)
def test_a_disease_named_only_in_an_x_like_word_is_a_look_alike(text, concept):
    assert not any(concept in c for c, _ in _display_only(text))


TEMPLATES = DATA.parent / "lookalike_templates.tsv"


def _templates() -> list[tuple[str, str, str]]:
    out = []
    for line in TEMPLATES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            cue, expect, template = line.split("\t")
            out.append((cue, expect, template))
    return out


def _names() -> list[tuple[str, str]]:
    import tomllib

    path = Path(__file__).parents[2] / "cds_service/knowledge/valuesets/conditions.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [
        (concept, name)
        for concept, table in data.items()
        if not concept.startswith("_") and isinstance(table, dict)
        for name in table.get("names", {}).get("en", [])
    ]


NAMES = _names()


@pytest.mark.parametrize(("cue", "expect", "template"), _templates())
def test_a_concept_name_with_a_look_alike_cue_is_not_the_concept(cue, expect, template):
    wrong = []
    for concept, name in NAMES:
        text = template.format(name)
        for concepts, active in _display_only(text):
            if concept in concepts and (expect == "none" or active):
                wrong.append(text)
    assert wrong == [], f"{cue}: {wrong[:10]}"


def test_the_templates_cover_the_cues_and_every_concept_name():
    cues = {cue for cue, _, _ in _templates()}
    assert {"family history", "screening", "suspected", "ruled out", "at risk"} <= cues
    assert {"exposure", "vaccination", "prophylaxis", "test", "history of", "pseudo"} <= cues
    assert len(NAMES) >= 120


@pytest.mark.parametrize(
    ("system", "code"), [("cm", "T88.0XXA"), ("who", "T88.0"), ("cm", "T88.0")]
)
def test_an_infection_following_immunisation_is_not_read_as_serious_by_its_code(system, code):
    # T88.0 holds an injection-site abscess as much as a sepsis: the display decides, else the
    # Condition is counted as not classified (never "no infection")
    facts = normalise(
        PatientRecord(patient_id="p", conditions=[_condition(system, code, None)]), [], K, TODAY
    )
    assert facts.problems == []
    assert len(facts.unclassified_conditions) == 1
    sepsis = _condition(system, code, None)
    sepsis["code"]["text"] = "Sepsis following immunization"
    (found,) = _read(sepsis)
    assert "serious_infection" in found[0]


def test_lymphogranuloma_malignant_is_hodgkin_lymphoma_and_venereum_is_not():
    (found,) = _read(_condition("sct", "269509006", None))  # [M]Lymphogranuloma, malignant
    assert "lymphoma" in found[0]
    assert not any("lymphoma" in c for c, _ in _display_only("Lymphogranuloma venereum"))


@pytest.mark.parametrize(
    ("system", "code", "not_concept"),
    [
        ("cm", "T81.44XS", "serious_infection"),  # sepsis following a procedure, sequela
        ("cm", "T81.12XS", "serious_infection"),  # postprocedural septic shock, sequela
        ("cm", "T80.211S", "serious_infection"),  # CVC bloodstream infection, sequela
        ("cm", "O94", "pregnancy"),  # sequelae of complication of pregnancy
        ("who", "O94", "pregnancy"),
    ],
)
def test_a_late_effect_is_not_the_active_condition(system, code, not_concept):
    facts = normalise(
        PatientRecord(patient_id="p", conditions=[_condition(system, code, None)]), [], K, TODAY
    )
    assert facts.problems == [] and facts.unclassified_conditions == []


@pytest.mark.parametrize(
    ("system", "code", "concept"),
    [
        ("cm", "T81.44XA", "serious_infection"),
        ("cm", "T81.44XD", "serious_infection"),
        ("cm", "O99.89", "pregnancy"),
        ("who", "O95", "pregnancy"),
    ],
)
def test_the_same_categories_current_codes_stay_the_concept(system, code, concept):
    (found,) = _read(_condition(system, code, None))
    assert concept in found[0]


@pytest.mark.parametrize(
    ("display", "concept"),
    [
        ("CD-30 negative cutaneous T-cell lymphoma (disorder)", "lymphoma"),
        ("Atypical chronic myeloid leukaemia, BCR/ABL negative", "malignancy"),
        (
            "Non-small cell lung cancer, negative for epidermal growth factor receptor expression"
            " (disorder)",
            "malignancy",
        ),
        ("Reactive oxygen species 1 negative non-small cell lung cancer (disorder)", "malignancy"),
        ("Angiogram-negative intracranial subarachnoid hemorrhage", "stroke"),
        ("Cirrhosis of liver not due to alcohol (disorder)", "cirrhosis"),
        (
            "Kaposi sarcoma not associated with acquired immunodeficiency syndrome (disorder)",
            "malignancy",
        ),
        ("Plasmacytoma, extramedullary (not occurring in bone)", "malignancy"),
        (
            "Macular edema not clinically significant due to diabetes mellitus (disorder)",
            "diabetes",
        ),
        ("Stage 1 hypertension without evidence of end organ damage", "hypertension"),
    ],
)
def test_a_negative_marker_or_cause_leaves_the_disease_named(display, concept):
    # "negative" after a marker, and "not due to / not associated with" after the disease, say
    # what kind of disease it is, not that it is absent
    assert any(concept in c for c, _ in _display_only(display))


@pytest.mark.parametrize(
    ("display", "concept"),
    [
        ("Galactorrhea not associated with childbirth (disorder)", "pregnancy"),
        (
            "Occlusion and stenosis of cerebral arteries, not resulting in cerebral infarction",
            "stroke",
        ),
        ("Eaton Lambert syndrome without underlying malignancy (disorder)", "malignancy"),
        ("Hepatitis C antibody negative", "hcv_infection"),
    ],
)
def test_what_a_name_says_is_not_there_stays_out(display, concept):
    assert not any(concept in c for c, _ in _display_only(display))

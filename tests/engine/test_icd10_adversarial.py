"""ICD-10 by meaning, checked code by code: ICD-10-CM FY2026, WHO ICD-10 2019 and the national
editions (TW Core, JP Core, China's clinical edition with extension digits), with the look-alikes
around every concept the rules read (data/icd10_adversarial.tsv, labelled from the
classifications' tabular lists). Each Condition carries one coding and no display, so that only
the code decides, and runs through the service's own normalise stage."""

from __future__ import annotations

import re
import tomllib
import warnings
from datetime import date
from pathlib import Path

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise
from scripts.evaluate_conditions import condition, evaluate, expected_of, read_as, read_rows, report

K = load_knowledge()
DATA = Path(__file__).parent / "data" / "icd10_adversarial.tsv"
ROWS = read_rows(DATA)
CONDITIONS = Path(__file__).parents[2] / "cds_service/knowledge/valuesets/conditions.toml"
WHO = "http://hl7.org/fhir/sid/icd-10"


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r['system']}-{r['code']}-{r['expected']}" for r in ROWS]
)
def test_each_code_is_read_as_its_tabular_list_says(row):
    got = read_as(K, condition(row["system"], row["code"], None))
    assert got == expected_of(K, row["expected"]), row["why"]


def test_the_list_covers_every_kind_of_decision():
    systems = {r["system"] for r in ROWS}
    assert {"cm", "who", "cn", "jp", "tw"} <= systems
    kinds = {r["expected"] for r in ROWS}
    assert {"none", "open"} <= kinds
    assert len(ROWS) >= 400


def test_the_evaluation_report_gives_recall_and_false_positives_per_system_and_concept():
    results = evaluate(K, ROWS[:40] + [{**ROWS[0], "expected": "malignancy"}])
    text = report(results, show_misses=True)
    assert "code\tcm\t" in text
    # the deliberately wrong label shows as a miss of malignancy and a false positive
    assert re.search(r"^malignancy\t\d+\t\d+\t\d+\.\d%\t0$", text, re.M)
    assert re.search(r"^hypertension\t\d+\t\d+\t100\.0%\t1$", text, re.M)
    assert "code\tcm\tI10\tmalignancy\thypertension" in text


def _facts(coding: dict, text: str | None = None):
    cc: dict = {"coding": [coding]}
    if text is not None:
        cc["text"] = text
    resource = {"resourceType": "Condition", "id": "c1", "code": cc}
    record = PatientRecord(patient_id="p", conditions=[resource])
    return normalise(record, [], K, date(2026, 12, 5))


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("B型肝炎ウイルスキャリア", "hbv_chronic"),
        ("乙肝病毒携带者", "hbv_chronic"),
        ("B型肝炎帶原者", "hbv_chronic"),
        ("Hepatitis B carrier", "hbv_chronic"),
        ("C型肝炎キャリア", "hcv_infection"),
    ],
)
def test_who_z22_5_carrier_is_read_by_its_display(text, concept):
    facts = _facts({"system": WHO, "code": "Z22.5"}, text)
    (problem,) = facts.problems
    assert concept in problem.concepts
    assert problem.by_name


def test_who_z22_5_without_a_display_is_unclassified_not_absent():
    facts = _facts({"system": WHO, "code": "Z22.5"})
    assert not facts.problems
    (item,) = facts.unclassified_conditions
    assert item.codes == (("icd10", "Z22.5"),)


def test_a_who_history_of_circulatory_disease_is_read_by_its_display():
    facts = _facts({"system": WHO, "code": "Z86.7"}, "History of deep vein thrombosis")
    (problem,) = facts.problems
    assert "dvt" in problem.concepts and not problem.active


def _icd_entries():
    data = tomllib.loads(CONDITIONS.read_text(encoding="utf-8"))
    for concept, table in data.items():
        if not isinstance(table, dict):
            continue
        for key in ("icd10cm", "icd10"):
            entries = table.get(key, [])
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and "range" not in entry:
                    yield concept, entry


def test_icd10_entries_match_national_extensions_unless_cm_subdivides_them():
    """An entry of 3-4 characters matches its longer codes (China's M35.300 is M35.3) unless
    ICD-10-CM subdivides it into other meanings; one of 5 or more characters matches longer
    codes only over its ICD-10-CM children (a national I26.900 extends WHO I26.9, not CM's
    I26.90 septic pulmonary embolism)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as cm

        wrong = []
        for concept, entry in _icd_entries():
            code = entry["code"]
            kids = cm.get_children(code) if cm.is_valid_item(code) else []
            short = len(code.replace(".", "")) <= 4
            if short and not entry.get("descendants") and not kids:
                wrong.append(f"{concept} {code}: add descendants = true")
            if not short and entry.get("descendants") and not kids:
                wrong.append(f"{concept} {code}: an ICD-10-CM leaf of 5+ characters")
    assert not wrong, wrong


def test_reviewed_entries_say_why():
    missing = [
        f"{concept} {entry['code']}"
        for concept, entry in _icd_entries()
        if entry.get("source") == "review" and not str(entry.get("reason", "")).strip()
    ]
    assert not missing

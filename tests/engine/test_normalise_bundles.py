"""The normaliser over third-party charts (tests/data/bundles: Synthea R4, 40 patients).

Synthea writes real LOINC, SNOMED CT, RxNorm and CVX codes; these tests check that every chart
is read without error and that what the charts say arrives as concepts. The charts are copies
of ../shared/data/bundles kept in the repository (tests/data/bundles/README.md: provenance).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise

BUNDLES = Path(__file__).resolve().parents[1] / "data" / "bundles"  # copies, with provenance
FILES = sorted(BUNDLES.glob("*.json"))
K = load_knowledge()
TODAY = date(2026, 11, 23)


def record_of(path: Path) -> PatientRecord:
    by_type: dict[str, list] = defaultdict(list)
    for entry in json.loads(path.read_text(encoding="utf-8")).get("entry", []):
        resource = entry.get("resource", {})
        by_type[resource.get("resourceType")].append(resource)
    return PatientRecord(
        patient_id="p",
        patient=(by_type["Patient"] or [None])[0],
        observations=by_type["Observation"],
        conditions=by_type["Condition"],
        medication_requests=by_type["MedicationRequest"],
        medication_statements=by_type["MedicationStatement"],
        immunizations=by_type["Immunization"],
    )


@pytest.fixture(scope="module")
def all_facts():
    return {path.name: normalise(record_of(path), [], K, TODAY) for path in FILES}


def test_every_chart_is_read(all_facts):
    assert len(all_facts) == len(FILES) == 40
    for facts in all_facts.values():
        assert facts.age is not None and facts.sex in {"male", "female"}
        for values in facts.observations.values():
            assert values == sorted(values, key=lambda o: (o.when, o.ref), reverse=True)


def test_what_the_charts_record_arrives_as_concepts(all_facts):
    counts: dict[str, int] = defaultdict(int)
    problems: dict[str, int] = defaultdict(int)
    for facts in all_facts.values():
        for concept, values in facts.observations.items():
            counts[concept] += len(values)
        for p in facts.problems:
            for c in p.concepts:
                problems[c] += 1
    # Synthea records these in most charts: weight, BMI, smoking status, lipids, eGFR
    for concept in ("body_weight", "bmi", "smoking_status", "ldl", "hdl", "egfr", "creatinine"):
        assert counts[concept] > 100, concept
    assert problems["ra"] >= 5 and problems["hypertension"] >= 10
    assert problems["diabetes"] >= 10 and problems["malignancy"] >= 3


def test_egfr_sent_in_ml_per_min_is_kept_and_lipids_stay_in_mg_per_dl(all_facts):
    egfr = [o for f in all_facts.values() for o in f.observations.get("egfr", ())]
    assert {o.unit for o in egfr} == {"mL/min/{1.73_m2}"}
    assert any(o.original.endswith("mL/min") for o in egfr)
    ldl = [o for f in all_facts.values() for o in f.observations.get("ldl", ())]
    assert all(o.unit == "mg/dL" and 0 < o.value < 400 for o in ldl)


def test_smoking_status_answers_are_all_understood(all_facts):
    answers = {
        o.interpretation
        for f in all_facts.values()
        for o in f.observations.get("smoking_status", ())
    }
    assert answers <= {"current", "former", "never", "unknown"} and "never" in answers


def test_live_vaccines_of_the_charts_are_flagged(all_facts):
    live = {v.cvx for f in all_facts.values() for v in f.vaccinations if v.live}
    assert {"121", "21", "03"} <= live
    assert not any(v.live for f in all_facts.values() for v in f.vaccinations if v.cvx == "140")

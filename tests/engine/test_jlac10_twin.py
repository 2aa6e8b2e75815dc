"""A Japanese chart coded in JLAC10 (JP Core's laboratory system) gives the same scores and
findings as its LOINC twin, with no institution configuration (issue 11 point 4).

The twin is the demo chart demo-ra-japan-icd10 with every laboratory result rewritten the way a
Japanese laboratory sends it: JLAC10 codes (written here literally, from the JP-CLINS core and
infection laboratory sets and the NHO SS-MIX2 JLAC10 table), Japanese units (/μL, 10^4/μL,
mg/dL), the differential in %, qualitative results as text. What has no JLAC10 code stays as it
is: joint counts and global assessments (clinical scores, not laboratory tests), smoking
status, and anti-HBc (no published JLAC10 code was found for it).
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from cards.examples import record_from_bundle
from cds_service.assess.engine import assess
from cds_service.assess.registry import Settings
from cds_service.demo_data import demo_patient
from cds_service.knowledge import load_knowledge
from cds_service.model import Assessment
from cds_service.normalise import normalise, recognise_orders

K = load_knowledge()
TODAY = date(2026, 11, 23)
JLAC10 = "urn:oid:1.2.392.200119.4.504"
LOINC = "http://loinc.org"

# LOINC code -> (JLAC10 code, Japanese name, value rewrite)
Rewrite = tuple[str, str, Any]


def _quantity(factor: float, unit: str):
    def rewrite(resource: dict[str, Any]) -> None:
        q = resource["valueQuantity"]
        resource["valueQuantity"] = {"value": round(q["value"] * factor, 4), "unit": unit}

    return rewrite


def _text(resource: dict[str, Any]) -> None:
    answer = resource.pop("valueCodeableConcept")["coding"][0]["code"]
    resource["valueString"] = {"260385009": "陰性", "10828004": "陽性"}[answer]


def _keep_unit(resource: dict[str, Any]) -> None:
    q = resource["valueQuantity"]
    resource["valueQuantity"] = {"value": q["value"], "unit": q["unit"]}


TWIN: dict[str, Rewrite] = {
    "718-7": ("2A030000001930101", "ヘモグロビン", _keep_unit),
    "6690-2": ("2A010000001930101", "白血球数", _quantity(1000, "/μL")),
    "777-3": ("2A050000001930101", "血小板数", _quantity(0.1, "10^4/μL")),
    "1742-6": ("3B045000002327201", "ALT(GPT)", _keep_unit),
    "1920-8": ("3B035000002327201", "AST(GOT)", _keep_unit),
    "2160-0": ("3C015000002327101", "クレアチニン", _keep_unit),
    "98979-8": ("8A065000002391901", "eGFR", _quantity(1, "mL/min/1.73m2")),
    "2093-3": ("3F050000002327101", "総コレステロール", _keep_unit),
    "13457-7": ("3F077000002391901", "LDL-コレステロール(計算)", _keep_unit),
    "2085-9": ("3F070000002327101", "HDL-コレステロール", _keep_unit),
    "2571-8": ("3F015000002327101", "中性脂肪", _keep_unit),
    "71773-6": ("5E301000001903151", "結核菌特異的IFN-γ 判定", _text),
    "5196-1": ("5F016141002305211", "HBs抗原(判定)", _text),  # CLEIA: another method
    "22322-2": ("5F016143002305111", "HBs抗体(判定)", _text),
    "16128-1": ("5F360151202302311", "HCV抗体(判定)", _text),
    "4537-7": ("2Z010000001992052", "赤沈 1時間値", _quantity(1, "mm")),
    "1988-5": ("5C070000002306201", "CRP", _keep_unit),
}
# the differential: absolute counts become percentages of the white cell count of the day
DIFFERENTIAL = {
    "751-8": ("2A160000001930151", "好中球"),
    "731-0": ("2A160000001930157", "リンパ球"),
}
STAYS = {"88981-6", "88980-8", "75894-6", "75846-6", "72166-2", "16933-4"}


def _loinc(resource: dict[str, Any]) -> str | None:
    for coding in resource.get("code", {}).get("coding", []):
        if coding.get("system") == LOINC:
            return coding["code"]
    return None


def _jlac10(resource: dict[str, Any], code: str, name: str) -> None:
    resource["code"] = {"coding": [{"system": JLAC10, "code": code, "display": name}], "text": name}


def japanese_twin(bundle: dict[str, Any]) -> dict[str, Any]:
    twin = copy.deepcopy(bundle)
    observations = [
        e["resource"] for e in twin["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    wbc_by_day = {
        o["effectiveDateTime"]: o["valueQuantity"]["value"]
        for o in observations
        if _loinc(o) == "6690-2"
    }
    for o in observations:
        loinc = _loinc(o)
        if loinc in TWIN:
            code, name, rewrite = TWIN[loinc]
            rewrite(o)
            _jlac10(o, code, name)
        elif loinc in DIFFERENTIAL:
            code, name = DIFFERENTIAL[loinc]
            wbc = wbc_by_day[o["effectiveDateTime"]]
            pct = round(o["valueQuantity"]["value"] / wbc * 100, 2)
            o["valueQuantity"] = {"value": pct, "unit": "%"}
            _jlac10(o, code, name)
        else:
            assert loinc in STAYS, f"no JLAC10 rewrite for LOINC {loinc}"
    return twin


def _assessment(bundle: dict[str, Any]) -> Assessment:
    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "ゼルヤンツ錠5mg"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}],
            }
        ],
    }
    record = record_from_bundle(bundle)
    orders = recognise_orders([draft], K, None)
    assert orders, "the order is recognised"
    return assess(normalise(record, orders, K, TODAY), K, Settings())


def _summary(a: Assessment) -> dict[str, Any]:
    def rounded(value: Any) -> Any:
        return round(value, 1) if isinstance(value, float) else value

    return {
        "scores": sorted((s.id, rounded(s.value), s.category, s.when) for s in a.scores),
        "findings": sorted(
            (f.rule_id, f.severity, repr(sorted(f.params.items()))) for f in a.findings
        ),
        "not_assessed": sorted((n.rule_id, n.missing) for n in a.not_assessed),
    }


@pytest.fixture(scope="module")
def chart() -> dict[str, Any]:
    return demo_patient("demo-ra-japan-icd10", anchor=TODAY).bundle


def test_the_twin_carries_no_loinc_laboratory_code(chart):
    twin = japanese_twin(chart)
    left = {
        _loinc(e["resource"])
        for e in twin["entry"]
        if e["resource"]["resourceType"] == "Observation"
    } - {None}
    assert left <= STAYS


def test_jlac10_twin_gives_the_same_scores_and_findings_as_the_loinc_chart(chart):
    loinc = _summary(_assessment(chart))
    jlac10 = _summary(_assessment(japanese_twin(chart)))
    assert loinc["scores"], "the chart has disease activity scores"
    assert any(s[0] == "DAS28-ESR" for s in loinc["scores"])
    assert jlac10 == loinc


# --------------------------------------------------------------------------- single results


def _observe(*resources: dict[str, Any]):
    from cds_service.model import PatientRecord

    facts = normalise(PatientRecord(patient_id="p", observations=list(resources)), [], K, TODAY)
    return facts.observations, facts.dropped


def _lab(rid: str, code: str, value: float, unit: str, day: str = "2026-11-20") -> dict:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": JLAC10, "code": code}]},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, "unit": unit},
    }


def test_jlac10_matches_by_analyte_material_and_result_whatever_the_method():
    obs, _ = _observe(
        _lab("a", "5C070000002304101", 1.8, "mg/dL"),  # CRP, serum, FIA
        _lab("b", "5C070000000106201", 1.0, "mg/dL"),  # CRP in urine (material 001): not CRP
    )
    assert [(o.ref, o.value, o.unit) for o in obs["crp"]] == [("Observation/a", 18.0, "mg/L")]


def test_platelets_in_ten_thousands_per_microlitre():
    obs, _ = _observe(_lab("p", "2A050000001930101", 26.2, "10^4/μL"))
    assert obs["platelets"][0].value == 262000


def test_differential_percentage_becomes_an_absolute_count_only_with_the_same_days_wbc():
    obs, dropped = _observe(
        _lab("w", "2A010000001930101", 6000, "/μL"),
        _lab("n", "2A160000001930151", 50.0, "%"),
        _lab("l", "2A160000001930157", 20.0, "%", day="2026-11-19"),  # no WBC that day
    )
    assert [(o.value, o.unit) for o in obs["anc"]] == [(3000.0, "/uL")]
    assert "alc" not in obs
    assert any(d.ref == "Observation/l" and "same day" in d.reason for d in dropped)


def test_a_measured_absolute_count_wins_over_the_percentage():
    measured = _lab("m", "751-8", 2.5, "10*3/uL")
    measured["code"] = {"coding": [{"system": LOINC, "code": "751-8"}]}
    obs, _ = _observe(
        _lab("w", "2A010000001930101", 6000, "/μL"),
        _lab("n", "2A160000001930151", 50.0, "%"),
        measured,
    )
    assert [o.value for o in obs["anc"]] == [2500.0]

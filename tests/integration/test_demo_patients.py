"""Every demo patient through the service against the HAPI FHIR server, as an integrator
checks a FHIR server with `rheum-cds try`: order-sign with full prefetch and with none (the
service fetches), the same findings both ways, and the rule ids each chart was written for."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout

import pytest
import requests

from cds_service.cli import main as cli_main
from cds_service.commands.try_hook import Client, findings_of, run_try
from cds_service.demo_data import DemoPatient, TryOrder, demo_patients
from tests.cards.helpers import assert_valid_cards
from tests.integration.conftest import DEMO_ANCHOR

SCREENING = {"JAKI-TB-SCREEN", "JAKI-HBV", "JAKI-HCV"}

# (patient, drug) -> rule ids that must be reported (finding or not-assessed entry).
EXPECTED: dict[tuple[str, str], set[str]] = {
    ("demo-ra-elderly-smoker", "tofacitinib"): {
        "JAKI-AGE-65",
        "JAKI-SMOKER",
        "JAKI-MACE-RISK",
        "RA-ACTIVITY",
    },
    ("demo-ra-low-activity", "upadacitinib"): {"RA-ACTIVITY", "RA-LOW-ACTIVITY"},
    ("demo-ra-prior-pe", "baricitinib"): {"JAKI-VTE-HISTORY", "JAKI-VTE-RISK"},
    ("demo-ra-cancer-history", "tofacitinib"): {"JAKI-MALIGNANCY"},
    ("demo-ra-pregnancy", "upadacitinib"): {"JAKI-PREGNANCY"},
    ("demo-ra-hbsag-positive", "baricitinib"): {"JAKI-HBV"},
    ("demo-ra-latent-tb", "tofacitinib"): {"JAKI-TB-SCREEN"},
    ("demo-ra-ckd3b", "baricitinib"): {"JAKI-RENAL-DOSE", "JAKI-AGE-65"},
    ("demo-ra-ckd3b", "tofacitinib"): {"JAKI-AGE-65"},
    ("demo-ra-ckd4", "baricitinib"): {"JAKI-RENAL-DOSE"},
    ("demo-ra-ckd4", "tofacitinib"): {"JAKI-RENAL-DOSE"},
    ("demo-ra-interacting-drugs", "tofacitinib"): {"JAKI-DDI"},
    ("demo-ra-interacting-drugs", "baricitinib"): {"JAKI-DDI"},
    ("demo-ra-biologic-active", "tofacitinib"): {"JAKI-COMBINATION"},
    ("demo-pmr-new-onset", "baricitinib"): {"PMR-ACTIVITY", "PMR-OFF-LABEL", "JAKI-AGE-65"},
    ("demo-dm-mda5-ild", "tofacitinib"): {
        "MYO-MDA5-ILD-RISK",
        "MYO-CK-TREND",
        "MYO-PJP-PROPHYLAXIS",
        "JAKI-COMBINATION",
    },
    ("demo-rosacea-jak", "ruxolitinib cream"): {"JAKI-TOPICAL", "ROSACEA-OFF-LABEL"},
    ("demo-rosacea-jak", "upadacitinib"): {"JAKI-PARADOXICAL-ROSACEA"},
    ("demo-ifx-low-trough", "infliximab"): {"IFX-TDM-LOW", "IFX-INTERVAL"},
    ("demo-ifx-antibodies", "infliximab"): {"IFX-TDM-LOW", "IFX-ADA", "IFX-MTX"},
    ("demo-ra-screening-missing", "upadacitinib"): SCREENING | {"JAKI-ZOSTER", "JAKI-LIPIDS"},
    ("demo-ra-cytopenia-gi", "filgotinib"): {
        "JAKI-LAB-ANC",
        "JAKI-LAB-ALC",
        "JAKI-LAB-HB",
        "JAKI-GI-PERFORATION",
        "JAKI-LIVE-VACCINE",
        "JAKI-FILGOTINIB-FERTILITY",
    },
    ("demo-ra-japan-icd10", "ゼルヤンツ"): {"JAKI-AGE-65", "RA-ACTIVITY"},
    ("demo-ra-taiwan-icd10cm", "托法替布"): {"JAKI-AGE-65", "JAKI-MACE-RISK", "RA-ACTIVITY"},
}

# Charts with complete, recent screening: none of these rule ids may be reported for them
# (a code the service does not recognise would show up here as "missing").
SCREENED_ABSENT = {
    "demo-ra-elderly-smoker": SCREENING | {"JAKI-ZOSTER", "JAKI-LAB-MISSING"},
    "demo-ra-low-activity": SCREENING
    | {"JAKI-ZOSTER", "JAKI-AGE-65", "JAKI-LAB-MISSING", "JAKI-CONTRACEPTION"},
    "demo-ra-ckd3b": SCREENING | {"JAKI-ZOSTER", "JAKI-LAB-MISSING"},
    "demo-ra-biologic-active": SCREENING | {"JAKI-ZOSTER", "JAKI-LAB-MISSING"},
    "demo-ifx-low-trough": SCREENING | {"IFX-TDM-NONE", "IFX-MTX", "IFX-ADA"},
    "demo-ra-japan-icd10": SCREENING | {"JAKI-ZOSTER", "JAKI-LAB-MISSING"},
}

CASES = [(p.id, t) for p in demo_patients() for t in p.tries]


def _case_id(case: tuple[str, TryOrder]) -> str:
    return f"{case[0]}:{case[1].drug}"


def _call(cds: Client, fhir: str, patient: str, order: TryOrder, prefetch: bool, hook: str):
    request, answer = run_try(
        cds,
        fhir=fhir,
        patient_id=patient,
        hook=hook,
        drug=order.drug,
        dose_mg=order.dose_mg,
        per_day=order.per_day,
        reason=order.reason,
        prefetch=prefetch,
    )
    assert answer.status == 200, answer.body
    cards = answer.body["cards"]
    assert_valid_cards(cards)
    return request, cards


def test_at_least_fifteen_demo_patients_each_a_full_chart() -> None:
    patients: list[DemoPatient] = demo_patients()
    assert len(patients) >= 15
    for patient in patients:
        kinds = {e["resource"]["resourceType"] for e in patient.bundle["entry"]}
        assert {"Patient", "Condition", "Observation", "MedicationRequest"} <= kinds, patient.id
        assert all(e["request"]["method"] == "PUT" for e in patient.bundle["entry"])
        assert patient.tries, patient.id
    assert {(p.id, t.drug) for p in patients for t in p.tries} == set(EXPECTED)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_order_sign_same_findings_with_and_without_prefetch(
    case: tuple[str, TryOrder], demo_fhir: str, cds: Client
) -> None:
    patient, order = case
    request, with_prefetch = _call(cds, demo_fhir, patient, order, True, "order-sign")
    assert set(request["prefetch"]) == {
        "patient",
        "conditions",
        "observations",
        "medicationRequests",
        "immunizations",
    }
    assert request["prefetch"]["observations"]["entry"], "prefetch carried no observations"
    request, fetched = _call(cds, demo_fhir, patient, order, False, "order-sign")
    assert "prefetch" not in request
    found = findings_of(with_prefetch)
    assert found == findings_of(fetched)
    ids = {rule for rule, _severity in found}
    missing = EXPECTED[(patient, order.drug)] - ids
    assert not missing, f"expected rule ids not reported: {sorted(missing)}; got {found}"
    unexpected = SCREENED_ABSENT.get(patient, set()) & ids
    assert not unexpected, f"reported although the chart has the data: {sorted(unexpected)}"


# patient-view: scores computed from the chart's visits (values by hand from SPEC.md section 1).
# The Japanese chart sends VAS in cm and CRP in mg/dL: the same formulas after conversion.
SCORES = [
    ("demo-ra-elderly-smoker", "DAS28-ESR", 6.75, "high"),
    ("demo-ra-low-activity", "DAS28-ESR", 3.09, "low"),
    ("demo-pmr-new-onset", "PMR-AS-CRP", 15.4, "medium"),
    ("demo-ra-japan-icd10", "DAS28-ESR", 6.2, "high"),
    ("demo-ra-japan-icd10", "DAS28-CRP", 5.61, "high"),
]


@pytest.mark.parametrize("case", SCORES, ids=[f"{c[0]}:{c[1]}" for c in SCORES])
def test_patient_view_shows_the_latest_score(
    case: tuple[str, str, float, str], demo_fhir: str, cds: Client
) -> None:
    patient, score_id, value, category = case
    for prefetch in (True, False):
        _request, answer = run_try(
            cds, fhir=demo_fhir, patient_id=patient, hook="patient-view", prefetch=prefetch
        )
        assert answer.status == 200, answer.body
        assert_valid_cards(answer.body["cards"])
        scores = [
            s
            for card in answer.body["cards"]
            for s in card["extension"]["org.rheum-cds"].get("scores", [])
            if s["id"] == score_id
        ]
        assert scores, f"no {score_id} on the cards"
        latest = max(scores, key=lambda s: s["date"])
        assert latest["value"] == pytest.approx(value, abs=0.01)
        assert latest["category"] == category


@pytest.mark.parametrize("hook", ["order-select", "patient-view"])
def test_other_hooks_answer_for_every_demo_patient(hook: str, demo_fhir: str, cds: Client) -> None:
    for patient in demo_patients():
        order = patient.tries[0]
        _call(cds, demo_fhir, patient.id, order, hook == "patient-view", hook)


def test_load_demo_twice_changes_nothing(demo_fhir: str) -> None:
    def versions() -> dict[str, str]:
        out = {}
        for patient in demo_patients():
            resource = requests.get(
                f"{demo_fhir}/Patient/{patient.id}",
                headers={"Accept": "application/fhir+json", "Cache-Control": "no-cache"},
                timeout=30,
            ).json()
            out[patient.id] = resource["meta"]["versionId"]
        return out

    before = versions()
    with redirect_stdout(io.StringIO()):
        assert cli_main(["load-demo", "--fhir", demo_fhir, "--anchor", DEMO_ANCHOR]) == 0
    assert versions() == before


def test_try_command_prints_cards_both_ways(demo_fhir: str, capsys: pytest.CaptureFixture) -> None:
    base = ["try", "--fhir", demo_fhir, "--patient", "demo-ra-elderly-smoker"]
    order = ["--drug", "tofacitinib", "--dose", "5", "--per-day", "2"]
    printed = []
    for mode in ("--prefetch", "--no-prefetch"):
        assert cli_main([*base, *order, mode]) == 0
        out = capsys.readouterr().out
        assert "HTTP 200" in out
        assert "JAKI-AGE-65" in out
        printed.append(out.split("rule ids:")[-1].strip())
    assert printed[0] == printed[1]
    assert cli_main([*base, *order, "--lang", "ja"]) == 0
    japanese = capsys.readouterr().out.split("rule ids:")[0]
    assert re.search(r"[\u3040-\u30ff]", japanese), "cards not in Japanese"

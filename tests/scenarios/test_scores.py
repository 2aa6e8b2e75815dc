"""SPEC §1 disease-activity scores at their category edges, computed from the components a chart
sends (patient-view and order-sign), with the values and categories on the cards."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.knowledge import load_knowledge
from tests.scenarios.chart import SCT, Chart, condition, quantity, sign

LAB = "http://lab.example-hospital.org/codes"
# morning stiffness and arm elevation have no LOINC code: an institution maps its own
LOCAL_CODES = {
    "observations": {
        "morning_stiffness_min": {"codes": [{"system": LAB, "code": "PMR-MST"}]},
        "elevation_upper_limbs": {"codes": [{"system": LAB, "code": "PMR-EUL"}]},
    }
}


def _ra(*observations: dict[str, Any]) -> Chart:
    return Chart(observations=list(observations))


def _das28(tjc: int, sjc: int, esr: float, ptga_mm: float) -> Chart:
    return _ra(
        quantity("88981-6", tjc, "{#}"),
        quantity("88980-8", sjc, "{#}"),
        quantity("4537-7", esr, "mm/h"),
        quantity("75894-6", ptga_mm, "mm"),
    )


def _cdai(tjc: int, sjc: int, ptga_cm: float, prga_cm: float, crp_mg_l: float | None = None):
    obs = [
        quantity("88981-6", tjc, "{#}"),
        quantity("88980-8", sjc, "{#}"),
        quantity("75894-6", ptga_cm, "cm"),
        quantity("75846-6", prga_cm, "cm"),
    ]
    if crp_mg_l is not None:
        obs.append(quantity("1988-5", crp_mg_l, "mg/L"))
    return _ra(*obs)


@dataclasses.dataclass
class ScoreCase:
    name: str
    chart: Chart
    score: str
    value: float
    category: str

    def __str__(self) -> str:
        return self.name


RA_CASES = [
    # DAS28-ESR = 0.56*sqrt(0) + 0.28*sqrt(1) + 0.70*ln(48) + 0.014*15 = 3.1998
    ScoreCase("DAS28-ESR 3.20 (3.1998) is low", _das28(0, 1, 48, 15), "DAS28-ESR", 3.2, "low"),
    # 0.28 + 0.70*ln(16) + 0.014*70 = 3.2008: shown as 3.20, so low like the number the card shows
    ScoreCase("DAS28-ESR 3.20 (3.2008) is low", _das28(0, 1, 16, 70), "DAS28-ESR", 3.2, "low"),
    # 0.56*sqrt(4) + 0.28*sqrt(4) + 0.70*ln(30) + 0.014*60 = 4.90 (moderate, <= 5.1)
    ScoreCase("DAS28-ESR 4.90 is moderate", _das28(4, 4, 30, 60), "DAS28-ESR", 4.90, "moderate"),
    # 0.56*sqrt(16) + 0.28*sqrt(9) + 0.70*ln(50) + 0.014*70 = 6.80 (high)
    ScoreCase("DAS28-ESR 6.80 is high", _das28(16, 9, 50, 70), "DAS28-ESR", 6.80, "high"),
    # 0.70*ln(41) = 2.5995, reported as 2.60: the category follows the reported value (low)
    ScoreCase("DAS28-ESR 2.60 (2.5995) is low", _das28(0, 0, 41, 0), "DAS28-ESR", 2.6, "low"),
    # 0.70*ln(40) = 2.582: remission
    ScoreCase("DAS28-ESR 2.58 is remission", _das28(0, 0, 40, 0), "DAS28-ESR", 2.58, "remission"),
    ScoreCase("CDAI 2.8 is remission", _cdai(1, 0, 1.0, 0.8), "CDAI", 2.8, "remission"),
    ScoreCase("CDAI 2.9 is low", _cdai(1, 0, 1.0, 0.9), "CDAI", 2.9, "low"),
    ScoreCase("CDAI 10 is low", _cdai(4, 2, 2.0, 2.0), "CDAI", 10.0, "low"),
    ScoreCase("CDAI 22.5 is high", _cdai(10, 6, 3.5, 3.0), "CDAI", 22.5, "high"),
    # SDAI = CDAI 2.8 + CRP 0.5 mg/dL = 3.3: remission (<= 3.3)
    ScoreCase("SDAI 3.3 is remission", _cdai(1, 0, 1.0, 0.8, crp_mg_l=5), "SDAI", 3.3, "remission"),
    ScoreCase("SDAI 26.5 is high", _cdai(12, 6, 3.0, 3.0, crp_mg_l=25), "SDAI", 26.5, "high"),
]


@pytest.mark.parametrize("case", RA_CASES, ids=str)
def test_ra_score_on_patient_view(app, case: ScoreCase) -> None:
    scores = sign(app, case.chart, hook="patient-view").scores
    assert case.score in scores, scores
    assert scores[case.score]["value"] == pytest.approx(case.value, abs=0.006)
    assert scores[case.score]["category"] == case.category


@pytest.fixture(scope="module")
def pmr_knowledge():
    return load_knowledge(local_codes=LOCAL_CODES)


@pytest.fixture
def pmr_app(tmp_path, pmr_knowledge):
    config = Config(
        storage_url=f"sqlite:///{tmp_path / 'pmr.db'}",
        allow_unsigned=True,
        patient_hash_key="test-key",
        local_codes=LOCAL_CODES,
    )
    return create_app(config, pmr_knowledge)


def _local(code: str, value: float, unit: str) -> dict[str, Any]:
    obs = quantity("0000-0", value, unit)
    obs["code"] = {"coding": [{"system": LAB, "code": code}]}
    return obs


def _pmr(crp_mg_dl: float, pain: float, physician: float, stiffness_min: float, elevation: int):
    return Chart(
        conditions=[condition(SCT, "65323003", "Polymyalgia rheumatica (disorder)")],
        observations=[
            quantity("1988-5", crp_mg_dl, "mg/dL"),
            quantity("72514-3", pain, "{score}"),
            quantity("75846-6", physician, "cm"),
            _local("PMR-MST", stiffness_min, "min"),
            _local("PMR-EUL", elevation, "{score}"),
        ],
    )


PMR_CASES = [
    ScoreCase("PMR-AS 1.5 is remission", _pmr(0.2, 0.5, 0.3, 5, 0), "PMR-AS-CRP", 1.5, "remission"),
    ScoreCase("PMR-AS 6.9 is low", _pmr(0.9, 2, 2, 10, 1), "PMR-AS-CRP", 6.9, "low"),
    ScoreCase("PMR-AS 7.0 is medium", _pmr(1.0, 2, 2, 10, 1), "PMR-AS-CRP", 7.0, "medium"),
    ScoreCase("PMR-AS 17.0 is medium", _pmr(2.0, 5, 5, 30, 2), "PMR-AS-CRP", 17.0, "medium"),
    ScoreCase("PMR-AS 17.1 is high", _pmr(2.1, 5, 5, 30, 2), "PMR-AS-CRP", 17.1, "high"),
]


@pytest.mark.parametrize("case", PMR_CASES, ids=str)
def test_pmr_activity_score(pmr_app, case: ScoreCase) -> None:
    scores = sign(pmr_app, case.chart, hook="patient-view").scores
    assert case.score in scores, scores
    assert scores[case.score]["value"] == pytest.approx(case.value, abs=0.05)
    assert scores[case.score]["category"] == case.category

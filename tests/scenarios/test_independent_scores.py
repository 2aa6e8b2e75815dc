"""Independent clinical scenarios (issue 14): DAS28 (ESR and CRP), CDAI, SDAI and PMR-AS exactly
at and just beyond their category cut-offs, with CRP and VAS in either unit, and inputs that must
not give a score (out of range, ln of 0). Values worked by hand from the published formulas.

Sources: Prevoo MLL et al., Arthritis Rheum 1995;38:44-48 (DAS28-ESR); Wells G et al., Ann
Rheum Dis 2009;68:954-960 (DAS28-CRP); das-score.nl (cut-offs remission < 2.6, low <= 3.2,
moderate <= 5.1, high > 5.1); Aletaha D et al., Arthritis Res Ther 2005;7:R796-R806 (CDAI
remission <= 2.8, low <= 10, moderate <= 22; SDAI <= 3.3, <= 11, <= 26); Smolen JS et al.,
Rheumatology 2003;42:244-257 (SDAI = CDAI + CRP mg/dL); Leeb BF, Bird HA, Ann Rheum Dis
2004;63:1279-1283 (PMR-AS: < 7 low, 7-17 medium, > 17 high); Leeb BF et al., Ann Rheum Dis
2007;66:1104 (PMR-AS remission <= 1.5)."""

from __future__ import annotations

import dataclasses

import pytest

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.knowledge import Knowledge, load_knowledge
from tests.scenarios.chart import SCT, Chart, condition, quantity, sign
from tests.scenarios.test_scores import LOCAL_CODES, _local, _pmr

DAS = "Prevoo 1995 / Wells 2009; das-score.nl cut-offs"
AL = "Aletaha 2005 cut-offs; Smolen 2003 SDAI formula"
PMR = "Leeb & Bird 2004 (<7 low, 7-17 medium, >17 high); Leeb 2007 (remission <= 1.5)"


def _das28(tjc, sjc, ptga, ptga_unit="mm", esr=None, crp=None) -> Chart:
    obs = [
        quantity("88981-6", tjc, "{#}"),
        quantity("88980-8", sjc, "{#}"),
        quantity("75894-6", ptga, ptga_unit),
    ]
    if esr is not None:
        obs.append(quantity("4537-7", esr, "mm/h"))
    if crp is not None:
        obs.append(quantity("1988-5", crp[0], crp[1]))
    return Chart(observations=obs)


def _cdai(tjc, sjc, ptga, prga, unit="cm", crp=None) -> Chart:
    obs = [
        quantity("88981-6", tjc, "{#}"),
        quantity("88980-8", sjc, "{#}"),
        quantity("75894-6", ptga, unit),
        quantity("75846-6", prga, unit),
    ]
    if crp is not None:
        obs.append(quantity("1988-5", crp[0], crp[1]))
    return Chart(observations=obs)


@dataclasses.dataclass
class Case:
    name: str
    chart: Chart
    score: str
    value: float
    category: str
    source: str

    def __str__(self) -> str:
        return self.name


CASES = [
    # DAS28-ESR: 0.56*sqrt(6) + 0.28*sqrt(2) + 0.70*ln(58) + 0.014*35 = 5.1000
    Case(
        "DAS28-ESR 5.10 is moderate", _das28(6, 2, 35, esr=58), "DAS28-ESR", 5.10, "moderate", DAS
    ),
    # 0.56*sqrt(8) + 0.28*sqrt(3) + 0.70*ln(19) + 0.014*70 = 5.1100
    Case("DAS28-ESR 5.11 is high", _das28(8, 3, 70, esr=19), "DAS28-ESR", 5.11, "high", DAS),
    # 0.28*sqrt(3) + 0.70*ln(15) + 0.014*15 = 2.5906 -> 2.59
    Case(
        "DAS28-ESR 2.59 is remission", _das28(0, 3, 15, esr=15), "DAS28-ESR", 2.59, "remission", DAS
    ),
    # PtGA 3.5 cm = 35 mm: same 5.10 with the VAS in cm
    Case(
        "DAS28-ESR 5.10 with patient global 3.5 cm",
        _das28(6, 2, 3.5, "cm", esr=58),
        "DAS28-ESR",
        5.10,
        "moderate",
        DAS,
    ),
    # DAS28-CRP: 0.56 + 0.28 + 0.36*ln(1) + 1.4 + 0.96 = 3.20
    Case(
        "DAS28-CRP 3.20 is low", _das28(1, 1, 100, crp=(0, "mg/L")), "DAS28-CRP", 3.20, "low", DAS
    ),
    # 0.36*ln(19) + 0.014*85 + 0.96 = 3.2100
    Case(
        "DAS28-CRP 3.21 is moderate",
        _das28(0, 0, 85, crp=(18, "mg/L")),
        "DAS28-CRP",
        3.21,
        "moderate",
        DAS,
    ),
    # 0.56*2 + 0.28*2 + 0.36*ln(19) + 1.4 + 0.96 = 5.1000
    Case(
        "DAS28-CRP 5.10 is moderate",
        _das28(4, 4, 100, crp=(18, "mg/L")),
        "DAS28-CRP",
        5.10,
        "moderate",
        DAS,
    ),
    Case(
        "DAS28-CRP 5.10 with CRP sent as 1.8 mg/dL",
        _das28(4, 4, 100, crp=(1.8, "mg/dL")),
        "DAS28-CRP",
        5.10,
        "moderate",
        DAS,
    ),
    # 0.56*sqrt(3) + 0.28*2 + 0.36*ln(36) + 0.014*95 + 0.96 = 5.1100
    Case(
        "DAS28-CRP 5.11 is high", _das28(3, 4, 95, crp=(35, "mg/L")), "DAS28-CRP", 5.11, "high", DAS
    ),
    # 0.36*ln(36) + 0.35 + 0.96 = 2.6001 -> 2.60 low; ln(35): 2.5899 -> 2.59 remission
    Case(
        "DAS28-CRP 2.60 is low", _das28(0, 0, 25, crp=(35, "mg/L")), "DAS28-CRP", 2.60, "low", DAS
    ),
    Case(
        "DAS28-CRP 2.59 is remission",
        _das28(0, 0, 25, crp=(34, "mg/L")),
        "DAS28-CRP",
        2.59,
        "remission",
        DAS,
    ),
    # CDAI
    Case("CDAI 10.0 is low", _cdai(4, 2, 2.0, 2.0), "CDAI", 10.0, "low", AL),
    Case("CDAI 10.1 is moderate", _cdai(4, 2, 2.1, 2.0), "CDAI", 10.1, "moderate", AL),
    Case("CDAI 22.0 is moderate", _cdai(10, 6, 3.0, 3.0), "CDAI", 22.0, "moderate", AL),
    Case("CDAI 22.1 is high", _cdai(10, 6, 3.1, 3.0), "CDAI", 22.1, "high", AL),
    Case(
        "CDAI 10.0 with global assessments in mm",
        _cdai(4, 2, 20, 20, "mm"),
        "CDAI",
        10.0,
        "low",
        AL,
    ),
    Case("CDAI 0 is remission", _cdai(0, 0, 0, 0), "CDAI", 0.0, "remission", AL),
    # SDAI = CDAI + CRP (mg/dL)
    Case("SDAI 3.4 is low", _cdai(1, 0, 1.0, 0.8, crp=(6, "mg/L")), "SDAI", 3.4, "low", AL),
    Case("SDAI 11.0 is low", _cdai(4, 2, 2.0, 2.0, crp=(10, "mg/L")), "SDAI", 11.0, "low", AL),
    Case(
        "SDAI 11.1 is moderate",
        _cdai(4, 2, 2.0, 2.0, crp=(11, "mg/L")),
        "SDAI",
        11.1,
        "moderate",
        AL,
    ),
    Case(
        "SDAI 26.0 with CRP 4.0 mg/dL is moderate",
        _cdai(10, 6, 3.0, 3.0, crp=(4.0, "mg/dL")),
        "SDAI",
        26.0,
        "moderate",
        AL,
    ),
    # 10.6 + 0.45 = 11.05 (binary 11.0499...): past the cut-off 11, shown 11.1, moderate
    Case(
        "SDAI 11.05 is moderate (rounded half up)",
        _cdai(4, 2, 2.3, 2.3, crp=(4.5, "mg/L")),
        "SDAI",
        11.1,
        "moderate",
        AL,
    ),
    # 2.8 + 0.55 = 3.35: past remission (<= 3.3), shown 3.4, low
    Case("SDAI 3.35 is low", _cdai(1, 0, 1.0, 0.8, crp=(5.5, "mg/L")), "SDAI", 3.4, "low", AL),
    Case("SDAI 26.1 is high", _cdai(10, 6, 3.0, 3.0, crp=(41, "mg/L")), "SDAI", 26.1, "high", AL),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_score_boundaries(app, case: Case) -> None:
    scores = sign(app, case.chart, hook="patient-view").scores
    assert case.score in scores, scores
    assert scores[case.score]["value"] == pytest.approx(case.value, abs=0.006)
    assert scores[case.score]["category"] == case.category


REJECTED = [
    ("tender joints 29", _das28(29, 2, 50, esr=30), "DAS28-ESR"),
    ("ESR 0 (no logarithm)", _das28(4, 4, 50, esr=0), "DAS28-ESR"),
    ("swollen joints -1", _das28(4, -1, 50, esr=30), "DAS28-ESR"),
    ("patient global 120 mm", _das28(4, 4, 120, esr=30), "DAS28-ESR"),
]


@pytest.mark.parametrize(("name", "chart", "score"), REJECTED, ids=[r[0] for r in REJECTED])
def test_out_of_range_input_gives_no_score(app, name: str, chart: Chart, score: str) -> None:
    """Prevoo 1995 / SPEC input rules: the score is not computed and the reason is shown."""
    result = sign(app, chart, hook="patient-view")
    got = result.scores.get(score, {})
    assert got.get("value") is None, got
    assert "not computed" in result.text


def test_stale_score_is_shown_as_stale(app) -> None:
    """A DAS28 from 150 days ago is shown with its date and marked stale, not as current."""
    obs = [
        quantity("88981-6", 4, "{#}", days=150),
        quantity("88980-8", 4, "{#}", days=150),
        quantity("75894-6", 50, "mm", days=150),
        quantity("4537-7", 30, "mm/h", days=150),
    ]
    result = sign(app, Chart(observations=obs), hook="patient-view")
    assert result.scores["DAS28-ESR"]["value"] == pytest.approx(4.76, abs=0.006)
    assert "stale" in result.text


def test_components_from_different_visits_give_no_score(app) -> None:
    """Joint counts 30 days apart from the ESR (window 7 days): no DAS28-ESR from mixed visits."""
    obs = [
        quantity("88981-6", 4, "{#}", days=40),
        quantity("88980-8", 4, "{#}", days=40),
        quantity("75894-6", 50, "mm", days=40),
        quantity("4537-7", 30, "mm/h", days=5),
    ]
    scores = sign(app, Chart(observations=obs), hook="patient-view").scores
    assert scores.get("DAS28-ESR", {}).get("value") is None, scores


PMR_CASES = [
    # CRP 0.3 mg/dL + pain 0.5 + physician 0.3 + 5 min x 0.1 + 0 = 1.6: low, not remission
    Case("PMR-AS 1.6 is low", _pmr(0.3, 0.5, 0.3, 5, 0), "PMR-AS-CRP", 1.6, "low", PMR),
    # 0.2 + 0.4 + 0.4 + 0.5 + 0 = 1.5: remission
    Case("PMR-AS 1.5 is remission", _pmr(0.2, 0.4, 0.4, 5, 0), "PMR-AS-CRP", 1.5, "remission", PMR),
    # 0.9 + 2 + 2 + 1.0 + 1 = 6.9
    Case("PMR-AS 6.9 is low", _pmr(0.9, 2, 2, 10, 1), "PMR-AS-CRP", 6.9, "low", PMR),
    # 1.0 + 2 + 2 + 1.0 + 1 = 7.0: medium (7 included)
    Case("PMR-AS 7.0 is medium", _pmr(1.0, 2, 2, 10, 1), "PMR-AS-CRP", 7.0, "medium", PMR),
    # 2.0 + 5 + 5 + 3.0 + 2 = 17.0: medium (17 included)
    Case("PMR-AS 17.0 is medium", _pmr(2.0, 5, 5, 30, 2), "PMR-AS-CRP", 17.0, "medium", PMR),
    Case("PMR-AS 17.1 is high", _pmr(2.1, 5, 5, 30, 2), "PMR-AS-CRP", 17.1, "high", PMR),
]


@pytest.fixture(scope="module")
def pmr_codes() -> Knowledge:
    return load_knowledge(local_codes=LOCAL_CODES)


@pytest.fixture
def pmr_service(tmp_path, pmr_codes: Knowledge):
    """An institution that maps its own codes for morning stiffness and arm elevation."""
    config = Config(
        storage_url=f"sqlite:///{tmp_path / 'pmr.db'}",
        allow_unsigned=True,
        patient_hash_key="test-key",
        local_codes=LOCAL_CODES,
    )
    return create_app(config, pmr_codes)


def _pmr_mg_l(crp_mg_l: float) -> Chart:
    """PMR-AS 7.0 with CRP sent in mg/L (10 mg/L = 1.0 mg/dL)."""
    chart = _pmr(1.0, 2, 2, 10, 1)
    chart.observations[0] = quantity("1988-5", crp_mg_l, "mg/L")
    return chart


PMR_CASES.append(
    Case("PMR-AS 7.0 with CRP 10 mg/L is medium", _pmr_mg_l(10), "PMR-AS-CRP", 7.0, "medium", PMR)
)


@pytest.mark.parametrize("case", PMR_CASES, ids=str)
def test_pmr_activity_bands(pmr_service, case: Case) -> None:
    scores = sign(pmr_service, case.chart, hook="patient-view").scores
    assert case.score in scores, scores
    assert scores[case.score]["value"] == pytest.approx(case.value, abs=0.05)
    assert scores[case.score]["category"] == case.category


def test_pmr_without_stiffness_gives_no_score(pmr_service) -> None:
    """A PMR-AS with a component missing (morning stiffness) is not computed, never guessed."""
    chart = Chart(
        conditions=[condition(SCT, "65323003", "Polymyalgia rheumatica (disorder)")],
        observations=[
            quantity("1988-5", 1.0, "mg/dL"),
            quantity("72514-3", 2, "{score}"),
            quantity("75846-6", 2, "cm"),
            _local("PMR-EUL", 1, "{score}"),
        ],
    )
    scores = sign(pmr_service, chart, hook="patient-view").scores
    assert scores.get("PMR-AS-CRP", {}).get("value") is None, scores


def _cdai_with_total(total: float) -> Chart:
    chart = _cdai(4, 2, 2.0, 2.0)  # CDAI 10.0 from its components
    chart.observations.append(quantity("75847-4", total, "{score}"))
    return chart


@pytest.mark.parametrize(
    ("total", "flagged"), [(10.2, True), (12.0, True), (10.1, False), (10.0, False)]
)
def test_recorded_total_mismatch_over_a_tenth(app, total: float, flagged: bool) -> None:
    """SPEC input rules: a stored CDAI total (LOINC 75847-4) that differs from the recomputed
    one by more than 0.1 is flagged; the recomputed score stays the one categorised."""
    result = sign(app, _cdai_with_total(total), hook="patient-view")
    assert result.scores["CDAI"]["value"] == pytest.approx(10.0)
    assert result.scores["CDAI"]["category"] == "low"
    assert ("differs from the recomputed value" in result.text) is flagged, result.text


@pytest.mark.parametrize(
    ("code", "score", "total", "category"),
    [
        ("75847-4", "CDAI", 22.1, "high"),
        ("75847-4", "CDAI", 2.8, "remission"),
        ("75845-8", "SDAI", 3.3, "remission"),
        ("75845-8", "SDAI", 26.0, "moderate"),
    ],
)
def test_recorded_total_alone_is_categorised(app, code, score, total, category) -> None:
    """Only the EHR's total on file: shown, categorised by the published cut-offs."""
    chart = Chart(observations=[quantity(code, total, "{score}")])
    scores = sign(app, chart, hook="patient-view").scores
    assert scores[score]["value"] == pytest.approx(total)
    assert scores[score]["category"] == category


@pytest.mark.parametrize(
    ("crp_mg_dl", "shown", "flare"), [(1.35, 9.4, "yes"), (1.34, 9.3, "indeterminate")]
)
def test_pmr_flare_at_its_cut_off(pmr_service, crp_mg_dl: float, shown: float, flare) -> None:
    """Binard 2008: CRP PMR-AS >= 9.35 is a flare. 1.35 + 3 + 3 + 10 min x 0.1 + 1 = 9.35
    exactly: shown 9.4 (half up) and a flare; 9.34 is not (no previous score: the rise is
    unknown, so not 'no')."""
    scores = sign(pmr_service, _pmr(crp_mg_dl, 3, 3, 10, 1), hook="patient-view").scores
    assert scores["PMR-AS-CRP"]["value"] == pytest.approx(shown)
    assert scores["PMR-FLARE"]["category"] == flare


def _visit(tjc: int, sjc: int, esr: float, ptga: float, days: int) -> list[dict]:
    return [
        quantity("88981-6", tjc, "{#}", days=days),
        quantity("88980-8", sjc, "{#}", days=days),
        quantity("4537-7", esr, "mm/h", days=days),
        quantity("75894-6", ptga, "mm", days=days),
    ]


EULAR = [
    # baseline 100 days ago -> current 10 days ago (DAS28-ESR, 2 decimals as shown)
    ("improvement exactly 1.20 to 1.13: moderate", (0, 0, 23, 10), (0, 0, 5, 0), 1.2, "moderate"),
    ("improvement 1.21 to 1.13: good", (0, 0, 7, 70), (0, 0, 5, 0), 1.21, "good"),
    ("improvement exactly 0.60: none", (0, 2, 10, 0), (0, 0, 5, 20), 0.6, "none"),
    ("improvement 0.61: moderate", (0, 0, 8, 20), (0, 0, 5, 0), 0.61, "moderate"),
]


@pytest.mark.parametrize(
    ("name", "baseline", "current", "improvement", "response"), EULAR, ids=[e[0] for e in EULAR]
)
def test_eular_response_at_its_cut_offs(
    app, name: str, baseline, current, improvement: float, response: str
) -> None:
    """van Gestel 1998: good = improvement > 1.2 and current <= 3.2; moderate = > 1.2 with
    current > 3.2, or > 0.6 and <= 1.2 with current <= 5.1; none otherwise."""
    chart = Chart(observations=_visit(*baseline, days=100) + _visit(*current, days=10))
    scores = sign(app, chart, hook="patient-view").scores
    assert scores["EULAR-RESPONSE"]["value"] == pytest.approx(improvement)
    assert scores["EULAR-RESPONSE"]["category"] == response

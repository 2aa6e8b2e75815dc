"""Independent clinical scenarios (issue 14): the other SPEC rules at and around their thresholds,
and missing or unknown data stated as "not assessed", never "no risk".

Sources: EMA PRAC Article 20 review of JAK inhibitors (2022) and ORAL Surveillance (Ytterberg
SR et al., N Engl J Med 2022;386:316-326) for age, smoking and cardiovascular risk; Xie W et al.
(GI perforation with glucocorticoid > 7.5 mg/day and NSAID, as cited in the Cheng 2022 review);
the JAK-inhibitor labels (pregnancy, live vaccines within 4 weeks); EMA 2019 (VTE risk factors,
BMI >= 30); Zhao & Yan 2025 (anti-MDA5 ILD: age > 60, SpO2 < 95 %, CRP > 1 mg/dL, ferritin
> 500 ng/mL)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scenarios.chart import (
    CVX,
    PID,
    POSITIVE,
    RX,
    SCT,
    Chart,
    Scenario,
    add,
    baseline_labs,
    check,
    coded,
    condition,
    days_ago,
    medication,
    quantity,
    sign,
    tofacitinib,
)

DIABETES = condition(SCT, "44054006", "Diabetes mellitus type 2 (disorder)")
NSAID = medication(
    [(RX, "197806", "ibuprofen 600 MG Oral Tablet")], text="ibuprofen 600 mg", dose_mg=600
)
PRAC = "EMA PRAC Article 20 (2022); ORAL Surveillance (Ytterberg 2022)"
LABELS = "JAK-inhibitor labels (SmPC 4.3/4.4/4.6, USPI 5/8.1)"


def _prednisone(mg: float) -> dict[str, Any]:
    return medication(
        [(RX, "312615", "predniSONE 5 MG Oral Tablet")], text=f"prednisone {mg:g} mg", dose_mg=mg
    )


def _immunization(cvx: str, days: int) -> dict[str, Any]:
    return {
        "resourceType": "Immunization",
        "id": f"imm-{cvx}-{days}",
        "status": "completed",
        "patient": {"reference": f"Patient/{PID}"},
        "vaccineCode": {"coding": [{"system": CVX, "code": cvx}]},
        "occurrenceDateTime": days_ago(days),
    }


def _with_obs(code: str, *obs: dict[str, Any], **kw: Any) -> Chart:
    return add(drop_obs=(code,), observations=list(obs), **kw)


SCENARIOS = [
    Scenario(
        "age 50 with type 2 diabetes: MACE risk",
        add(age=50, conditions=[DIABETES]),
        fires={"JAKI-MACE-RISK": "warning"},
        source=PRAC,
    ),
    Scenario(
        "age 49 with type 2 diabetes: no MACE risk by age and factor",
        add(age=49, conditions=[DIABETES]),
        quiet=("JAKI-MACE-RISK",),
        source=PRAC,
    ),
    Scenario(
        "prednisone 7.5 mg with an NSAID: not above 7.5",
        add(medications=[_prednisone(7.5), NSAID]),
        quiet=("JAKI-GI-PERFORATION",),
        source="Xie (cited in Cheng 2022): glucocorticoid > 7.5 mg/day with NSAID",
    ),
    Scenario(
        "prednisone 8 mg with an NSAID: GI perforation risk",
        add(medications=[_prednisone(8), NSAID]),
        fires={"JAKI-GI-PERFORATION": "warning", "JAKI-INFECTION-RISK": None},
        source="Xie (cited in Cheng 2022): glucocorticoid > 7.5 mg/day with NSAID",
    ),
    Scenario(
        "プレドニゾロン 10 mg and ロキソプロフェン (text only): GI perforation risk",
        add(
            medications=[
                medication(None, text="プレドニゾロン錠5mg 2錠 分1", dose_mg=10),
                medication(None, text="ロキソプロフェンNa錠60mg", dose_mg=60, per_day=3),
            ]
        ),
        fires={"JAKI-GI-PERFORATION": "warning"},
        source="Xie (cited in Cheng 2022)",
    ),
    Scenario(
        "positive hCG 29 days ago: pregnancy, contraindicated",
        _with_obs("2106-3", coded("2106-3", POSITIVE, days=29)),
        fires={"JAKI-PREGNANCY": "critical"},
        source=LABELS,
    ),
    Scenario(
        "positive hCG 31 days ago: outside 30 days",
        _with_obs("2106-3", coded("2106-3", POSITIVE, days=31)),
        quiet=("JAKI-PREGNANCY",),
        source=LABELS,
    ),
    Scenario(
        "live zoster vaccine (CVX 121) 20 days ago",
        Chart(immunizations=[_immunization("121", 20)]),
        fires={"JAKI-LIVE-VACCINE": "warning"},
        source=LABELS,
    ),
    Scenario(
        "live zoster vaccine (CVX 121) 35 days ago: outside 4 weeks",
        Chart(immunizations=[_immunization("121", 35)]),
        quiet=("JAKI-LIVE-VACCINE",),
        source=LABELS,
    ),
    Scenario(
        "BMI exactly 30: obesity is a VTE risk factor",
        _with_obs("39156-5", quantity("39156-5", 30, "kg/m2")),
        fires={"JAKI-VTE-RISK": "warning"},
        source="EMA 2019 (VTE risk factors)",
    ),
    Scenario(
        "BMI 29.9: no VTE risk factor",
        _with_obs("39156-5", quantity("39156-5", 29.9, "kg/m2")),
        quiet=("JAKI-VTE-RISK",),
        source="EMA 2019 (VTE risk factors)",
    ),
    Scenario(
        "anti-HBc positive, HBsAg negative, no HBV DNA: warning",
        _with_obs("16933-4", coded("16933-4", POSITIVE)),
        fires={"JAKI-HBV": "warning"},
        source=LABELS + "; Cheng 2022",
    ),
    Scenario(
        "HCV antibody positive without RNA: warning",
        _with_obs("16128-1", coded("16128-1", POSITIVE)),
        fires={"JAKI-HCV": "warning"},
        source="Cheng 2022",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_rule_thresholds(make_app, scenario: Scenario) -> None:
    check(make_app, scenario)


NOT_ASSESSED = [
    ("no BMI on file", add(drop_obs=("39156-5",)), "JAKI-VTE-RISK"),
    ("no smoking status on file", add(drop_obs=("72166-2",)), "JAKI-SMOKER"),
    (
        "smoking status recorded as unknown",
        _with_obs(
            "72166-2",
            coded("72166-2", (SCT, "266927001", "Tobacco smoking consumption unknown")),
        ),
        "JAKI-SMOKER",
    ),
]


@pytest.mark.parametrize(("name", "chart", "rule"), NOT_ASSESSED, ids=[n[0] for n in NOT_ASSESSED])
def test_missing_or_unknown_is_not_assessed(app, name: str, chart: Chart, rule: str) -> None:
    result = sign(app, chart, tofacitinib())
    assert rule not in result.findings
    assert rule in result.not_assessed, result.not_assessed


def _mda5(**changes: float) -> Chart:
    values = {"age": 45, "spo2": 97, "crp": 5, "ferritin": 300, "kl6": 500}
    values.update(changes)
    return Chart(
        age=int(values["age"]),
        conditions=[
            condition(SCT, "396230008", "Dermatomyositis (disorder)"),
            condition(SCT, "233703007", "Interstitial lung disease (disorder)"),
        ],
        observations=[
            coded("82424-3", POSITIVE),
            quantity("59408-5", values["spo2"], "%"),
            quantity("1988-5", values["crp"], "mg/L"),
            quantity("2276-4", values["ferritin"], "ng/mL"),
            *baseline_labs(),
        ],
    )


MDA5 = [
    ("age 60", {"age": 60}, False),
    ("age 61", {"age": 61}, True),
    ("SpO2 95 %", {"spo2": 95}, False),
    ("SpO2 94 %", {"spo2": 94}, True),
    ("CRP 10 mg/L (1.0 mg/dL)", {"crp": 10}, False),
    ("CRP 11 mg/L", {"crp": 11}, True),
    ("ferritin 500 ng/mL", {"ferritin": 500}, False),
    ("ferritin 501 ng/mL", {"ferritin": 501}, True),
]


@pytest.mark.parametrize(("name", "changes", "fires"), MDA5, ids=[m[0] for m in MDA5])
def test_mda5_ild_risk_factors_at_their_edges(app, name: str, changes, fires: bool) -> None:
    """Zhao & Yan 2025: strict thresholds (> 60 years, < 95 %, > 1 mg/dL, > 500 ng/mL)."""
    order = tofacitinib(reason=(SCT, "396230008", "Dermatomyositis"))
    result = sign(app, _mda5(**changes), order)
    assert ("MYO-MDA5-ILD-RISK" in result.findings) is fires, result.findings.keys()

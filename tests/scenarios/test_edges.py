"""More edges a real chart brings: units from other countries, finished pregnancies, topical and
TYK2 orders, ATC look-alike classes, indication-specific labelled doses."""

from __future__ import annotations

import pytest

from tests.scenarios.chart import (
    ATC,
    CVX,
    ICD10,
    ICD10CM,
    POSITIVE,
    SCT,
    Chart,
    Scenario,
    add,
    check,
    coded,
    condition,
    draft,
    quantity,
    sign,
    tofacitinib,
    upadacitinib,
)

AD = (ICD10CM, "L20.9", "Atopic dermatitis, unspecified")
UC = (ICD10CM, "K51.90", "Ulcerative colitis, unspecified, without complications")
FILGOTINIB_100 = draft([(ATC, "L04AF04", "filgotinib")], text="filgotinib 100 mg", dose_mg=100)
BARI_4 = draft([(ATC, "L04AF02", "baricitinib")], text="Olumiant 4 mg", dose_mg=4)
RUXOLITINIB_CREAM = draft(
    [(ATC, "D11AH09", "ruxolitinib")], text="ruxolitinib 1.5% cream, apply twice daily"
)
DEUCRAVACITINIB = draft(
    [(ATC, "L04AF07", "deucravacitinib")], text="deucravacitinib 6 mg tablet", dose_mg=6
)
DUPILUMAB = draft([(ATC, "D11AH05", "dupilumab")], text="dupilumab 300 mg/2 mL pen")
MMR = draft([(CVX, "03", "measles, mumps and rubella virus vaccine")], text="MMR II vaccine")


def _lab(code, value, unit, **kw):
    return add(drop_obs=(code,), observations=[quantity(code, value, unit)], **kw)


SCENARIOS = [
    Scenario(
        "Hb 4.9 mmol/L (= 7.9 g/dL) with baricitinib",
        _lab("718-7", 4.9, "mmol/L"),
        (BARI_4,),
        fires={"JAKI-LAB-HB": "critical"},
    ),
    Scenario(
        "Hb 5.2 mmol/L (= 8.4 g/dL) with baricitinib",
        _lab("718-7", 5.2, "mmol/L"),
        (BARI_4,),
        quiet=("JAKI-LAB-HB",),
    ),
    Scenario(
        "ANC 0.8 x10^9/L (SI)",
        _lab("751-8", 0.8, "10*9/L"),
        (tofacitinib(),),
        fires={"JAKI-LAB-ANC": "critical"},
        values={"JAKI-LAB-ANC": 800},
    ),
    Scenario(
        "ANC 900 /uL",
        _lab("751-8", 900, "/uL"),
        (tofacitinib(),),
        fires={"JAKI-LAB-ANC": "critical"},
    ),
    Scenario(
        "creatinine clearance 45 mL/min with baricitinib 4 mg (EU)",
        add(observations=[quantity("2164-2", 45, "mL/min")]),
        (BARI_4,),
        fires={"JAKI-RENAL-DOSE": "warning"},
    ),
    Scenario(
        "eGFR 45 sent in mL/min without body surface (baricitinib 4 mg)",
        _lab("98979-8", 45, "mL/min"),
        (BARI_4,),
        fires={"JAKI-RENAL-DOSE": "warning"},
    ),
    Scenario(
        "filgotinib 100 mg at eGFR 40: the labelled dose",
        _lab("98979-8", 40, "mL/min/{1.73_m2}"),
        (FILGOTINIB_100,),
        quiet=("JAKI-RENAL-DOSE",),
    ),
    Scenario(
        "delivery three years ago (O80, resolved): not pregnant now",
        add(
            age=33,
            conditions=[
                condition(
                    ICD10CM,
                    "O80",
                    "Encounter for full-term uncomplicated delivery",
                    onset_days_ago=1100,
                    status="resolved",
                    abatement_days_ago=1100,
                )
            ],
        ),
        (tofacitinib(),),
        quiet=("JAKI-PREGNANCY",),
    ),
    Scenario(
        "Synthea normal pregnancy (72892002) resolved two years ago",
        add(
            age=30,
            conditions=[
                condition(
                    SCT,
                    "72892002",
                    "Normal pregnancy (finding)",
                    onset_days_ago=1000,
                    status="resolved",
                    abatement_days_ago=730,
                )
            ],
        ),
        (tofacitinib(),),
        quiet=("JAKI-PREGNANCY",),
    ),
    Scenario(
        "positive hCG 45 days ago only",
        add(age=30, drop_obs=("2106-3",), observations=[coded("2106-3", POSITIVE, days=45)]),
        (tofacitinib(),),
        quiet=("JAKI-PREGNANCY",),
    ),
    Scenario(
        "pregnant state (Z33.1, ICD-10-CM)",
        add(
            age=30,
            conditions=[
                condition(ICD10CM, "Z33.1", "Pregnant state, incidental", onset_days_ago=50)
            ],
        ),
        (tofacitinib(),),
        fires={"JAKI-PREGNANCY": "critical"},
    ),
    Scenario(
        "supervision of normal first pregnancy (Z34.01)",
        add(
            age=27,
            conditions=[
                condition(
                    ICD10CM,
                    "Z34.01",
                    "Encounter for supervision of normal first pregnancy, first trimester",
                    onset_days_ago=20,
                )
            ],
        ),
        (tofacitinib(),),
        fires={"JAKI-PREGNANCY": "critical"},
    ),
    Scenario(
        "age 58 with type 2 diabetes (E11.9)",
        add(
            age=58,
            conditions=[
                condition(ICD10CM, "E11.9", "Type 2 diabetes mellitus without complications")
            ],
        ),
        (tofacitinib(),),
        fires={"JAKI-MACE-RISK": "warning", "JAKI-INFECTION-RISK": None},
    ),
    Scenario(
        "age 60, text-only 高血压 (zh-CN)",
        add(age=60, conditions=[condition(None, None, text="高血压")]),
        (tofacitinib(),),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "ruxolitinib 1.5% cream at 70",
        Chart(age=70),
        (RUXOLITINIB_CREAM,),
        fires={"JAKI-TOPICAL": "info"},
        quiet=("JAKI-DOSE-MAX",),
    ),
    Scenario(
        "dupilumab (D11AH05) is not a JAK inhibitor",
        Chart(age=70),
        (DUPILUMAB,),
        quiet=("JAKI-AGE-65", "JAKI-TOPICAL", "JAKI-ZOSTER"),
    ),
    Scenario(
        "deucravacitinib (L04AF07, TYK2) at 70: no JAK age warning",
        Chart(age=70),
        (DEUCRAVACITINIB,),
        quiet=("JAKI-AGE-65",),
    ),
    Scenario(
        "upadacitinib 30 mg for atopic dermatitis at 67 (US: 15 mg from 65)",
        Chart(age=67, conditions=[condition(*AD)]),
        (upadacitinib(30, reason=AD),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
    ),
    Scenario(
        "upadacitinib 30 mg for atopic dermatitis at 40 (US)",
        Chart(age=40, conditions=[condition(*AD)]),
        (upadacitinib(30, reason=AD),),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
    ),
    Scenario(
        "upadacitinib 45 mg for UC induction (EU)",
        Chart(conditions=[condition(*UC)]),
        (upadacitinib(45, reason=UC),),
        quiet=("JAKI-DOSE-MAX",),
    ),
    Scenario(
        "tofacitinib 10 mg BID in RA under the Japanese label",
        Chart(),
        (tofacitinib(10, 2),),
        region="JP",
        fires={"JAKI-DOSE-MAX": "critical"},
    ),
    Scenario(
        "MMR ordered with tofacitinib",
        Chart(),
        (tofacitinib(), MMR),
        fires={"JAKI-LIVE-VACCINE": "warning"},
    ),
    Scenario(
        "anti-HBc positive with HBV DNA not detected: not critical",
        add(
            drop_obs=("16933-4",),
            observations=[
                coded("16933-4", POSITIVE),
                coded("29610-3", (SCT, "260415000", "Not detected")),
            ],
        ),
        (tofacitinib(),),
        quiet=(),
    ),
    Scenario(
        "hepatic failure (K72.10 chronic) with tofacitinib",
        add(conditions=[condition(ICD10CM, "K72.10", "Chronic hepatic failure without coma")]),
        (tofacitinib(),),
        fires={"JAKI-HEPATIC": "critical"},
    ),
    Scenario(
        "WHO ICD-10 K57.3 diverticular disease of large intestine (Japan)",
        add(conditions=[condition(ICD10, "K57.3", "大腸憩室症")]),
        (tofacitinib(),),
        fires={"JAKI-GI-PERFORATION": "warning"},
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_edge(make_app, scenario: Scenario) -> None:
    result = check(make_app, scenario)
    if scenario.name.startswith("anti-HBc positive with HBV DNA"):
        assert result.findings.get("JAKI-HBV", {}).get("severity") != "critical"
    if scenario.name.startswith("dupilumab"):
        assert sign(make_app(), scenario.chart, *scenario.orders).cards == []

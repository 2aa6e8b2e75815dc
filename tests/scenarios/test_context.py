"""Risk factors a chart records in other ways (smoking as a diagnosis, family history of CHD,
extra-articular RA, lactation, HRT, NSAID with steroid, interacting drugs) and the SPEC §4
disease-context rules for PMR and rosacea."""

from __future__ import annotations

import pytest

from tests.scenarios.chart import (
    ATC,
    ICD10CM,
    RX,
    SCT,
    Chart,
    Scenario,
    add,
    baricitinib,
    check,
    coded,
    condition,
    medication,
    tofacitinib,
)

PMR = condition(SCT, "65323003", "Polymyalgia rheumatica (disorder)", onset_days_ago=200)
NAPROXEN = medication(
    [(RX, "198013", "naproxen 500 MG Oral Tablet")], text="naproxen 500 mg", dose_mg=500, per_day=2
)
PREDNISONE_10 = medication(
    [(RX, "312617", "predniSONE 10 MG Oral Tablet")], text="prednisone 10 mg", dose_mg=10
)
ESTRADIOL = medication(
    [(RX, "241946", "estradiol 0.05 MG/Day 7 Day Transdermal System")], text="estradiol patch (HRT)"
)
FLUCONAZOLE = medication(
    [(RX, "197699", "fluconazole 200 MG Oral Tablet")], text="fluconazole 200 mg", dose_mg=200
)
PROBENECID = medication(
    [(RX, "198136", "probenecid 500 MG Oral Tablet")],
    text="probenecid 500 mg",
    dose_mg=500,
    per_day=2,
)
RIFAMPICIN = medication([(ATC, "J04AB02", "rifampicin")], text="rifampicin 600 mg", dose_mg=600)

SCENARIOS = [
    Scenario(
        "nicotine dependence, cigarettes (F17.210)",
        add(
            conditions=[
                condition(ICD10CM, "F17.210", "Nicotine dependence, cigarettes, uncomplicated")
            ]
        ),
        (tofacitinib(),),
        fires={"JAKI-SMOKER": "warning"},
    ),
    Scenario(
        "Synthea smoker answer (77176002) on 72166-2",
        add(
            drop_obs=("72166-2",),
            observations=[coded("72166-2", (SCT, "77176002", "Smoker (finding)"))],
        ),
        (tofacitinib(),),
        fires={"JAKI-SMOKER": "warning"},
    ),
    Scenario(
        "age 56 with family history of ischaemic heart disease (Z82.49)",
        add(
            age=56,
            conditions=[
                condition(
                    ICD10CM,
                    "Z82.49",
                    "Family history of ischemic heart disease and other diseases of the "
                    "circulatory system",
                )
            ],
        ),
        (tofacitinib(),),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "lactating mother (Z39.1)",
        add(
            age=31,
            conditions=[
                condition(
                    ICD10CM,
                    "Z39.1",
                    "Encounter for care and examination of lactating mother",
                    onset_days_ago=30,
                )
            ],
        ),
        (tofacitinib(),),
        fires={"JAKI-PREGNANCY": "critical"},
    ),
    Scenario(
        "HRT estradiol patch",
        add(age=55, medications=[ESTRADIOL]),
        (tofacitinib(),),
        fires={"JAKI-VTE-RISK": "warning"},
    ),
    Scenario(
        "COPD (J44.9): chronic lung disease",
        add(
            conditions=[
                condition(ICD10CM, "J44.9", "Chronic obstructive pulmonary disease, unspecified")
            ]
        ),
        (tofacitinib(),),
        fires={"JAKI-INFECTION-RISK": None},
    ),
    Scenario(
        "prednisone 10 mg with naproxen",
        add(medications=[PREDNISONE_10, NAPROXEN]),
        (tofacitinib(),),
        fires={"JAKI-GI-PERFORATION": "warning"},
    ),
    Scenario(
        "naproxen alone: no GI perforation warning",
        add(medications=[NAPROXEN]),
        (tofacitinib(),),
        quiet=("JAKI-GI-PERFORATION",),
    ),
    Scenario(
        "fluconazole with tofacitinib",
        add(medications=[FLUCONAZOLE]),
        (tofacitinib(),),
        fires={"JAKI-DDI": "warning"},
    ),
    Scenario(
        "probenecid with baricitinib",
        add(medications=[PROBENECID]),
        (baricitinib(4),),
        fires={"JAKI-DDI": "warning"},
    ),
    Scenario(
        "rifampicin with tofacitinib",
        add(medications=[RIFAMPICIN]),
        (tofacitinib(),),
        fires={"JAKI-DDI": "warning"},
    ),
    Scenario(
        "fluconazole with baricitinib: no interaction",
        add(medications=[FLUCONAZOLE]),
        (baricitinib(4),),
        quiet=("JAKI-DDI",),
    ),
    Scenario(
        "two JAK inhibitors in one draft",
        Chart(),
        (tofacitinib(), baricitinib(2)),
        fires={"JAKI-COMBINATION": "critical"},
    ),
    Scenario(
        "rosacea on the chart, tofacitinib for RA",
        add(conditions=[condition(ICD10CM, "L71.9", "Rosacea, unspecified")]),
        (tofacitinib(reason=(SCT, "69896004", "Rheumatoid arthritis")),),
        fires={"JAKI-PARADOXICAL-ROSACEA": "info"},
    ),
    Scenario(
        "baricitinib for PMR: off-label",
        Chart(conditions=[PMR]),
        (baricitinib(4, reason=(SCT, "65323003", "Polymyalgia rheumatica")),),
        fires={"PMR-OFF-LABEL": "info"},
    ),
    Scenario(
        "PMR with giant cell arteritis (M31.6)",
        Chart(
            conditions=[
                PMR,
                condition(ICD10CM, "M31.6", "Other giant cell arteritis", onset_days_ago=10),
            ]
        ),
        (baricitinib(4, reason=(SCT, "65323003", "Polymyalgia rheumatica")),),
        fires={"PMR-GCA-SIGNS": "warning"},
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_context(make_app, scenario: Scenario) -> None:
    check(make_app, scenario)

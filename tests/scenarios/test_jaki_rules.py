"""SPEC §3 JAK-inhibitor rules, each firing and staying quiet, at their edge values, on charts
coded as US EHRs, Synthea and East Asian hospitals code them (order-sign with prefetch)."""

from __future__ import annotations

import pytest

from tests.scenarios.chart import (
    ATC,
    CURRENT_SMOKER,
    CVX,
    ICD10,
    ICD10CM,
    POSITIVE,
    RX,
    SCT,
    Chart,
    Scenario,
    add,
    baricitinib,
    baseline_labs,
    birth_date_for_age,
    check,
    coded,
    condition,
    days_ago,
    draft,
    medication,
    quantity,
    tofacitinib,
    upadacitinib,
)

APIXABAN = medication(
    [(RX, "1364445", "apixaban 5 MG Oral Tablet")], text="apixaban 5 mg", dose_mg=5, per_day=2
)
ISONIAZID = medication(
    [(RX, "197831", "isoniazid 300 MG Oral Tablet")], text="isoniazid 300 mg", dose_mg=300
)
PREDNISONE_10 = medication(
    [(RX, "312617", "predniSONE 10 MG Oral Tablet")], text="prednisone 10 mg", dose_mg=10
)
ADALIMUMAB = medication(
    [(RX, "1000001", "adalimumab 40 MG in 0.4 ML Prefilled Syringe")], text="adalimumab 40 mg"
)
KETOCONAZOLE = medication(
    [(RX, "197854", "ketoconazole 200 MG Oral Tablet")], text="ketoconazole 200 mg", dose_mg=200
)
ACTIVE_BARICITINIB = medication(
    [(RX, "2047241", "baricitinib 2 MG Oral Tablet")], text="baricitinib 2 mg", dose_mg=2
)
COC = medication(
    [(RX, "748879", "levonorgestrel 0.15 MG / ethinyl estradiol 0.03 MG Oral Tablet")],
    text="levonorgestrel / ethinyl estradiol (combined oral contraceptive)",
)
ABROCITINIB = draft(
    [(ATC, "D11AH08", "abrocitinib")], text="abrocitinib 100 mg tablet", dose_mg=100
)
FILGOTINIB = draft([(ATC, "L04AF04", "filgotinib")], text="filgotinib 200 mg tablet", dose_mg=200)


def _hb(v):
    return quantity("718-7", v, "g/dL")


def _with_lab(code: str, value: float, unit: str, **kw) -> Chart:
    return add(drop_obs=(code,), observations=[quantity(code, value, unit)], **kw)


def _birthday_today(years: int) -> Chart:
    return Chart(birth_date=birth_date_for_age(years), observations=baseline_labs())


SCENARIOS = [
    # ---- age
    Scenario("age exactly 65 today", _birthday_today(65), fires={"JAKI-AGE-65": "warning"}),
    Scenario(
        "age 64, 65th birthday tomorrow",
        Chart(birth_date=birth_date_for_age(65, days_after_birthday=-1)),
        quiet=("JAKI-AGE-65",),
    ),
    # ---- smoking
    Scenario(
        "current daily smoker (SNOMED answer)",
        add(drop_obs=("72166-2",), observations=[coded("72166-2", CURRENT_SMOKER)]),
        fires={"JAKI-SMOKER": "warning"},
    ),
    Scenario("never smoker", Chart(), quiet=("JAKI-SMOKER", "JAKI-MACE-RISK")),
    # ---- MACE
    Scenario(
        "NSTEMI (SNOMED 401314000) three years ago",
        add(
            conditions=[
                condition(
                    SCT,
                    "401314000",
                    "Acute non-ST segment elevation myocardial infarction (disorder)",
                    onset_days_ago=1100,
                    status="resolved",
                )
            ]
        ),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "ischaemic stroke (SNOMED 422504002), Synthea",
        add(
            conditions=[
                condition(SCT, "422504002", "Ischemic stroke (disorder)", onset_days_ago=700)
            ]
        ),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "age 55 with essential hypertension (ICD-10-CM I10)",
        add(age=55, conditions=[condition(ICD10CM, "I10", "Essential (primary) hypertension")]),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "age 45 with hypertension only: no MACE risk",
        add(conditions=[condition(ICD10CM, "I10", "Essential (primary) hypertension")]),
        quiet=("JAKI-MACE-RISK",),
    ),
    Scenario(
        "age 52 with HDL 35 mg/dL",
        _with_lab("2085-9", 35, "mg/dL", age=52),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "chronic diastolic heart failure (441530006): MACE and VTE risk",
        add(conditions=[condition(SCT, "441530006", "Chronic diastolic heart failure (disorder)")]),
        fires={"JAKI-MACE-RISK": "warning", "JAKI-VTE-RISK": "warning"},
    ),
    # ---- VTE history
    Scenario(
        "DVT of lower limb (404223003) two months ago on apixaban",
        add(
            conditions=[
                condition(
                    SCT,
                    "404223003",
                    "Deep venous thrombosis of lower extremity (disorder)",
                    onset_days_ago=60,
                )
            ],
            medications=[APIXABAN],
        ),
        fires={"JAKI-VTE-HISTORY": "critical"},
    ),
    Scenario(
        "acute PE (706870000) three months ago, no anticoagulant",
        add(
            conditions=[
                condition(
                    SCT,
                    "706870000",
                    "Acute pulmonary embolism (disorder)",
                    onset_days_ago=90,
                    status="resolved",
                )
            ]
        ),
        fires={"JAKI-VTE-HISTORY": "critical"},
    ),
    Scenario(
        "history of VTE (Z86.718) six years ago, off anticoagulation",
        add(
            conditions=[
                condition(
                    ICD10CM,
                    "Z86.718",
                    "Personal history of other venous thrombosis and embolism",
                    onset_days_ago=2200,
                )
            ]
        ),
        fires={"JAKI-VTE-HISTORY": "warning"},
    ),
    Scenario(
        "DVT five years ago on warfarin (ICD-10 I80.2 WHO, CN hospital)",
        add(
            conditions=[
                condition(
                    ICD10, "I80.2", "下肢深静脉血栓形成", onset_days_ago=1800, status="resolved"
                )
            ],
            medications=[
                medication(
                    [(RX, "855332", "warfarin sodium 5 MG Oral Tablet")],
                    text="warfarin 5 mg",
                    dose_mg=5,
                )
            ],
        ),
        fires={"JAKI-VTE-HISTORY": "critical"},
    ),
    # ---- VTE risk
    Scenario(
        "active colon cancer (363406005): malignancy and VTE risk",
        add(
            conditions=[
                condition(
                    SCT, "363406005", "Malignant neoplasm of colon (disorder)", onset_days_ago=120
                )
            ]
        ),
        fires={"JAKI-MALIGNANCY": "warning", "JAKI-VTE-RISK": "warning"},
    ),
    Scenario(
        "BMI exactly 30: obesity (VTE and infection risk)",
        _with_lab("39156-5", 30, "kg/m2"),
        fires={"JAKI-VTE-RISK": "warning", "JAKI-INFECTION-RISK": None},
        values={"JAKI-VTE-RISK": 30},
    ),
    Scenario(
        "BMI 29.9: no obesity",
        _with_lab("39156-5", 29.9, "kg/m2"),
        quiet=("JAKI-VTE-RISK", "JAKI-INFECTION-RISK"),
    ),
    Scenario(
        "combined oral contraceptive",
        add(medications=[COC]),
        fires={"JAKI-VTE-RISK": "warning"},
    ),
    Scenario(
        "factor V Leiden (ICD-10-CM D68.51)",
        add(conditions=[condition(ICD10CM, "D68.51", "Activated protein C resistance")]),
        fires={"JAKI-VTE-RISK": "warning"},
    ),
    # ---- malignancy
    Scenario(
        "DLBCL (109969005) in remission for ten years: lymphoma any time",
        add(
            conditions=[
                condition(
                    SCT,
                    "109969005",
                    "Diffuse large B-cell lymphoma (disorder)",
                    onset_days_ago=4000,
                    status="remission",
                    abatement_days_ago=3600,
                )
            ]
        ),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    Scenario(
        "history of NHL (Z85.72)",
        add(
            conditions=[
                condition(
                    ICD10CM,
                    "Z85.72",
                    "Personal history of non-Hodgkin lymphomas",
                    onset_days_ago=5000,
                )
            ]
        ),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    Scenario(
        "history of melanoma (Z85.820) two years ago",
        add(
            conditions=[
                condition(
                    ICD10CM,
                    "Z85.820",
                    "Personal history of malignant melanoma of skin",
                    onset_days_ago=700,
                )
            ]
        ),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    Scenario(
        "multiple myeloma (109989006)",
        add(conditions=[condition(SCT, "109989006", "Multiple myeloma (disorder)")]),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    # ---- infection
    Scenario(
        "bacterial sepsis now (10001005, Synthea)",
        add(
            conditions=[condition(SCT, "10001005", "Bacterial sepsis (disorder)", onset_days_ago=3)]
        ),
        fires={"JAKI-SERIOUS-INFECTION": "critical"},
    ),
    Scenario(
        "sepsis unspecified (A41.9) now",
        add(
            conditions=[
                condition(ICD10CM, "A41.9", "Sepsis, unspecified organism", onset_days_ago=2)
            ]
        ),
        fires={"JAKI-SERIOUS-INFECTION": "critical"},
    ),
    Scenario(
        "sepsis resolved two years ago: not active now",
        add(
            conditions=[
                condition(
                    SCT,
                    "10001005",
                    "Bacterial sepsis (disorder)",
                    onset_days_ago=800,
                    status="resolved",
                    abatement_days_ago=780,
                )
            ]
        ),
        quiet=("JAKI-SERIOUS-INFECTION",),
    ),
    Scenario(
        "prednisone 10 mg/day: infection risk",
        add(medications=[PREDNISONE_10]),
        fires={"JAKI-INFECTION-RISK": None},
    ),
    # ---- tuberculosis
    Scenario(
        "active pulmonary TB (A15.0 ICD-10-CM)",
        add(conditions=[condition(ICD10CM, "A15.0", "Tuberculosis of lung", onset_days_ago=20)]),
        fires={"JAKI-TB-ACTIVE": "critical"},
    ),
    Scenario(
        "acute tuberculosis (25629007)",
        add(
            conditions=[
                condition(SCT, "25629007", "Acute tuberculosis (disorder)", onset_days_ago=20)
            ]
        ),
        fires={"JAKI-TB-ACTIVE": "critical"},
    ),
    Scenario(
        "no IGRA or TST on file",
        add(drop_obs=("71773-6",)),
        fires={"JAKI-TB-SCREEN": "warning"},
    ),
    Scenario(
        "negative IGRA 14 months ago only",
        add(
            drop_obs=("71773-6",),
            observations=[
                coded("71773-6", ("http://snomed.info/sct", "260385009", "Negative"), days=425)
            ],
        ),
        fires={"JAKI-TB-SCREEN": "warning"},
    ),
    Scenario(
        "positive IGRA, untreated",
        add(drop_obs=("71773-6",), observations=[coded("71773-6", POSITIVE)]),
        fires={"JAKI-TB-SCREEN": "warning"},
        quiet=("JAKI-TB-ACTIVE",),
    ),
    Scenario(
        "positive IGRA on isoniazid (SCD 197831)",
        add(
            drop_obs=("71773-6",),
            observations=[coded("71773-6", POSITIVE)],
            medications=[ISONIAZID],
        ),
        quiet=("JAKI-TB-SCREEN", "JAKI-TB-ACTIVE"),
    ),
    # ---- hepatitis
    Scenario(
        "HBsAg positive",
        add(drop_obs=("5196-1",), observations=[coded("5196-1", POSITIVE)]),
        fires={"JAKI-HBV": "critical"},
    ),
    Scenario(
        "anti-HBc positive without HBV DNA",
        add(drop_obs=("16933-4",), observations=[coded("16933-4", POSITIVE)]),
        fires={"JAKI-HBV": "warning"},
    ),
    Scenario("no HBV serology", add(drop_obs=("5196-1", "16933-4")), fires={"JAKI-HBV": "warning"}),
    Scenario(
        "HCV antibody positive without RNA",
        add(drop_obs=("16128-1",), observations=[coded("16128-1", POSITIVE)]),
        fires={"JAKI-HCV": "warning"},
    ),
    # ---- zoster and vaccines
    Scenario(
        "no recombinant zoster vaccine",
        Chart(immunizations=[]),
        fires={"JAKI-ZOSTER": "info"},
    ),
    Scenario(
        "prior herpes zoster (B02.9), vaccinated",
        add(
            conditions=[
                condition(
                    ICD10CM,
                    "B02.9",
                    "Zoster without complications",
                    onset_days_ago=900,
                    status="resolved",
                )
            ]
        ),
        fires={"JAKI-ZOSTER": "warning"},
    ),
    Scenario(
        "live zoster vaccine (CVX 121) three weeks ago",
        Chart(
            immunizations=[
                {
                    "resourceType": "Immunization",
                    "id": "imm-zvl",
                    "status": "completed",
                    "patient": {"reference": "Patient/scenario-patient"},
                    "vaccineCode": {
                        "coding": [{"system": CVX, "code": "121", "display": "zoster live"}]
                    },
                    "occurrenceDateTime": days_ago(21),
                }
            ]
        ),
        fires={"JAKI-LIVE-VACCINE": "warning"},
    ),
    # ---- pregnancy and contraception
    Scenario(
        "pregnant state (WHO ICD-10 Z33, Taiwan)",
        add(age=32, conditions=[condition(ICD10, "Z33", "懷孕狀態", onset_days_ago=40)]),
        fires={"JAKI-PREGNANCY": "critical"},
        quiet=("JAKI-CONTRACEPTION",),
    ),
    Scenario(
        "supervision of high-risk pregnancy (O09.891)",
        add(
            age=34,
            conditions=[
                condition(
                    ICD10CM,
                    "O09.891",
                    "Supervision of other high risk pregnancies, first trimester",
                    onset_days_ago=30,
                )
            ],
        ),
        fires={"JAKI-PREGNANCY": "critical"},
    ),
    Scenario(
        "positive urine hCG ten days ago",
        add(age=28, drop_obs=("2106-3",), observations=[coded("2106-3", POSITIVE, days=10)]),
        fires={"JAKI-PREGNANCY": "critical"},
    ),
    Scenario(
        "woman of 30 without a pregnancy test",
        add(age=30, drop_obs=("2106-3",)),
        fires={"JAKI-CONTRACEPTION": "info"},
        quiet=("JAKI-PREGNANCY",),
    ),
    Scenario(
        "man of 30: no contraception reminder",
        add(age=30, gender="male", drop_obs=("2106-3",)),
        quiet=("JAKI-CONTRACEPTION", "JAKI-PREGNANCY"),
    ),
    # ---- GI perforation
    Scenario(
        "diverticulitis of large intestine (K57.32)",
        add(
            conditions=[
                condition(
                    ICD10CM,
                    "K57.32",
                    "Diverticulitis of large intestine without perforation or abscess "
                    "without bleeding",
                )
            ]
        ),
        fires={"JAKI-GI-PERFORATION": "warning"},
    ),
    # ---- laboratory floors
    Scenario(
        "ANC 990/µL",
        _with_lab("751-8", 0.99, "10*3/uL"),
        fires={"JAKI-LAB-ANC": "critical"},
        values={"JAKI-LAB-ANC": 990},
    ),
    Scenario("ANC 1000/µL exactly", _with_lab("751-8", 1.0, "10*3/uL"), quiet=("JAKI-LAB-ANC",)),
    # baricitinib SmPC 4.2: not initiated below 0.5 x 10^9/L; tofacitinib SmPC 4.4: below 0.75
    Scenario(
        "ALC 490/µL, baricitinib",
        _with_lab("731-0", 0.49, "10*3/uL"),
        orders=(baricitinib(4),),
        fires={"JAKI-LAB-ALC": "critical"},
    ),
    Scenario(
        "ALC 500/µL exactly, baricitinib",
        _with_lab("731-0", 0.5, "10*3/uL"),
        orders=(baricitinib(4),),
        quiet=("JAKI-LAB-ALC",),
    ),
    Scenario(
        "ALC 740/µL, tofacitinib (EU floor 750)",
        _with_lab("731-0", 0.74, "10*3/uL"),
        fires={"JAKI-LAB-ALC": "critical"},
        values={"JAKI-LAB-ALC": 740},
    ),
    Scenario(
        "ALC 750/µL exactly, tofacitinib",
        _with_lab("731-0", 0.75, "10*3/uL"),
        quiet=("JAKI-LAB-ALC",),
    ),
    Scenario(
        "Hb 8.9 g/dL with tofacitinib (floor 9)",
        _with_lab("718-7", 8.9, "g/dL"),
        fires={"JAKI-LAB-HB": "critical"},
    ),
    Scenario(
        "Hb 9.0 g/dL with tofacitinib", _with_lab("718-7", 9.0, "g/dL"), quiet=("JAKI-LAB-HB",)
    ),
    Scenario(
        "Hb 8.5 g/dL with baricitinib (floor 8)",
        _with_lab("718-7", 8.5, "g/dL"),
        orders=(baricitinib(4),),
        quiet=("JAKI-LAB-HB",),
    ),
    Scenario(
        "Hb 7.9 g/dL with baricitinib",
        _with_lab("718-7", 7.9, "g/dL"),
        orders=(baricitinib(4),),
        fires={"JAKI-LAB-HB": "critical"},
    ),
    Scenario(
        "Hb 85 g/L (SI unit) with tofacitinib",
        _with_lab("718-7", 85, "g/L"),
        fires={"JAKI-LAB-HB": "critical"},
    ),
    Scenario(
        "derived ANC: WBC 2.4 x10^3/uL x 35 % neutrophils = 840",
        add(
            drop_obs=("751-8", "6690-2"),
            observations=[quantity("6690-2", 2.4, "10*3/uL"), quantity("770-8", 35, "%")],
        ),
        fires={"JAKI-LAB-ANC": "critical"},
        values={"JAKI-LAB-ANC": 840},
    ),
    Scenario(
        "platelets 140 000/µL with abrocitinib (floor 150 000)",
        _with_lab("777-3", 140, "10*3/uL"),
        orders=(ABROCITINIB,),
        fires={"JAKI-LAB-PLT": "critical"},
    ),
    Scenario(
        "platelets 140 000/µL with tofacitinib: no floor",
        _with_lab("777-3", 140, "10*3/uL"),
        quiet=("JAKI-LAB-PLT",),
    ),
    Scenario(
        "no CBC, liver or creatinine in 90 days",
        Chart(observations=[o for o in baseline_labs(days=200)]),
        fires={"JAKI-LAB-MISSING": "warning"},
    ),
    Scenario(
        "no lipid panel in 12 months",
        add(drop_obs=("2093-3", "2085-9", "13457-7")),
        fires={"JAKI-LIPIDS": "info"},
    ),
    # ---- combinations and interactions
    Scenario(
        "adalimumab active", add(medications=[ADALIMUMAB]), fires={"JAKI-COMBINATION": "warning"}
    ),
    Scenario(
        "baricitinib active while tofacitinib ordered: two JAK inhibitors",
        add(medications=[ACTIVE_BARICITINIB]),
        fires={"JAKI-COMBINATION": "critical"},
    ),
    Scenario(
        "ketoconazole with tofacitinib",
        add(medications=[KETOCONAZOLE]),
        fires={"JAKI-DDI": "warning"},
    ),
    Scenario(
        "filgotinib for a man",
        add(gender="male"),
        orders=(FILGOTINIB,),
        fires={"JAKI-FILGOTINIB-FERTILITY": "info"},
    ),
    Scenario(
        "filgotinib for a woman",
        Chart(),
        orders=(FILGOTINIB,),
        quiet=("JAKI-FILGOTINIB-FERTILITY",),
    ),
    # ---- dose
    Scenario(
        "tofacitinib 10 mg twice daily in RA",
        Chart(),
        orders=(tofacitinib(10, 2),),
        fires={"JAKI-DOSE-MAX": "critical"},
    ),
    Scenario(
        "tofacitinib 5 mg twice daily in RA",
        Chart(),
        orders=(tofacitinib(5, 2),),
        quiet=("JAKI-DOSE-MAX",),
    ),
    Scenario(
        "tofacitinib 11 mg XR once daily in RA",
        Chart(),
        orders=(
            draft(
                [(RX, "1741046", "tofacitinib 11 MG 24HR Extended Release Oral Tablet")],
                text="tofacitinib XR 11 mg",
                dose_mg=11,
            ),
        ),
        quiet=("JAKI-DOSE-MAX",),
    ),
    Scenario(
        "baricitinib 4 mg at 75 (EU)",
        Chart(age=75),
        orders=(baricitinib(4),),
        fires={"JAKI-DOSE-MAX": "warning"},
    ),
    # Olumiant SmPC 4.2 after the 2023 Article 20 review: 2 mg recommended from 65
    Scenario(
        "baricitinib 4 mg at 65 (EU)",
        _birthday_today(65),
        orders=(baricitinib(4),),
        fires={"JAKI-DOSE-MAX": "warning"},
    ),
    Scenario(
        "baricitinib 4 mg at 64 (EU)",
        Chart(age=64),
        orders=(baricitinib(4),),
        quiet=("JAKI-DOSE-MAX",),
    ),
    Scenario(
        "baricitinib 2 mg at 80 (EU)",
        Chart(age=80),
        orders=(baricitinib(2),),
        quiet=("JAKI-DOSE-MAX",),
    ),
    Scenario(
        "baricitinib 4 mg in RA under the US label",
        Chart(),
        orders=(baricitinib(4),),
        region="US",
        fires={"JAKI-DOSE-MAX": "warning"},
    ),
    Scenario(
        "upadacitinib 45 mg for UC induction (US)",
        Chart(
            conditions=[
                condition(
                    ICD10CM, "K51.90", "Ulcerative colitis, unspecified, without complications"
                )
            ]
        ),
        orders=(
            upadacitinib(
                45,
                reason=(
                    ICD10CM,
                    "K51.90",
                    "Ulcerative colitis, unspecified, without complications",
                ),
            ),
        ),
        region="US",
        quiet=("JAKI-DOSE-MAX",),
    ),
    Scenario(
        "upadacitinib 45 mg in RA (US)",
        Chart(),
        orders=(upadacitinib(45, reason=(SCT, "69896004", "Rheumatoid arthritis")),),
        region="US",
        fires={"JAKI-DOSE-MAX": None},
    ),
    # ---- renal, by region
    Scenario(
        "baricitinib 4 mg, eGFR 59 (EU)",
        _with_lab("98979-8", 59, "mL/min/{1.73_m2}"),
        orders=(baricitinib(4),),
        fires={"JAKI-RENAL-DOSE": "warning"},
    ),
    Scenario(
        "baricitinib 4 mg, eGFR 60 (EU)",
        _with_lab("98979-8", 60, "mL/min/{1.73_m2}"),
        orders=(baricitinib(4),),
        quiet=("JAKI-RENAL-DOSE",),
    ),
    Scenario(
        "baricitinib 2 mg, eGFR 29 (EU)",
        _with_lab("98979-8", 29, "mL/min/{1.73_m2}"),
        orders=(baricitinib(2),),
        fires={"JAKI-RENAL-DOSE": "critical"},
    ),
    Scenario(
        "baricitinib 2 mg, eGFR 30 (EU)",
        _with_lab("98979-8", 30, "mL/min/{1.73_m2}"),
        orders=(baricitinib(2),),
        quiet=("JAKI-RENAL-DOSE",),
    ),
    Scenario(
        "tofacitinib 5 mg BID, eGFR 45 (US: moderate)",
        _with_lab("98979-8", 45, "mL/min/{1.73_m2}"),
        region="US",
        fires={"JAKI-RENAL-DOSE": "warning"},
    ),
    Scenario(
        "tofacitinib 5 mg BID, eGFR 45 (EU: severe only)",
        _with_lab("98979-8", 45, "mL/min/{1.73_m2}"),
        region="EU",
        quiet=("JAKI-RENAL-DOSE",),
    ),
    Scenario(
        "tofacitinib 5 mg BID, eGFR 25 (EU: severe)",
        _with_lab("98979-8", 25, "mL/min/{1.73_m2}"),
        region="EU",
        fires={"JAKI-RENAL-DOSE": None},
    ),
    Scenario(
        "filgotinib 200 mg, eGFR 50",
        _with_lab("98979-8", 50, "mL/min/{1.73_m2}"),
        orders=(FILGOTINIB,),
        fires={"JAKI-RENAL-DOSE": "warning"},
    ),
    Scenario(
        "filgotinib 200 mg, eGFR 14",
        _with_lab("98979-8", 14, "mL/min/{1.73_m2}"),
        orders=(FILGOTINIB,),
        fires={"JAKI-RENAL-DOSE": "critical"},
    ),
    # ---- hepatic
    Scenario(
        "decompensated cirrhosis (716203000): severe hepatic impairment",
        add(
            conditions=[condition(SCT, "716203000", "Decompensated cirrhosis of liver (disorder)")]
        ),
        fires={"JAKI-HEPATIC": "critical"},
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_jak_inhibitor_rule(make_app, scenario: Scenario) -> None:
    check(make_app, scenario)


def test_order_naming_two_drugs_is_not_judged_on_one(make_app) -> None:
    """A tofacitinib order whose text also names another drug: its 10 mg twice daily may not
    be the tofacitinib dose, so the dose is "not assessed", never judged on one drug."""
    order = draft(
        [(RX, "1357541", "tofacitinib 5 MG Oral Tablet")],
        text="tofacitinib 10 mg + methotrexate 15 mg",
        dose_mg=10,
        per_day=2,
    )
    result = check(make_app, Scenario("two drugs in one order", Chart(), orders=(order,)))
    assert "JAKI-DOSE-MAX" not in result.findings, result.findings.get("JAKI-DOSE-MAX")
    assert "JAKI-DOSE-MAX" in result.not_assessed, (result.not_assessed, result.text)
    assert "the order names more than one drug" in result.text, result.text

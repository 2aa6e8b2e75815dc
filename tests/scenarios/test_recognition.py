"""SPEC §6 recognition by meaning through the HTTP app: specific SNOMED CT descendants, ICD-10-CM
with extra characters, WHO ICD-10, text-only Conditions in en/ja/zh, and the look-alikes that
are not the concept (malignant hypertension, benign/in-situ neoplasms, skin BCC/SCC, family
history, screening, suspected or refuted, latent TB, varicella and herpes simplex)."""

from __future__ import annotations

import pytest

from tests.scenarios.chart import (
    ICD10,
    ICD10CM,
    RX,
    SCT,
    Scenario,
    add,
    check,
    condition,
    medication,
)

LOCAL = "urn:oid:2.16.840.1.113883.3.9999.1"  # a hospital's own problem-list codes


def _cond(*args, **kw):
    return add(conditions=[condition(*args, **kw)])


def _text(text: str, **kw):
    return add(conditions=[condition(None, None, text=text, **kw)])


LOOK_ALIKES = [
    Scenario(
        "malignant hypertension (78975002) is not malignancy",
        _cond(SCT, "78975002", "Malignant essential hypertension (disorder)"),
        quiet=("JAKI-MALIGNANCY", "JAKI-VTE-RISK"),
    ),
    Scenario(
        "benign neoplasm of colon (D12.6)",
        _cond(ICD10CM, "D12.6", "Benign neoplasm of colon, unspecified"),
        quiet=("JAKI-MALIGNANCY", "JAKI-VTE-RISK"),
    ),
    Scenario(
        "ductal carcinoma in situ of right breast (D05.11)",
        _cond(ICD10CM, "D05.11", "Intraductal carcinoma in situ of right breast"),
        quiet=("JAKI-MALIGNANCY",),
    ),
    Scenario(
        "neoplasm of uncertain behaviour (D48.9)",
        _cond(ICD10CM, "D48.9", "Neoplasm of uncertain behavior, unspecified"),
        quiet=("JAKI-MALIGNANCY",),
    ),
    Scenario(
        "basal cell carcinoma of skin, CM C44.91",
        _cond(ICD10CM, "C44.91", "Basal cell carcinoma of skin, unspecified"),
        quiet=("JAKI-MALIGNANCY", "JAKI-VTE-RISK"),
    ),
    Scenario(
        "basal cell carcinoma (SNOMED 254701007)",
        _cond(SCT, "254701007", "Basal cell carcinoma of skin (disorder)"),
        quiet=("JAKI-MALIGNANCY",),
    ),
    Scenario(
        "squamous cell carcinoma of skin (SNOMED 254651007)",
        _cond(SCT, "254651007", "Squamous cell carcinoma of skin (disorder)"),
        quiet=("JAKI-MALIGNANCY",),
    ),
    Scenario(
        "history of other skin cancer (Z85.828) is non-melanoma skin cancer",
        _cond(ICD10CM, "Z85.828", "Personal history of other malignant neoplasm of skin"),
        quiet=("JAKI-MALIGNANCY",),
    ),
    Scenario(
        "history of Hodgkin lymphoma (Z85.71), decades ago",
        _cond(ICD10CM, "Z85.71", "Personal history of Hodgkin lymphoma", onset_days_ago=9000),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    Scenario(
        "family history of malignant neoplasm of colon (Z80.0)",
        _cond(ICD10CM, "Z80.0", "Family history of malignant neoplasm of digestive organs"),
        quiet=("JAKI-MALIGNANCY",),
    ),
    Scenario(
        "screening for malignant neoplasm of colon (Z12.11)",
        _cond(ICD10CM, "Z12.11", "Encounter for screening for malignant neoplasm of colon"),
        quiet=("JAKI-MALIGNANCY",),
    ),
    Scenario(
        "family history of venous thrombosis (text only)",
        _text("Family history of deep vein thrombosis"),
        quiet=("JAKI-VTE-HISTORY",),
    ),
    Scenario(
        "suspected pulmonary embolism (text only)",
        _text("Suspected pulmonary embolism"),
        quiet=("JAKI-VTE-HISTORY",),
    ),
    Scenario(
        "pulmonary embolism refuted (verificationStatus)",
        add(
            conditions=[
                condition(
                    SCT,
                    "706870000",
                    "Acute pulmonary embolism (disorder)",
                    onset_days_ago=30,
                    verification="refuted",
                )
            ]
        ),
        quiet=("JAKI-VTE-HISTORY",),
    ),
    Scenario(
        "entered-in-error DVT",
        add(
            conditions=[
                condition(
                    SCT,
                    "404223003",
                    "Deep venous thrombosis of lower extremity (disorder)",
                    verification="entered-in-error",
                )
            ]
        ),
        quiet=("JAKI-VTE-HISTORY",),
    ),
    Scenario(
        "screening for tuberculosis (Z11.1)",
        _cond(ICD10CM, "Z11.1", "Encounter for screening for respiratory tuberculosis"),
        quiet=("JAKI-TB-ACTIVE",),
    ),
    Scenario(
        "latent tuberculosis (Z22.7)",
        _cond(ICD10CM, "Z22.7", "Latent tuberculosis"),
        quiet=("JAKI-TB-ACTIVE",),
    ),
    Scenario(
        "latent tuberculosis (SNOMED 11999007 inactive TB)",
        _cond(SCT, "11999007", "Inactive tuberculosis (finding)"),
        quiet=("JAKI-TB-ACTIVE",),
    ),
    Scenario(
        "varicella in childhood (B01.9)",
        _cond(ICD10CM, "B01.9", "Varicella without complication", onset_days_ago=12000),
        quiet=("JAKI-ZOSTER",),
    ),
    Scenario(
        "herpes simplex labialis (B00.1)",
        _cond(ICD10CM, "B00.1", "Herpesviral vesicular dermatitis"),
        quiet=("JAKI-ZOSTER",),
    ),
    Scenario(
        "chickenpox (SNOMED 38907003)",
        _cond(SCT, "38907003", "Varicella (disorder)", onset_days_ago=12000),
        quiet=("JAKI-ZOSTER",),
    ),
    Scenario(
        "history of breast cancer (Z85.3, active on the problem list) is not active cancer",
        _cond(
            ICD10CM, "Z85.3", "Personal history of malignant neoplasm of breast", onset_days_ago=700
        ),
        fires={"JAKI-MALIGNANCY": "warning"},
        quiet=("JAKI-VTE-RISK",),
    ),
    Scenario(
        "history of NHL (Z85.72) is lymphoma, not active cancer",
        _cond(ICD10CM, "Z85.72", "Personal history of non-Hodgkin lymphomas", onset_days_ago=4000),
        fires={"JAKI-MALIGNANCY": "warning"},
        quiet=("JAKI-VTE-RISK",),
    ),
    Scenario(
        "history of cerebral infarction (Z86.73) at 45 is established ASCVD",
        _cond(
            ICD10CM, "Z86.73", "Personal history of TIA and cerebral infarction", onset_days_ago=700
        ),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "history of VTE (Z86.718) on apixaban stays critical",
        add(
            conditions=[
                condition(
                    ICD10CM,
                    "Z86.718",
                    "Personal history of other venous thrombosis",
                    onset_days_ago=2000,
                )
            ],
            medications=[
                medication([(RX, "1364445", "apixaban 5 MG Oral Tablet")], text="apixaban")
            ],
        ),
        fires={"JAKI-VTE-HISTORY": "critical"},
    ),
]

BY_MEANING = [
    Scenario(
        "adenocarcinoma of lung (254626006), active",
        _cond(SCT, "254626006", "Adenocarcinoma of lung (disorder)", onset_days_ago=200),
        fires={"JAKI-MALIGNANCY": "warning", "JAKI-VTE-RISK": "warning"},
    ),
    Scenario(
        "melanoma (372244006) three years ago",
        _cond(SCT, "372244006", "Malignant melanoma (disorder)", onset_days_ago=1100),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    Scenario(
        "acute myeloid leukaemia (91861009)",
        _cond(SCT, "91861009", "Acute myeloid leukemia (disorder)"),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    Scenario(
        "WHO ICD-10 C50.9 breast cancer (China)",
        _cond(ICD10, "C50.9", "乳腺恶性肿瘤", onset_days_ago=300),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    Scenario(
        "STEMI (401303003)",
        _cond(SCT, "401303003", "Acute ST segment elevation myocardial infarction (disorder)"),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "intracerebral haemorrhage (I61.9)",
        _cond(ICD10CM, "I61.9", "Nontraumatic intracerebral hemorrhage, unspecified"),
        fires={"JAKI-MACE-RISK": "warning"},
    ),
    Scenario(
        "history of pulmonary embolism (Z86.711)",
        _cond(ICD10CM, "Z86.711", "Personal history of pulmonary embolism", onset_days_ago=1500),
        fires={"JAKI-VTE-HISTORY": "warning"},
    ),
    Scenario(
        "DVT in pregnancy (O22.33) counts as both",
        add(
            age=31,
            conditions=[
                condition(
                    ICD10CM,
                    "O22.33",
                    "Deep phlebothrombosis in pregnancy, third trimester",
                    onset_days_ago=20,
                )
            ],
        ),
        fires={"JAKI-PREGNANCY": "critical", "JAKI-VTE-HISTORY": "critical"},
    ),
    Scenario(
        "weeks of gestation (Z3A.20)",
        add(age=29, conditions=[condition(ICD10CM, "Z3A.20", "20 weeks gestation of pregnancy")]),
        fires={"JAKI-PREGNANCY": "critical"},
    ),
    Scenario(
        "hepatitis B carrier (235871004)",
        _cond(SCT, "235871004", "Hepatitis B carrier (finding)"),
        fires={"JAKI-HBV": None},
    ),
    Scenario(
        "chronic viral hepatitis B (B18.1)",
        _cond(ICD10CM, "B18.1", "Chronic viral hepatitis B without delta-agent"),
        fires={"JAKI-HBV": None},
    ),
    Scenario(
        "rheumatoid arthritis with rheumatoid factor, multiple sites (M05.79) as the indication",
        add(
            conditions=[
                condition(
                    ICD10CM,
                    "M05.79",
                    "Rheumatoid arthritis with rheumatoid factor of multiple sites without organ "
                    "or systems involvement",
                )
            ]
        ),
        quiet=("JAKI-PARADOXICAL-ROSACEA",),
    ),
    Scenario(
        "Synthea display with semantic tag, unknown local code",
        _cond(LOCAL, "PL-3391", "Active tuberculosis (disorder)"),
        fires={"JAKI-TB-ACTIVE": "critical"},
    ),
    # text-only problem-list entries, as Japanese and Chinese clinics send them
    Scenario(
        "ja text: 深部静脈血栓症 three months ago",
        _text("深部静脈血栓症", onset_days_ago=90),
        fires={"JAKI-VTE-HISTORY": "critical"},
    ),
    Scenario(
        "ja text: 悪性リンパ腫 (lymphoma)",
        _text("悪性リンパ腫", onset_days_ago=3000, status="remission"),
        fires={"JAKI-MALIGNANCY": "warning"},
    ),
    Scenario(
        "zh-CN text: 肺结核 (pulmonary TB)",
        _text("肺结核", onset_days_ago=15),
        fires={"JAKI-TB-ACTIVE": "critical"},
    ),
    Scenario(
        "zh-TW text: 帶狀皰疹 (herpes zoster)",
        _text("帶狀皰疹", onset_days_ago=700, status="resolved"),
        fires={"JAKI-ZOSTER": "warning"},
    ),
    Scenario(
        "ja text: 肺塞栓症の疑い (suspected PE)",
        _text("肺塞栓症の疑い", onset_days_ago=10),
        quiet=("JAKI-VTE-HISTORY",),
    ),
    Scenario(
        "en text: No history of DVT",
        _text("No history of DVT"),
        quiet=("JAKI-VTE-HISTORY",),
    ),
]


@pytest.mark.parametrize("scenario", LOOK_ALIKES, ids=str)
def test_look_alike_is_not_the_concept(make_app, scenario: Scenario) -> None:
    check(make_app, scenario)


@pytest.mark.parametrize("scenario", BY_MEANING, ids=str)
def test_condition_recognised_by_meaning(make_app, scenario: Scenario) -> None:
    check(make_app, scenario)


def test_name_match_is_said_on_the_card(make_app) -> None:
    from tests.scenarios.chart import sign

    result = sign(make_app(), _text("深部静脈血栓症", onset_days_ago=90))
    assert "JAKI-VTE-HISTORY" in result.findings
    assert "recognised by name" in result.text

"""The sandbox's draft order through the HTTP app: 2 {pill} twice daily of RxNorm SCD 1357541
(tofacitinib 5 MG Oral Tablet) is 20 mg/day and headlines the dose above the label; a dose the
service cannot read is said in the card's language.

The draft order's shape is the one the public CDS Hooks sandbox sends (captured 2026-12-04 from
github.com/cds-hooks/sandbox at commit 3b7e255, Rx Sign tab, Number 2, twice daily).
"""

from __future__ import annotations

import copy

import pytest

from tests.service import samples

SANDBOX_DRAFT = {
    "resourceType": "MedicationRequest",
    "id": "request-123",
    "status": "draft",
    "subject": {"reference": f"Patient/{samples.PATIENT_ID}"},
    "authoredOn": "2026-12-04",
    "dosageInstruction": [
        {
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [
                {
                    "doseQuantity": {
                        "value": 2,
                        "system": "http://unitsofmeasure.org",
                        "code": "{pill}",
                    }
                }
            ],
        }
    ],
    "intent": "order",
    "medicationCodeableConcept": {
        "text": "tofacitinib 5 MG Oral Tablet",
        "coding": [
            {
                "display": "tofacitinib 5 MG Oral Tablet",
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "1357541",
            }
        ],
    },
}


def _cards(app, draft, language="en"):
    body = samples.order_sign(draft, prefetch=samples.full_prefetch())
    response = app.test_client().post(
        "/cds-services/rheum-order-sign",
        json=body,
        headers={"Accept-Language": language},
    )
    assert response.status_code == 200, response.json
    return response.json["cards"]


def _findings(card):
    return card["extension"]["org.rheum-cds"].get("findings", [])


def test_two_pills_twice_daily_headlines_dose_above_label(app):
    cards = _cards(app, SANDBOX_DRAFT)
    safety = cards[0]
    assert safety["indicator"] == "critical"
    assert _findings(safety)[0]["id"] == "JAKI-DOSE-MAX"
    assert "dose above label" in safety["summary"].lower()
    assert "20 mg" in safety["detail"]
    not_assessed = [n["id"] for c in cards for n in c["extension"]["org.rheum-cds"]["notAssessed"]]
    assert "JAKI-DOSE-MAX" not in not_assessed


def test_one_pill_twice_daily_is_within_the_label(app):
    draft = copy.deepcopy(SANDBOX_DRAFT)
    draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 1
    cards = _cards(app, draft)
    fired = {f["id"] for c in cards for f in _findings(c)}
    assert "JAKI-DOSE-MAX" not in fired


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ja", "1回量の単位 '[drp]' を読み取れない"),
        ("zh-TW", "無法讀取劑量單位 '[drp]'"),
        ("zh-CN", "无法读取剂量单位 '[drp]'"),
        ("en", "dose unit '[drp]' not readable"),
    ],
)
def test_unreadable_dose_unit_is_said_in_the_card_language(app, language, expected):
    draft = copy.deepcopy(SANDBOX_DRAFT)
    draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] = "[drp]"
    text = "\n".join(c["detail"] for c in _cards(app, draft, language))
    assert expected in text
    if language != "en":
        assert "not readable" not in text

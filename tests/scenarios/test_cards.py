"""SPEC §7 and issue 14: what a prescriber sees. Cards in the four languages carry no internal
words, no warning card is made only of the service's own limitations, a clean chart gets no
orange card in any label region, suggestions are real resources, DSTU2 orders are read."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.scenarios.chart import (
    CVX,
    ICD10,
    POSITIVE,
    RX,
    SCT,
    UCUM,
    Chart,
    add,
    baricitinib,
    coded,
    condition,
    days_ago,
    draft,
    infliximab,
    medication,
    quantity,
    sign,
    tofacitinib,
    upadacitinib,
)

LANGUAGES = ("en", "ja", "zh-TW", "zh-CN")
REGIONS = ("EU", "US", "JP", "TW")
FORBIDDEN = re.compile(
    r"(?i:\bseeds?\b)|\bSPEC\b|(?i:not configured)|未設定|未配置|未设定|設定されていません"
    r"|(?i:rule[-_ ]table)|checked = false"
)
ABROCITINIB = draft([(SCT, "1187200001", "abrocitinib")], text="abrocitinib 100 mg", dose_mg=100)
FILGOTINIB = draft([(RX, "0", "filgotinib")], text="Jyseleca 200 mg", dose_mg=200)

BUSY = add(
    age=68,
    gender="male",
    drop_obs=("71773-6", "5196-1", "2093-3", "2085-9", "13457-7"),
    conditions=[
        condition(
            SCT,
            "404223003",
            "Deep venous thrombosis of lower extremity (disorder)",
            onset_days_ago=60,
        ),
        condition(SCT, "363406005", "Malignant neoplasm of colon (disorder)", onset_days_ago=100),
        condition(ICD10, "I10", "Essential (primary) hypertension"),
        condition(SCT, "1234567890", "Local problem without a known code"),
    ],
    observations=[
        quantity("98979-8", 45, "mL/min/{1.73_m2}"),
        quantity("39803-2", 0.7, "ug/mL"),
        coded("5196-1", POSITIVE),
        quantity("88981-6", 8, "{#}"),
        quantity("88980-8", 5, "{#}"),
        quantity("4537-7", 40, "mm/h"),
        quantity("75894-6", 60, "mm"),
    ],
    medications=[
        medication(
            [(RX, "1364445", "apixaban 5 MG Oral Tablet")], text="apixaban", dose_mg=5, per_day=2
        ),
        medication(
            [(RX, "197854", "ketoconazole 200 MG Oral Tablet")], text="ketoconazole", dose_mg=200
        ),
    ],
)
ORDERS = {
    "tofacitinib 10 mg BID": tofacitinib(10, 2),
    "baricitinib 4 mg": baricitinib(4),
    "upadacitinib 30 mg": upadacitinib(30),
    "abrocitinib 100 mg": ABROCITINIB,
    "infliximab": infliximab(),
}


def _user_text(card: dict[str, Any]) -> str:
    parts = [card["summary"], card.get("detail", ""), card["source"].get("label", "")]
    parts += [link["label"] for link in card.get("links", [])]
    for suggestion in card.get("suggestions", []):
        parts.append(suggestion.get("label", ""))
    parts += [reason.get("display", "") for reason in card.get("overrideReasons", [])]
    return "\n".join(parts)


def _assert_card_rules(cards: list[dict[str, Any]]) -> None:
    assert len(cards) <= 3
    for card in cards:
        text = _user_text(card)
        assert not FORBIDDEN.search(text), FORBIDDEN.search(text).group(0) + "\n" + text
        assert len(card["summary"]) < 140
        assert card["source"]["label"] and card["source"].get("url")
        if card["indicator"] in ("warning", "critical"):
            severities = {f["severity"] for f in card["extension"]["org.rheum-cds"]["findings"]}
            # a warning card speaks of the patient, not only of what the service could not check
            assert severities & {"warning", "critical"}, text
            assert card["indicator"] in severities or card["indicator"] == "warning"
            assert card.get("overrideReasons"), card["summary"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("order", sorted(ORDERS))
@pytest.mark.parametrize("region", REGIONS)
def test_busy_chart_cards_read_clean(make_app, region, order, language) -> None:
    result = sign(make_app(label_region=region), BUSY, ORDERS[order], language=language)
    assert result.cards
    _assert_card_rules(result.cards)


@pytest.mark.parametrize(
    "order", ["tofacitinib 5 mg BID", "baricitinib 2 mg", "upadacitinib 15 mg"]
)
@pytest.mark.parametrize("region", REGIONS)
def test_clean_chart_gets_no_orange_card(make_app, region, order) -> None:
    orders = {
        "tofacitinib 5 mg BID": tofacitinib(5, 2),
        "baricitinib 2 mg": baricitinib(2),
        "upadacitinib 15 mg": upadacitinib(15),
    }
    result = sign(make_app(label_region=region), Chart(), orders[order])
    loud = [c["summary"] for c in result.cards if c["indicator"] != "info"]
    assert not loud, loud
    _assert_card_rules(result.cards)


def test_tofacitinib_10_mg_bid_suggests_the_labelled_dose(make_app) -> None:
    result = sign(make_app(), Chart(), tofacitinib(10, 2))
    assert result.severity("JAKI-DOSE-MAX") == "critical"
    card = next(c for c in result.cards if c["indicator"] == "critical")
    resources = [
        action["resource"]
        for s in card.get("suggestions", [])
        for action in s.get("actions", [])
        if action.get("type") == "update"
    ]
    assert resources, card
    dosage = resources[0]["dosageInstruction"][0]
    assert resources[0]["resourceType"] == "MedicationRequest"
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 5
    assert dosage["timing"]["repeat"]["frequency"] == 2


def test_zoster_vaccine_suggestion_is_a_medication_request(make_app) -> None:
    result = sign(make_app(), Chart(immunizations=[]), tofacitinib())
    assert "JAKI-ZOSTER" in result.findings
    created = [
        action["resource"]
        for c in result.cards
        for s in c.get("suggestions", [])
        for action in s.get("actions", [])
        if action.get("type") == "create"
    ]
    vaccines = [r for r in created if "187" in str(r)]
    assert vaccines and all(r["resourceType"] == "MedicationRequest" for r in vaccines)
    assert vaccines[0]["intent"] in ("proposal", "order")
    assert any(c.get("system") == CVX for c in vaccines[0]["medicationCodeableConcept"]["coding"])


def test_dstu2_medication_order_two_tablets_of_5_mg_twice_daily(make_app) -> None:
    order = {
        "resourceType": "MedicationOrder",
        "id": "mo-1",
        "dateWritten": days_ago(0),
        "status": "draft",
        "patient": {"reference": "Patient/scenario-patient"},
        "medicationCodeableConcept": {
            "coding": [{"system": RX, "code": "1357541", "display": "tofacitinib 5 MG Oral Tablet"}]
        },
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnits": "d"}},
                "doseQuantity": {"value": 2, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
            }
        ],
    }
    result = sign(make_app(), Chart(), order)
    assert result.severity("JAKI-DOSE-MAX") == "critical"
    assert 20 in result.values("JAKI-DOSE-MAX") or 20.0 in result.values("JAKI-DOSE-MAX")


def test_non_target_drug_gets_no_card(make_app) -> None:
    paracetamol = draft([(RX, "313782", "acetaminophen 325 MG Oral Tablet")], dose_mg=325)
    assert sign(make_app(), add(age=70), paracetamol).cards == []


def test_unclassified_conditions_are_counted_where_absence_matters(make_app) -> None:
    chart = add(
        conditions=[
            condition(
                SCT,
                "404223003",
                "Deep venous thrombosis of lower extremity (disorder)",
                onset_days_ago=3000,
                status="resolved",
            ),
            condition("http://hospital.example/problems", "X-77", None, text=None),
        ]
    )
    result = sign(make_app(), chart, tofacitinib())
    assert result.severity("JAKI-VTE-HISTORY") == "warning"
    assert "no other VTE risk factor recorded" not in result.text
    assert "1 condition(s) on the problem list could not be classified" in result.text

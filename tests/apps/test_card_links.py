"""The disease-activity card (order-sign) and the patient-view card link the trend app as a
SMART app in the card's language; safety and screening cards keep their one rule-page link."""

from __future__ import annotations

import pytest

from cards.language import LANGUAGES
from cards.render import render_cards
from cds_service.knowledge import load_knowledge
from tests.cards.helpers import assert_valid_cards
from tests.cards.samples import elderly_smoker, patient_view

APP = "https://cds.example.test/apps/activity/"
DOCS = "https://cds.example.test/docs"


@pytest.mark.parametrize("language", LANGUAGES)
def test_activity_and_patient_cards_link_the_app(language: str) -> None:
    knowledge = load_knowledge()
    order_cards = render_cards(elderly_smoker(), language, knowledge, DOCS, "order-sign", APP)
    view_cards = render_cards(patient_view(), language, knowledge, DOCS, "patient-view", APP)
    assert_valid_cards(order_cards + view_cards)
    for card in order_cards + view_cards:
        smart = [link for link in card["links"] if link["type"] == "smart"]
        absolute = [link for link in card["links"] if link["type"] == "absolute"]
        assert len(absolute) == 1
        kind = card["detail"]
        activity = card["extension"]["org.rheum-cds"]["scores"] != []
        if activity:
            assert smart == [
                {"label": smart[0]["label"], "url": f"{APP}?lang={language}", "type": "smart"}
            ], kind
        else:
            assert smart == [], kind
    assert any(link["type"] == "smart" for card in view_cards for link in card["links"])


def test_without_an_app_url_no_smart_link() -> None:
    cards = render_cards(elderly_smoker(), "en", load_knowledge(), DOCS, "order-sign")
    assert all(link["type"] != "smart" for card in cards for link in card["links"])

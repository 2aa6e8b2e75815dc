"""Snapshots of the rendered cards per language, for a person to review the texts.

tests/cards/snapshots/<language>.txt holds the cards of the sample assessments as the demo
prints them. A change in any text shows up as a diff here; after reviewing it, regenerate with

    RHEUM_CDS_UPDATE_SNAPSHOTS=1 pytest tests/cards/test_snapshots.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cards.catalogue import catalogue
from cards.language import LANGUAGES
from cards.render import render_cards
from cds_service.commands.demo import format_card
from tests.cards import samples
from tests.cards.helpers import assert_valid_card
from tests.cards.test_citations import _problems

SNAPSHOTS = Path(__file__).parent / "snapshots"
CASES = [
    ("elderly smoker, tofacitinib 10 mg twice daily", samples.elderly_smoker, "order-sign"),
    ("tofacitinib and infliximab in one order set", samples.two_drugs, "order-sign"),
    ("observations could not be retrieved", samples.data_unavailable, "order-sign"),
    ("patient-view", samples.patient_view, "patient-view"),
]


def snapshot_text(language: str, knowledge) -> str:
    cat = catalogue(language)
    parts = []
    for title, build, hook in CASES:
        parts.append(f"### {title} ({hook})\n")
        for card in render_cards(
            build(), language, knowledge, "https://cds.example.org/docs", hook
        ):
            assert_valid_card(card)
            parts.append(format_card(card, cat, colour=False) + "\n")
    return "\n".join(parts)


@pytest.mark.parametrize("language", LANGUAGES)
def test_cards_match_the_reviewed_snapshot(language: str, knowledge) -> None:
    text = snapshot_text(language, knowledge)
    assert not _problems(text), _problems(text)  # no seed, SPEC, "not configured", internal ids
    path = SNAPSHOTS / f"{language}.txt"
    if os.environ.get("RHEUM_CDS_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text

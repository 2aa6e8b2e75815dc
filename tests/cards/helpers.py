"""Shared assertions on CDS Hooks cards (DESIGN.md "Card contract"; CDS Hooks 2.0).

Every test that produces cards checks each one with `assert_valid_card`:

    from tests.cards.helpers import assert_valid_card
"""

from __future__ import annotations

import re
import uuid
from typing import Any

INDICATORS = {"info", "warning", "critical"}
ACTION_TYPES = {"create", "update", "delete"}
LANGUAGES = {"en", "zh-TW", "zh-CN", "ja"}
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")  # a template field left unfilled


def _assert_coding(coding: Any, where: str) -> None:
    assert isinstance(coding, dict), f"{where}: not an object"
    for key in ("system", "code", "display"):
        assert isinstance(coding.get(key), str) and coding[key].strip(), f"{where}: no {key}"


def assert_valid_card(card: dict[str, Any]) -> None:
    """Fail with a message naming the member when `card` breaks the card contract."""
    assert isinstance(card, dict), "card is not an object"
    uuid.UUID(card.get("uuid", ""))  # raises on anything but a UUID
    summary = card.get("summary")
    assert isinstance(summary, str) and summary.strip(), "summary missing"
    assert len(summary) < 140, f"summary has {len(summary)} characters (must be < 140)"
    assert "\n" not in summary, "summary spans several lines"
    assert not PLACEHOLDER.search(summary), f"unfilled placeholder: {summary}"
    assert card.get("indicator") in INDICATORS, f"indicator {card.get('indicator')!r}"
    if "detail" in card:
        assert isinstance(card["detail"], str), "detail must be markdown text"
        found = PLACEHOLDER.search(card["detail"])
        assert not found, f"unfilled placeholder in detail: {found and found.group()}"
    source = card.get("source")
    assert isinstance(source, dict), "source missing"
    assert isinstance(source.get("label"), str) and source["label"].strip(), "source.label"
    assert isinstance(source.get("url"), str) and source["url"].startswith("http"), "source.url"
    if card["indicator"] in {"warning", "critical"}:
        reasons = card.get("overrideReasons")
        assert isinstance(reasons, list) and reasons, "overrideReasons missing on warning/critical"
        for i, coding in enumerate(reasons):
            _assert_coding(coding, f"overrideReasons[{i}]")
    suggestions = card.get("suggestions")
    if suggestions:
        assert card.get("selectionBehavior") in {"any", "at-most-one"}, "selectionBehavior"
        for i, s in enumerate(suggestions):
            assert isinstance(s.get("label"), str) and s["label"].strip(), f"suggestions[{i}].label"
            uuid.UUID(s.get("uuid", ""))
            assert s.get("actions"), f"suggestions[{i}].actions empty"
            for j, action in enumerate(s["actions"]):
                where = f"suggestions[{i}].actions[{j}]"
                assert action.get("type") in ACTION_TYPES, f"{where}.type"
                assert isinstance(action.get("description"), str), f"{where}.description"
                if action["type"] in {"create", "update"}:
                    assert isinstance(action.get("resource"), dict), f"{where}.resource"
                    assert action["resource"].get("resourceType"), f"{where}.resourceType"
                else:
                    assert isinstance(action.get("resourceId"), str), f"{where}.resourceId"
    for i, link in enumerate(card.get("links", [])):
        assert link.get("label") and link.get("url", "").startswith("http"), f"links[{i}]"
        assert link.get("type") in {"absolute", "smart"}, f"links[{i}].type"
    ext = card.get("extension", {}).get("org.rheum-cds")
    assert isinstance(ext, dict), 'extension["org.rheum-cds"] missing'
    assert set(ext) == {"findings", "scores", "notAssessed", "language"}, sorted(ext)
    assert ext["language"] in LANGUAGES, ext["language"]
    for f in ext["findings"]:
        assert set(f) == {"id", "severity", "evidence", "source"}, sorted(f)
        assert f["severity"] in INDICATORS
        assert isinstance(f["evidence"], list)
    for s in ext["scores"]:
        assert {"id", "value", "category", "date", "inputs"} <= set(s), sorted(s)
    for n in ext["notAssessed"]:
        assert set(n) == {"id", "missing"}, sorted(n)
    # the indicator is the highest severity among the findings the card reports
    rank = {"info": 0, "warning": 1, "critical": 2}
    if ext["findings"]:
        top = max(rank[f["severity"]] for f in ext["findings"])
        assert rank[card["indicator"]] >= top, "indicator below its findings' severity"


def assert_valid_cards(cards: list[dict[str, Any]]) -> None:
    for card in cards:
        assert_valid_card(card)

"""What a clinician reads names publications, never the team's shorthand or the service's gaps.

Every card of every demo patient x its orders x four languages, every template text (so texts
other sessions add are checked too) and every rule page: no "seed", no "SPEC", no "not
configured", no internal key of a knowledge file (`sct_synthea`, `spec6`, a citation id); every
source on a card carries a DOI or URL; every citation of sources.toml is complete.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cards.catalogue import all_catalogues
from cds_service.knowledge.loader import citation, compact_citation

KNOWLEDGE = Path(__file__).resolve().parents[2] / "cds_service" / "knowledge"
WORDS = re.compile(r"\bseed\b|\bspec\b|spec\.md|not configured|\.toml\b", re.IGNORECASE)


def _internal_keys() -> set[str]:
    """Keys of the knowledge files' source tables that look like identifiers, and citation ids."""
    keys: set[str] = set()
    for path in KNOWLEDGE.rglob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        keys |= {k for k in data.get("_sources", {}) if re.search(r"[_0-9]", k)}
    keys |= set(tomllib.loads((KNOWLEDGE / "sources.toml").read_text(encoding="utf-8")))
    return keys


INTERNAL = _internal_keys()
KEY_PATTERN = re.compile(r"(?<![\w/.-])(" + "|".join(map(re.escape, INTERNAL)) + r")(?![\w-])")


def _leaves(data: Any, where: str = "") -> list[tuple[str, str]]:
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in _leaves(v, f"{where}.{k}")]
    if isinstance(data, list):
        return [x for i, v in enumerate(data) for x in _leaves(v, f"{where}[{i}]")]
    return [(where, data)] if isinstance(data, str) else []


def _problems(text: str) -> list[str]:
    return [m.group() for m in WORDS.finditer(text)] + [
        m.group() for m in KEY_PATTERN.finditer(text)
    ]


def test_internal_keys_are_found() -> None:
    """The check itself: it knows the keys it must refuse, and finds them in a text."""
    assert {"sct_synthea", "spec6", "ytterberg-2022"} <= INTERNAL
    assert _problems("Source: sct_synthea; seed 000; SPEC.md §1; label not configured")
    assert not _problems("Ytterberg SR et al., N Engl J Med 2022, doi:10.1056/NEJMoa2109927")


def test_no_template_text_carries_internal_words() -> None:
    bad = [
        f"{lang} {where}: {_problems(text)}"
        for lang, cat in all_catalogues().items()
        for where, text in _leaves(cat.data)
        if _problems(text)
    ]
    assert not bad, "\n".join(bad)


def test_every_citation_is_complete() -> None:
    sources = tomllib.loads((KNOWLEDGE / "sources.toml").read_text(encoding="utf-8"))
    for sid, entry in sources.items():
        assert entry.get("authors") and entry.get("title"), sid
        assert entry.get("journal") or entry.get("document"), sid
        assert isinstance(entry.get("year"), int), sid
        assert entry.get("doi") or str(entry.get("url", "")).startswith("https://"), sid
        assert str(entry["year"]) in compact_citation(entry) and entry["title"] in citation(entry)
        assert not _problems(citation(entry)), sid


def _demo_cards() -> list[tuple[str, dict[str, Any]]]:
    """Every demo patient x each drug of its `try` list x four languages x four label regions."""
    from scripts.card_metrics import render_all

    return [
        item
        for region in ("EU", "US", "JP", "TW")
        for item in render_all(date(2026, 11, 23), region)
    ]


@pytest.fixture(scope="module")
def demo_cards() -> list[tuple[str, dict[str, Any]]]:
    return _demo_cards()


def test_no_card_carries_internal_words_or_the_service_gaps(demo_cards) -> None:
    assert len({lang for lang, _ in demo_cards}) == 4 and len(demo_cards) > 100
    bad = []
    for lang, card in demo_cards:
        text = json.dumps(card, ensure_ascii=False)
        if _problems(text):
            bad.append(f"{lang} {card['summary']}: {sorted(set(_problems(text)))}")
    assert not bad, "\n".join(bad[:20])


def test_every_source_on_a_card_can_be_looked_up(demo_cards) -> None:
    for _, card in demo_cards:
        for finding in card["extension"]["org.rheum-cds"]["findings"]:
            for part in filter(None, finding["source"].split("; ")):
                assert "doi:" in part or "http" in part, (finding["id"], part)


def test_no_warning_card_consists_only_of_the_service_limits(demo_cards, knowledge) -> None:
    """A warning or critical card has a finding or patient data to complete, never only what
    the service could not check (data not retrieved, unreadable, a rule off for the region)."""
    from scripts.card_metrics import service_limits_only

    loud = [card for _, card in demo_cards if card["indicator"] != "info"]
    assert loud
    assert not [c["summary"] for c in loud if service_limits_only(c, knowledge)]


def test_rule_pages_name_publications(knowledge) -> None:
    """Rule pages, the label figures and their reading notes included: no internal words."""
    from cds_service.rule_docs import pages

    bad = []
    for name, page in pages(knowledge).items():
        text = page
        if name == "README.md":
            text = "\n".join(line for line in text.splitlines() if not line.startswith("Generated"))
        # "not configured" is allowed here: an off rule is listed on its page, never on a card
        found = [p for p in _problems(text) if p.lower() != "not configured"]
        if found:
            bad.append(f"{name}: {sorted(set(found))}")
    assert not bad, "\n".join(bad)

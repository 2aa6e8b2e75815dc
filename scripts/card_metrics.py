"""How long and how loud the cards are: demo patients x their orders x the four languages.

    .venv/bin/python scripts/card_metrics.py [--anchor 2026-11-23] [--region EU] [--json]

Every synthetic demo patient (cds_service/demo_data/patients.toml) is tried with each drug of
its `try` list as an order-sign request (one draft order), in the default label region, and the
cards are rendered in en, zh-TW, zh-CN and ja through the same stages a hook call goes through
(normalise, assess, render; no server). Printed: the number of cards, warning and critical
cards, cards with no finding of their own (only what the service could not check), rendered
lines of detail per card (non-blank markdown lines, and the same wrapped at 90 columns as
the sandbox shows them), links per card and cards carrying internal words ("seed", "SPEC",
"not configured", a knowledge file name). docs/cards.md keeps the
figures before and after the card editorial of issue 14.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import unicodedata
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LANGUAGES = ("en", "zh-TW", "zh-CN", "ja")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)")
SCREEN_LINES = 25  # about one screen of the CDS Hooks sandbox
COLUMNS = 90  # characters per line of a sandbox card (a wide CJK character counts two)
INTERNAL = re.compile(r"\bseed\b|\bSPEC\b|not configured|\.toml\b", re.IGNORECASE)


# Not-assessed cases that are the service's own limits, or a rule off for the region (as
# cards/render.py classes them; repeated here so that the script also measures older trees).
LIMIT_CASES = {
    "dose",
    "bound",
    "implausible",
    "conditions_unclassified",
    "indication_unstated",
    "region",
}


def service_limits_only(card: dict[str, Any], knowledge: Any) -> bool:
    """A warning or critical card with no finding whose not-assessed entries are all the
    service's own limits (data not retrieved, unreadable, a rule off for the region)."""
    from cards.render import _missing_case
    from cds_service.model import NotAssessed

    ext = card["extension"]["org.rheum-cds"]
    if card["indicator"] == "info" or ext["findings"] or ext["scores"]:
        return False
    cases = []
    for n in ext["notAssessed"]:
        matched = _missing_case(knowledge, NotAssessed(n["id"], n["missing"]))
        cases.append(matched[0] if matched else None)
    limits = [c is not None and (c in LIMIT_CASES or c.endswith("_unavailable")) for c in cases]
    return bool(limits) and all(limits)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def markdown_lines(card: dict[str, Any]) -> int:
    """Non-blank lines of the markdown detail."""
    return sum(1 for line in card.get("detail", "").split("\n") if line.strip())


def rendered_lines(card: dict[str, Any]) -> int:
    """Lines on screen: each non-blank markdown line wrapped at COLUMNS (links as their text)."""
    total = 0
    for line in card.get("detail", "").split("\n"):
        text = _LINK.sub(r"\1", line).replace("**", "").strip()
        if text:
            total += max(1, math.ceil(_width(text) / COLUMNS))
    return total


def render_all(anchor: date, region: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(language, card) for every demo patient x each drug of its `try` list x language."""
    return [(row["language"], row["card"]) for row in _cards(anchor, region)]


def _knowledge() -> Any:
    from cds_service.commands.demo import demo_local_codes
    from cds_service.knowledge import load_knowledge

    return load_knowledge(local_codes=demo_local_codes({}))


def _cards(anchor: date, region: str | None) -> list[dict[str, Any]]:
    from cards.examples import record_from_bundle
    from cards.render import render_cards
    from cds_service.assess.engine import assess
    from cds_service.assess.registry import Settings
    from cds_service.commands.try_hook import draft_medication_request
    from cds_service.demo_data import demo_patients
    from cds_service.normalise import normalise
    from cds_service.normalise.orders import recognise_orders

    knowledge = _knowledge()
    settings = Settings(hook="order-sign")
    if region:
        settings = replace(settings, label_region=region)
    rows = []
    for patient in demo_patients(anchor):
        record = record_from_bundle(patient.bundle)
        for tried in patient.tries:
            draft = draft_medication_request(
                knowledge,
                record.patient_id,
                tried.drug,
                tried.dose_mg,
                tried.per_day,
                tried.reason,
                today=anchor,
            )
            orders = recognise_orders([draft], knowledge)
            facts = normalise(record, orders, knowledge, anchor)
            assessment = assess(facts, knowledge, settings)
            for language in LANGUAGES:
                cards = render_cards(
                    assessment, language, knowledge, "https://cds.example.org/docs", "order-sign"
                )
                for card in cards:
                    rows.append(
                        {
                            "patient": patient.id,
                            "drug": tried.drug,
                            "language": language,
                            "card": card,
                        }
                    )
    return rows


def collect(anchor: date, region: str | None) -> list[dict[str, Any]]:
    """One row per card: patient, drug, language, indicator, lines, links, findings."""
    rows = []
    knowledge = _knowledge()
    for item in _cards(anchor, region):
        card, language, patient_id, drug = (
            item["card"],
            item["language"],
            item["patient"],
            item["drug"],
        )
        ext = card["extension"]["org.rheum-cds"]
        rows.append(
            {
                "patient": patient_id,
                "drug": drug,
                "language": language,
                "indicator": card["indicator"],
                "markdown_lines": markdown_lines(card),
                "lines": rendered_lines(card),
                "internal_words": bool(INTERNAL.search(json.dumps(card, ensure_ascii=False))),
                "not_configured": "not configured" in json.dumps(card, ensure_ascii=False),
                "limits_only": service_limits_only(card, knowledge),
                "links": len(card.get("links", [])),
                "findings": len(ext["findings"]),
                "scores": len(ext["scores"]),
                "summary": card["summary"],
            }
        )
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    orders = {(r["patient"], r["drug"], r["language"]) for r in rows}
    lines = [r["lines"] for r in rows] or [0]
    links = [r["links"] for r in rows] or [0]
    indicators = Counter(r["indicator"] for r in rows)
    loud = [r for r in rows if r["indicator"] in ("warning", "critical")]
    return {
        "requests": len(orders),
        "cards": len(rows),
        "cards_per_request": round(len(rows) / max(len(orders), 1), 2),
        "info": indicators["info"],
        "warning": indicators["warning"],
        "critical": indicators["critical"],
        "warning_or_critical_without_finding": sum(
            1 for r in loud if r["findings"] == 0 and r["scores"] == 0
        ),
        "warning_cards_only_service_limits": sum(1 for r in rows if r["limits_only"]),
        "cards_saying_not_configured": sum(1 for r in rows if r["not_configured"]),
        "markdown_lines_median": statistics.median([r["markdown_lines"] for r in rows] or [0]),
        "markdown_lines_max": max([r["markdown_lines"] for r in rows] or [0]),
        "lines_median": statistics.median(lines),
        "lines_p90": sorted(lines)[int(0.9 * (len(lines) - 1))],
        "lines_max": max(lines),
        "cards_over_screen": sum(1 for n in lines if n > SCREEN_LINES),
        "links_mean": round(statistics.mean(links), 2),
        "links_max": max(links),
        "cards_with_internal_words": sum(1 for r in rows if r["internal_words"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--anchor", default="2026-11-23", help="date the charts are built for")
    parser.add_argument("--region", help="label region (default: the service default)")
    parser.add_argument("--json", action="store_true", help="print the rows and the summary")
    args = parser.parse_args(argv)
    rows = collect(date.fromisoformat(args.anchor), args.region)
    summary = summarise(rows)
    if args.json:
        json.dump({"summary": summary, "cards": rows}, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
    by_language = Counter(r["language"] for r in rows)
    print("cards per language  " + ", ".join(f"{k} {by_language[k]}" for k in LANGUAGES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

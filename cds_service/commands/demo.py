"""`rheum-cds demo`: the cards for a few bundled example patients, in the terminal.

No server and no FHIR server: each example's chart (cards/examples, charts of
cds_service.demo_data) goes through the same stages a hook call does — recognise the draft
order, normalise, assess, render — and the cards are printed as text, or as JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import replace
from datetime import date
from typing import Any

HELP = "show the cards for bundled example patients (no server needed)"
LANGUAGES = ("en", "zh-TW", "zh-CN", "ja")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)")
_COLOURS = {"critical": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_RESET = "\033[0m"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="card language (default: the configured language, else en)",
    )
    parser.add_argument("--json", action="store_true", help="print the cards as JSON")
    parser.add_argument(
        "--patient",
        metavar="NAME",
        help="only this example (see --list)",
    )
    parser.add_argument(
        "--hook",
        choices=("order-sign", "order-select", "patient-view"),
        help="hook to show (default: each example's own, order-sign)",
    )
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.add_argument("--config", metavar="FILE", help="TOML configuration file")


def _plain(markdown: str) -> str:
    """Markdown detail as terminal text: no emphasis markers, links as their label."""
    return _LINK.sub(r"\1", markdown).replace("**", "")


def format_card(card: dict[str, Any], cat: Any, colour: bool) -> str:
    """One card as indented terminal text."""
    indicator = card["indicator"]
    badge = f"[{cat.get('severity', indicator)}]"
    if colour:
        badge = f"{_COLOURS[indicator]}{badge}{_RESET}"
    lines = [f"{badge} {card['summary']}"]
    lines += ["  " + line if line else "" for line in _plain(card.get("detail", "")).split("\n")]
    suggestions = card.get("suggestions", [])
    if suggestions:
        key = (
            "suggestions_one"
            if card.get("selectionBehavior") == "at-most-one"
            else "suggestions_any"
        )
        lines += ["", "  " + cat.get("card", key)]
        for s in suggestions:
            kinds = ", ".join(
                f"{a['type']} {a.get('resource', {}).get('resourceType', a.get('resourceId', ''))}"
                for a in s["actions"]
            )
            lines.append(f"    -> {s['label']}  ({kinds})")
    source = card["source"]
    colon = cat.get("meta", "colon")
    lines += ["", f"  {cat.get('card', 'source')}{colon}{source['label']} <{source['url']}>"]
    return "\n".join(lines)


def demo_local_codes(configured: dict[str, Any]) -> dict[str, Any]:
    """The configured [codes] plus the demo clinic's local laboratory codes (configured win)."""
    from cds_service.demo_data import with_demo_codes

    return with_demo_codes(configured)


def _pipeline(example: Any, language: str, runtime: dict[str, Any], today: date, hook: str):
    from cards.examples import example_record
    from cards.render import render_cards
    from cds_service.assess.engine import assess
    from cds_service.normalise import normalise
    from cds_service.normalise.orders import recognise_orders

    knowledge = runtime["knowledge"]
    record = example_record(example, today)
    orders = [] if hook == "patient-view" else recognise_orders(example.draft_orders, knowledge)
    # the other drafts of the order set count as the patient's medications, as in the service
    targets = {id(order.resource) for order in orders}
    co_orders = (
        [] if hook == "patient-view" else [d for d in example.draft_orders if id(d) not in targets]
    )
    facts = normalise(record, orders, knowledge, today, co_orders)
    assessment = assess(facts, knowledge, replace(runtime["settings"], hook=hook))
    return render_cards(assessment, language, knowledge, runtime["docs"], hook)


def main(args: argparse.Namespace) -> int:
    from cards.catalogue import catalogue
    from cards.examples import examples
    from cds_service.assess.registry import Settings
    from cds_service.config import ConfigError, load_config
    from cds_service.knowledge import KnowledgeError, load_knowledge

    chosen = examples()
    if args.list:
        for example in chosen:
            print(f"{example.name:20} {example.title['en']}")
        return 0
    if args.patient:
        chosen = tuple(e for e in chosen if e.name == args.patient)
        if not chosen:
            names = ", ".join(e.name for e in examples())
            print(
                f"rheum-cds demo: no example {args.patient!r} (examples: {names})", file=sys.stderr
            )
            return 2
    try:
        config = load_config(args.config)
        knowledge = load_knowledge(
            overrides=config.rule_overrides, local_codes=demo_local_codes(config.local_codes)
        )
    except (ConfigError, KnowledgeError) as exc:
        print(f"rheum-cds demo: {exc}", file=sys.stderr)
        return 2
    language = args.lang or config.language
    runtime = {
        "knowledge": knowledge,
        "settings": Settings(
            label_region=config.label_region,
            enabled_rules=config.enabled_rules,
            disabled_rules=config.disabled_rules,
            hook="order-sign",
        ),
        "docs": config.base_url.rstrip("/") + "/docs",
    }
    today = date.today()
    results = [(e, _pipeline(e, language, runtime, today, args.hook or e.hook)) for e in chosen]
    if args.json:
        out = [
            {
                "example": e.name,
                "title": e.title[language],
                "hook": args.hook or e.hook,
                "cards": cards,
            }
            for e, cards in results
        ]
        json.dump(out, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    cat = catalogue(language)
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    print(cat.fill("card", "demo_as_of", date=today.isoformat()))
    for number, (example, cards) in enumerate(results, start=1):
        print()
        print("=" * 78)
        print(f"{number}/{len(results)}  {example.name}: {example.title[language]}")
        print("=" * 78)
        if not cards:
            print(cat.get("card", "no_cards"))
        for card in cards:
            print()
            print(format_card(card, cat, colour))
    return 0

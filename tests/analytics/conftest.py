"""Analytics tests run on SQLite (a file per test) and, in the integration suite, on the
throw-away PostgreSQL cluster of the `postgres_url` fixture (tests/conftest.py).

Data is produced the way a hospital produces it: hook calls through the real service (unsigned
mode), then CDS Hooks feedback on the cards it answered.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask

from tests.fixtures.apps import BASE_URL, make_app, storage_url  # noqa: F401
from tests.service import samples


def show_cards(
    app: Flask, body: dict[str, Any] | None = None, service: str = "rheum-order-sign"
) -> list[dict[str, Any]]:
    """Call a hook; the audit row and issued cards are written when the response closes."""
    if body is None:
        body = samples.order_sign(prefetch=samples.full_prefetch())
    with app.test_client().post(f"/cds-services/{service}", json=copy.deepcopy(body)) as r:
        assert r.status_code == 200, r.get_data(as_text=True)
        cards: list[dict[str, Any]] = r.json["cards"]
    return cards


def card_with(cards: list[dict[str, Any]], rule_id: str) -> dict[str, Any]:
    for card in cards:
        findings = card["extension"]["org.rheum-cds"]["findings"]
        if any(f["id"] == rule_id for f in findings):
            return card
    raise AssertionError(f"no card with {rule_id}")


def send_feedback(app: Flask, *items: dict[str, Any], service: str = "rheum-order-sign") -> None:
    r = app.test_client().post(f"/cds-services/{service}/feedback", json={"feedback": list(items)})
    assert r.status_code == 200, r.get_data(as_text=True)


def accepted(
    card: dict[str, Any], n: int = 1, at: str = "2026-11-23T10:15:30.123Z"
) -> dict[str, Any]:
    return {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": s["uuid"]} for s in card["suggestions"][:n]],
        "outcomeTimestamp": at,
    }


def overridden(
    card: dict[str, Any],
    code: str | None,
    comment: str | None = None,
    at: str = "2026-11-23T10:15:30.123Z",
    display: str | None = None,
) -> dict[str, Any]:
    item: dict[str, Any] = {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": at}
    reason: dict[str, Any] = {}
    if code is not None:
        offered = {o["code"]: o for o in card.get("overrideReasons", [])}
        coding = dict(offered.get(code) or {"code": code})
        if display is not None:
            coding["display"] = display
        reason["reason"] = coding
    if comment is not None:
        reason["userComment"] = comment
    if reason:
        item["overrideReason"] = reason
    return item

"""Feedback analytics for CDS / informatics teams: what a CDS committee reviews each month.

Pure functions over the grouped rows of `Storage.analytics_rows` (aggregated in SQL) to plain
dicts; the routes (cds_service/routes/analytics.py) serve them as JSON and as an HTML page.
The meaning of every figure is in docs/analytics.md. In short:

- A card is counted in the period in which it was *shown* (issued), with what happened to it
  afterwards (a cohort): its outcome is that of its latest feedback item (by outcomeTimestamp),
  so a card counts once, as accepted, overridden or without feedback, and rates never pass 1.
- A card counts once for each rule id among its findings; cards without a finding (activity
  scores, data that could not be assessed) count under the rule id `None`.
- "Card kind" is the card's indicator (info, warning, critical) and its service.
- Override reasons are grouped by (system, code); a code's displays (one per language) are
  listed. Free-text userComments are never read here: only how many overrides carried one.
- Feedback about a card uuid the service never issued is counted apart (by outcomeTimestamp).

No PHI: rule ids, indicators, service ids, override reason codings and counts only.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

OUTCOMES = ("accepted", "overridden")
INDICATOR_ORDER = ("critical", "warning", "info")


@dataclass
class _Tally:
    """Counts of one group of cards (a rule, an indicator, a service, or all of them)."""

    shown: int = 0
    accepted: int = 0
    overridden: int = 0
    accepted_suggestions: int = 0
    override_comments: int = 0
    reasons: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)
    displays: dict[tuple[str | None, str | None], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )

    def add(self, row: Mapping[str, Any]) -> None:
        n = int(row["cards"])
        self.shown += n
        outcome = row["outcome"]
        if outcome == "accepted":
            self.accepted += n
            self.accepted_suggestions += int(row["suggestions"] or 0)
        elif outcome == "overridden":
            self.overridden += n
            self.override_comments += int(row["comments"] or 0)
            key = (row["override_system"], row["override_code"])
            self.reasons[key] += n
            if row["override_display"]:
                self.displays[key][row["override_display"]] += n

    def as_dict(self) -> dict[str, Any]:
        with_feedback = self.accepted + self.overridden
        return {
            "cards_shown": self.shown,
            "cards_with_feedback": with_feedback,
            "accepted": self.accepted,
            "overridden": self.overridden,
            "no_feedback": self.shown - with_feedback,
            "acceptance_rate": _rate(self.accepted, self.shown),
            "override_rate": _rate(self.overridden, self.shown),
            "accepted_suggestions": self.accepted_suggestions,
            "suggestions_per_accepted_card": (
                round(self.accepted_suggestions / self.accepted, 2) if self.accepted else None
            ),
            "override_comments": self.override_comments,
            "override_reasons": self._reasons(),
        }

    def _reasons(self) -> list[dict[str, Any]]:
        out = []
        for (system, code), count in self.reasons.items():
            displays = self.displays.get((system, code), Counter())
            out.append(
                {
                    "system": system,
                    "code": code,  # None: overridden without a reason
                    "displays": [d for d, _ in sorted(displays.items(), key=_most_first)],
                    "count": count,
                    "share_of_overrides": _rate(count, self.overridden),
                }
            )
        out.sort(key=lambda r: (-r["count"], r["code"] is None, r["code"] or "", r["system"] or ""))
        return out


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _json_list(raw: Any) -> list[str]:
    """A JSON array of strings as stored (rule ids, data keys); anything else reads as []."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def _sorted_groups(
    tallies: Mapping[Any, _Tally], name: str, order: Iterable[Any] = ()
) -> list[dict[str, Any]]:
    rank = {k: i for i, k in enumerate(order)}

    def key(item: tuple[Any, _Tally]) -> tuple[Any, ...]:
        k, t = item
        if rank:
            return (rank.get(k, len(rank)), str(k))
        return (k is None, -t.shown, str(k))

    return [{name: k, **t.as_dict()} for k, t in sorted(tallies.items(), key=key)]


def summarise_cards(
    rows: Iterable[Mapping[str, Any]], items: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Totals and the per rule / indicator / service tables from the `cards` groups; the
    `items` rows (feedback rows per service, superseded ones included) add `feedback_items`
    to the totals and to each service."""
    total = _Tally()
    by_rule: dict[str | None, _Tally] = defaultdict(_Tally)
    by_indicator: dict[str | None, _Tally] = defaultdict(_Tally)
    by_service: dict[str, _Tally] = defaultdict(_Tally)
    for row in rows:
        total.add(row)
        by_indicator[row["indicator"]].add(row)
        by_service[row["service_id"]].add(row)
        rule_ids = sorted(set(_json_list(row["rule_ids"])))
        for rule_id in rule_ids or [None]:
            by_rule[rule_id].add(row)
    per_service = {row["service_id"]: int(row["items"]) for row in items}
    services = _sorted_groups(by_service, "service_id", sorted(by_service))
    for group in services:
        group["feedback_items"] = per_service.get(group["service_id"], 0)
    return {
        "totals": {**total.as_dict(), "feedback_items": sum(per_service.values())},
        "by_rule": _sorted_groups(by_rule, "rule_id"),
        "by_indicator": _sorted_groups(by_indicator, "indicator", INDICATOR_ORDER),
        "by_service": services,
    }


def summarise_unknown(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Feedback about card uuids the service never issued (late reports, database moves,
    or a client confusing services): items, distinct cards, outcomes; by service."""
    services = [
        {
            "service_id": row["service_id"],
            "feedback_items": int(row["items"]),
            "cards": int(row["cards"]),
            **{outcome: int(row[outcome] or 0) for outcome in OUTCOMES},
        }
        for row in sorted(rows, key=lambda r: r["service_id"])
    ]
    return {
        "feedback_items": sum(s["feedback_items"] for s in services),
        "cards": sum(s["cards"] for s in services),
        **{outcome: sum(s[outcome] for s in services) for outcome in OUTCOMES},
        "by_service": services,
    }


def summarise_calls(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Hook calls from the audit trail: per service, per HTTP status, rules fired per call,
    data that could not be retrieved, languages answered."""
    total = with_cards = 0
    by_service: dict[str, Counter[str]] = defaultdict(Counter)
    by_status: Counter[int] = Counter()
    fired: Counter[str] = Counter()
    unavailable: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    for row in rows:
        n = int(row["calls"])
        total += n
        carded = n if int(row["with_cards"] or 0) else 0
        with_cards += carded
        by_service[row["service_id"]]["calls"] += n
        by_service[row["service_id"]]["with_cards"] += carded
        by_status[int(row["status"])] += n
        for rule_id in set(_json_list(row["rule_ids"])):
            fired[rule_id] += n
        for key in set(_json_list(row["unavailable"])):
            unavailable[key] += n
        languages[row["language"] or "(none)"] += n
    return {
        "calls": total,
        "with_cards": with_cards,
        "by_service": [
            {"service_id": s, "calls": c["calls"], "with_cards": c["with_cards"]}
            for s, c in sorted(by_service.items())
        ],
        "by_status": [{"status": s, "calls": c} for s, c in sorted(by_status.items())],
        "rules_fired": [
            {"rule_id": r, "calls": c} for r, c in sorted(fired.items(), key=_most_first)
        ],
        "unavailable": [
            {"key": k, "calls": c} for k, c in sorted(unavailable.items(), key=_most_first)
        ],
        "languages": [
            {"language": k, "calls": c} for k, c in sorted(languages.items(), key=_most_first)
        ],
    }


def feedback_report(
    rows: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    since: date | None = None,
    until: date | None = None,
    service: str | None = None,
) -> dict[str, Any]:
    """The whole report (the JSON answer of GET /analytics/feedback.json)."""
    return {
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "service": service,
            "timezone": "UTC",
        },
        **summarise_cards(rows.get("cards", ()), rows.get("items", ())),
        "unknown_cards": summarise_unknown(rows.get("unknown", ())),
        "hook_calls": summarise_calls(rows.get("calls", ())),
    }

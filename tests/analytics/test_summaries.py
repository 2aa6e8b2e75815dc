"""The pure aggregation over grouped rows (cds_service.analytics), on rows shaped as
Storage.analytics_rows returns them."""

from __future__ import annotations

from datetime import date
from typing import Any

from cds_service.analytics import feedback_report

SYSTEM = "https://rheum-cds.org/fhir/CodeSystem/override-reason"


def group(rules: str, outcome: str | None, n: int, **kw: Any) -> dict[str, Any]:
    row = {
        "service_id": kw.pop("service_id", "rheum-order-sign"),
        "indicator": kw.pop("indicator", "warning"),
        "rule_ids": rules,
        "outcome": outcome,
        "override_system": None,
        "override_code": None,
        "override_display": None,
        "cards": n,
        "suggestions": 0,
        "comments": 0,
    }
    row.update(kw)
    return row


def test_one_reason_in_two_languages_is_one_reason_with_both_displays() -> None:
    rows = {
        "cards": [
            group(
                '["JAKI-AGE-65"]',
                "overridden",
                3,
                override_system=SYSTEM,
                override_code="no-alternative",
                override_display="No suitable alternative",
            ),
            group(
                '["JAKI-AGE-65"]',
                "overridden",
                1,
                override_system=SYSTEM,
                override_code="no-alternative",
                override_display="代替薬なし",
            ),
            group('["JAKI-AGE-65"]', None, 4),
        ],
        "items": [{"service_id": "rheum-order-sign", "items": 5}],
    }
    report = feedback_report(rows, since=date(2026, 11, 1), until=date(2026, 11, 30))
    [rule] = report["by_rule"]
    assert rule["cards_shown"] == 8 and rule["overridden"] == 4 and rule["no_feedback"] == 4
    assert rule["override_rate"] == 0.5
    [reason] = rule["override_reasons"]
    assert reason["code"] == "no-alternative" and reason["count"] == 4
    assert reason["displays"] == ["No suitable alternative", "代替薬なし"]  # most used first
    assert report["totals"]["feedback_items"] == 5
    assert report["period"]["since"] == "2026-11-01"


def test_rule_ids_that_cannot_be_read_count_as_no_finding() -> None:
    rows = {"cards": [group("not json", None, 2), group('{"a": 1}', None, 1), group("[]", None, 1)]}
    [rule] = feedback_report(rows)["by_rule"]
    assert rule["rule_id"] is None and rule["cards_shown"] == 4


def test_rules_are_listed_most_shown_first_and_no_finding_last() -> None:
    rows = {
        "cards": [
            group("[]", None, 50),
            group('["JAKI-HBV"]', None, 2),
            group('["JAKI-AGE-65", "JAKI-HBV"]', "accepted", 3, suggestions=4),
        ]
    }
    report = feedback_report(rows)
    assert [r["rule_id"] for r in report["by_rule"]] == ["JAKI-HBV", "JAKI-AGE-65", None]
    assert report["by_rule"][0]["accepted_suggestions"] == 4
    assert report["by_rule"][0]["suggestions_per_accepted_card"] == round(4 / 3, 2)
    assert report["totals"]["accepted_suggestions"] == 4  # a card's suggestions count once


def test_nothing_shown_gives_no_rates() -> None:
    report = feedback_report({})
    assert report["totals"]["cards_shown"] == 0
    assert report["totals"]["acceptance_rate"] is None
    assert report["totals"]["suggestions_per_accepted_card"] is None
    assert report["hook_calls"] == {
        "calls": 0,
        "with_cards": 0,
        "by_service": [],
        "by_status": [],
        "rules_fired": [],
        "unavailable": [],
        "languages": [],
    }


def test_hook_calls_add_up_per_service_status_rule_and_missing_data() -> None:
    def call(service: str, status: int, cards: int, rules: str, missing: str, n: int) -> dict:
        return {
            "service_id": service,
            "status": status,
            "with_cards": cards,
            "rule_ids": rules,
            "unavailable": missing,
            "language": "ja" if service == "rheum-patient-view" else None,
            "calls": n,
        }

    calls = feedback_report(
        {
            "calls": [
                call("rheum-order-sign", 200, 1, '["JAKI-AGE-65"]', '["observations"]', 7),
                call("rheum-order-sign", 200, 0, "[]", "[]", 2),
                call("rheum-order-sign", 412, 0, "[]", '["observations", "conditions"]', 1),
                call("rheum-patient-view", 200, 1, "[]", "[]", 3),
            ]
        }
    )["hook_calls"]
    assert calls["calls"] == 13 and calls["with_cards"] == 10
    assert calls["by_service"] == [
        {"service_id": "rheum-order-sign", "calls": 10, "with_cards": 7},
        {"service_id": "rheum-patient-view", "calls": 3, "with_cards": 3},
    ]
    assert calls["by_status"] == [{"status": 200, "calls": 12}, {"status": 412, "calls": 1}]
    assert calls["rules_fired"] == [{"rule_id": "JAKI-AGE-65", "calls": 7}]
    assert calls["unavailable"] == [
        {"key": "observations", "calls": 8},
        {"key": "conditions", "calls": 1},
    ]
    assert calls["languages"] == [
        {"language": "(none)", "calls": 10},
        {"language": "ja", "calls": 3},
    ]

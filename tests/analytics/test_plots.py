"""The plots of the analytics page: cards shown and override rate per rule over time, override
reasons, suggestions taken; inline SVG under the page's strict CSP (no script, no asset)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask

from cds_service.analytics_plots import summarise_timeline
from tests.analytics.conftest import accepted, card_with, overridden, send_feedback, show_cards

PAGE = "/analytics/feedback"


def seeded(make_app: Callable[..., Flask]) -> Flask:
    app = make_app()
    first, second, third = show_cards(app), show_cards(app), show_cards(app)
    send_feedback(
        app,
        overridden(card_with(first, "JAKI-AGE-65"), "no-alternative"),
        overridden(card_with(second, "JAKI-AGE-65"), "specialist-reviewed"),
        accepted(card_with(first, "JAKI-TB-SCREEN"), n=1),
        accepted(card_with(third, "JAKI-TB-SCREEN"), n=2),
    )
    return app


def test_page_plots_each_rule_reasons_and_suggestions(make_app: Callable[..., Flask]) -> None:
    app = seeded(make_app)
    r = app.test_client().get(PAGE)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "<script" not in page and "script-src" not in r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    age = re.search(r"<svg class=plot data-rule='JAKI-AGE-65'.*?</svg>", page, re.S)
    assert age, "no plot for JAKI-AGE-65"
    # this week: three cards shown, two overridden -> 66.67 %
    bars = re.findall(r"<rect class=shown data-period='([\d-]+)' data-shown=(\d+)", age.group(0))
    assert [int(n) for _, n in bars] == [3]
    rates = re.findall(r"data-rate='([\d.]+)'", age.group(0))
    assert [round(float(x), 2) for x in rates] == [0.67]
    reasons = dict(re.findall(r"<rect class=reason data-label='([^']+)' data-count=(\d+)", page))
    assert sorted(reasons.values()) == ["1", "1"]
    taken = dict(re.findall(r"<rect class=taken data-label='([^']+)' data-count=(\d+)", page))
    assert taken["JAKI-TB-SCREEN"] == "3"
    assert "@media print" in page


def test_weeks_of_a_longer_period_are_all_on_the_axis(make_app: Callable[..., Flask]) -> None:
    app = seeded(make_app)
    today = datetime.now(UTC).date()
    since = today - timedelta(days=20)
    page = app.test_client().get(f"{PAGE}?since={since.isoformat()}").get_data(as_text=True)
    age = re.search(r"<svg class=plot data-rule='JAKI-AGE-65'.*?</svg>", page, re.S)
    assert age
    periods = re.findall(r"<rect class=shown data-period='([\d-]+)' data-shown=(\d+)", age.group(0))
    monday = since - timedelta(days=since.weekday())
    assert len(periods) == (today - monday).days // 7 + 1  # weeks from Monday, empty ones too
    assert sum(int(n) for _, n in periods) == 3


def test_timeline_buckets_months_and_counts_each_rule() -> None:
    rows = [
        {
            "day": "2026-01-05",
            "rule_ids": '["A", "B"]',
            "outcome": "overridden",
            "cards": 2,
            "suggestions": 0,
        },
        {
            "day": "2026-01-20",
            "rule_ids": '["A"]',
            "outcome": "accepted",
            "cards": 1,
            "suggestions": 2,
        },
        {"day": "2026-03-02", "rule_ids": "[]", "outcome": None, "cards": 4, "suggestions": 0},
        {"day": "2026-06-30", "rule_ids": '["A"]', "outcome": None, "cards": 1, "suggestions": 0},
    ]
    timeline = summarise_timeline(rows)
    assert timeline["unit"] == "month"
    assert timeline["periods"][0] == "2026-01-01" and timeline["periods"][-1] == "2026-06-01"
    a = timeline["rules"]["A"]
    assert a[0] == {"shown": 3, "accepted": 1, "overridden": 2, "suggestions": 2}
    assert a[5]["shown"] == 1 and a[1]["shown"] == 0
    assert timeline["rules"]["(no finding)"][2]["shown"] == 4
    assert list(timeline["rules"])[0] == "A"  # the rule shown most first

"""What a CDS committee reads: per rule and per card kind, how often cards were shown, accepted
and overridden, with which reasons; suggestions accepted; feedback on unknown cards."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.outcome import diagnostics
from cds_service.storage import AuditRow, get_storage
from tests.analytics.conftest import (
    accepted,
    card_with,
    overridden,
    send_feedback,
    show_cards,
)
from tests.fixtures.processes import free_port
from tests.service import samples

JSON = "/analytics/feedback.json"
PHI_COMMENT = "Jane Roe MRN 4471-22 declined the IGRA"


def report(app: Flask, query: str = "") -> dict[str, Any]:
    r = app.test_client().get(JSON + query)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.json


def by(groups: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any]:
    for g in groups:
        if g[key] == value:
            return g
    raise AssertionError(f"no {key}={value!r} in {[g[key] for g in groups]}")


def reasons(group: dict[str, Any]) -> dict[str | None, int]:
    return {r["code"]: r["count"] for r in group["override_reasons"]}


def rules_of(card: dict[str, Any]) -> list[str]:
    return [f["id"] for f in card["extension"]["org.rheum-cds"]["findings"]]


def test_committee_figures_per_rule_kind_and_reason(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    calls = [show_cards(app) for _ in range(3)]
    age = [card_with(cards, "JAKI-AGE-65") for cards in calls]
    labs = [card_with(cards, "JAKI-TB-SCREEN") for cards in calls]
    assert labs[0]["suggestions"], "the baseline-labs card offers orders"
    send_feedback(
        app,
        overridden(age[0], "no-alternative", comment=PHI_COMMENT),
        accepted(labs[0], n=2),
        overridden(age[1], "specialist-reviewed"),
        overridden(labs[1], "done-elsewhere"),
        overridden(age[2], None),  # overridden without a reason
        {**accepted(labs[0], n=2), "outcomeTimestamp": "2026-11-23T10:15:30.123Z"},  # EHR retry
    )
    unknown = {"uuid": str(uuid.uuid4()), "suggestions": [{"uuid": "s1"}]}
    send_feedback(
        app, overridden(unknown, "not-applicable"), accepted(unknown, at="2026-11-23T11:00:00Z")
    )

    data = report(app)
    cards_per_call = len(calls[0])
    totals = data["totals"]
    assert totals["cards_shown"] == 3 * cards_per_call
    assert totals["accepted"] == 1
    assert totals["overridden"] == 4
    assert totals["no_feedback"] == 3 * cards_per_call - 5
    assert totals["accepted_suggestions"] == 2
    assert totals["override_comments"] == 1
    assert totals["feedback_items"] == 5  # the EHR's retry is stored once
    assert reasons(totals) == {
        "no-alternative": 1,
        "specialist-reviewed": 1,
        "done-elsewhere": 1,
        None: 1,
    }

    rule = by(data["by_rule"], "rule_id", "JAKI-AGE-65")
    assert (rule["cards_shown"], rule["accepted"], rule["overridden"], rule["no_feedback"]) == (
        3,
        0,
        3,
        0,
    )
    assert rule["override_rate"] == 1.0
    assert reasons(rule) == {"no-alternative": 1, "specialist-reviewed": 1, None: 1}
    offered = {o["code"]: o["display"] for o in age[0]["overrideReasons"]}
    shown_reason = by(rule["override_reasons"], "code", "no-alternative")
    assert shown_reason["displays"] == [offered["no-alternative"]]
    assert shown_reason["share_of_overrides"] == round(1 / 3, 4)

    for rule_id in rules_of(labs[0]):  # every rule of the labs card carries the same figures
        rule = by(data["by_rule"], "rule_id", rule_id)
        assert (rule["cards_shown"], rule["accepted"], rule["overridden"]) == (3, 1, 1), rule_id
        assert rule["accepted_suggestions"] == 2
        assert rule["acceptance_rate"] == round(1 / 3, 4)
        assert reasons(rule) == {"done-elsewhere": 1}

    warning = by(data["by_indicator"], "indicator", "warning")
    n_warning = sum(c["indicator"] == "warning" for c in calls[0]) * 3
    assert (warning["cards_shown"], warning["accepted"], warning["overridden"]) == (n_warning, 1, 4)
    service = by(data["by_service"], "service_id", "rheum-order-sign")
    assert service["cards_shown"] == 3 * cards_per_call

    assert data["unknown_cards"] == {
        "feedback_items": 2,
        "cards": 1,
        "accepted": 1,
        "overridden": 1,
        "by_service": [
            {
                "service_id": "rheum-order-sign",
                "feedback_items": 2,
                "cards": 1,
                "accepted": 1,
                "overridden": 1,
            }
        ],
    }
    assert data["hook_calls"]["calls"] == 3
    assert data["hook_calls"]["with_cards"] == 3
    assert by(data["hook_calls"]["rules_fired"], "rule_id", "JAKI-AGE-65")["calls"] == 3
    assert PHI_COMMENT not in make_app().test_client().get(JSON).get_data(as_text=True)


def test_a_card_counts_once_with_its_latest_outcome(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    labs = card_with(show_cards(app), "JAKI-TB-SCREEN")
    send_feedback(
        app,
        accepted(labs, at="2026-11-23T10:05:00Z"),
        overridden(labs, "done-elsewhere", at="2026-11-23T10:00:00Z"),
    )
    data = report(app)
    rule = by(data["by_rule"], "rule_id", "JAKI-TB-SCREEN")
    assert (rule["cards_shown"], rule["accepted"], rule["overridden"]) == (1, 1, 0)
    assert data["totals"]["feedback_items"] == 2
    assert data["by_service"][0]["feedback_items"] == 2
    assert rule["override_reasons"] == []


def test_cards_without_findings_count_under_no_rule(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    cards = show_cards(app)
    bare = [c for c in cards if not rules_of(c)]
    assert bare, "the order-sign sample answers a card without findings (activity)"
    group = by(report(app)["by_rule"], "rule_id", None)
    assert group["cards_shown"] == len(bare)


def test_date_filter_counts_cards_by_the_day_they_were_shown(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    today = datetime.now(UTC).date()
    template = show_cards(app)  # shown today
    october = _record_cards(app, template, datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC))
    november_first = _record_cards(app, template, datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    send_feedback(app, overridden(card_with(october, "JAKI-AGE-65"), "no-alternative"))
    send_feedback(app, overridden(card_with(november_first, "JAKI-AGE-65"), "specialist-reviewed"))

    n = len(template)
    oct_report = report(app, "?since=2026-10-01&until=2026-10-31")
    assert oct_report["period"] == {
        "since": "2026-10-01",
        "until": "2026-10-31",
        "service": None,
        "timezone": "UTC",
    }
    assert oct_report["totals"]["cards_shown"] == n
    assert reasons(by(oct_report["by_rule"], "rule_id", "JAKI-AGE-65")) == {"no-alternative": 1}
    assert oct_report["hook_calls"]["calls"] == 1

    nov_first = report(app, "?since=2026-11-01&until=2026-11-01")
    assert nov_first["totals"]["cards_shown"] == n
    assert reasons(nov_first["totals"]) == {"specialist-reviewed": 1}

    assert report(app, f"?since={today.isoformat()}")["totals"]["cards_shown"] == n
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert report(app, f"?since={tomorrow}")["totals"]["cards_shown"] == 0
    assert report(app)["totals"]["cards_shown"] == 3 * n
    assert report(app, "?until=9999-12-31")["totals"]["cards_shown"] == 3 * n


def _record_cards(app: Flask, template: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    """Cards shown on an earlier day: the real answer's cards under new uuids, written with
    the storage's own audit call (as the hook route does) at that instant."""
    cards = copy.deepcopy(template)
    for card in cards:
        card["uuid"] = str(uuid.uuid4())
    with app.app_context():
        assert get_storage().record_audit(
            AuditRow(
                service_id="rheum-order-sign",
                hook="order-sign",
                hook_instance=str(uuid.uuid4()),
                status=200,
                patient_id=samples.PATIENT_ID,
                rule_ids=sorted({r for c in cards for r in rules_of(c)}),
                cards=cards,
                at=at,
            )
        )
    return cards


def test_service_filter(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    sign = show_cards(app)
    view = show_cards(
        app, samples.patient_view(prefetch=samples.full_prefetch()), "rheum-patient-view"
    )
    assert view, "patient-view answers at least one card"
    only_view = report(app, "?service=rheum-patient-view")
    assert only_view["totals"]["cards_shown"] == len(view)
    assert [s["service_id"] for s in only_view["by_service"]] == ["rheum-patient-view"]
    assert only_view["hook_calls"]["calls"] == 1
    both = report(app)
    assert both["totals"]["cards_shown"] == len(sign) + len(view)


def test_bad_parameters_answer_400_naming_the_parameter(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    for path in (JSON, "/analytics/feedback"):
        for query, member in (
            ("?since=2026-13-01", "since"),
            ("?since=23/11/2026", "since"),
            ("?until=20261123", "until"),
            ("?until=2026-02-30", "until"),
            ("?since=2026-11-02&until=2026-11-01", "until"),
            ("?service=rheum-unknown", "service"),
        ):
            r = client.get(path + query)
            assert r.status_code == 400, (path, query)
            assert r.json["issue"][0]["expression"] == [member]
            assert member in diagnostics(r.json)


def test_empty_database_reads_as_zero(make_app: Callable[..., Flask]) -> None:
    data = report(make_app(), "?since=2026-01-01&until=2026-12-31&service=rheum-order-sign")
    assert data["totals"]["cards_shown"] == 0
    assert data["totals"]["acceptance_rate"] is None
    assert data["by_rule"] == []
    assert data["unknown_cards"]["feedback_items"] == 0
    assert data["hook_calls"]["calls"] == 0


def test_unknown_cards_are_filtered_by_outcome_time(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    stray = {"uuid": str(uuid.uuid4())}
    send_feedback(app, overridden(stray, None, at="2026-10-10T08:00:00+09:00"))
    # 08:00 in Tokyo is 23:00 UTC the day before: days are UTC days
    assert report(app, "?since=2026-10-10")["unknown_cards"]["feedback_items"] == 0
    assert report(app, "?since=2026-10-09&until=2026-10-09")["unknown_cards"]["overridden"] == 1


def test_database_down_answers_503() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing_listens_here"
    app = create_app(Config(storage_url=url, allow_unsigned=True))
    for path in (JSON, "/analytics/feedback"):
        r = app.test_client().get(path)
        assert r.status_code == 503
        assert r.json["issue"][0]["code"] == "transient"

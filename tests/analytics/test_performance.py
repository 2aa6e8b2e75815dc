"""A year of a busy hospital's feedback is aggregated in the database, not row by row.

How fast it is belongs to the benchmark (no timing asserts here): the figures are printed. What
is asserted is what keeps it fast on any machine: the report is right at 100 000 cards and the
rows that reach Python are grouped counts, a few hundred, not the 100 000 rows stored.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import insert, text

from cds_service.storage import AuditRecord, FeedbackRecord, IssuedCard, get_storage

N_CARDS = 100_000
RULES = [f"RULE-{i}" for i in range(40)]
REASONS = [("no-alternative", "No alternative"), ("specialist-reviewed", "Reviewed"), (None, None)]


def test_100k_feedback_rows_aggregate_in_the_database(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cards, feedback, audit = [], [], []
    for i in range(N_CARDS):
        at = start + timedelta(minutes=5 * i)
        card = str(uuid.UUID(int=i))
        rules = [RULES[i % 40], RULES[(i * 7) % 40]] if i % 5 else []
        cards.append(
            {
                "uuid": card,
                "service_id": "rheum-order-sign",
                "hook_instance": f"h{i // 3}",
                "indicator": ("warning", "info", "critical")[i % 3],
                "rule_ids": json.dumps(rules),
                "issued_at": at,
            }
        )
        outcome = "accepted" if i % 4 == 0 else "overridden"
        code, display = REASONS[i % 3]
        feedback.append(
            {
                "natural_key": f"k{i}",
                "service_id": "rheum-order-sign",
                "card": card if i % 50 else str(uuid.uuid4()),  # 2 % unknown cards
                "known_card": bool(i % 50),
                "outcome": outcome,
                "outcome_at": at + timedelta(minutes=1),
                "accepted_suggestions": json.dumps(["s1", "s2"] if outcome == "accepted" else []),
                "override_system": "urn:x" if code and outcome == "overridden" else None,
                "override_code": code if outcome == "overridden" else None,
                "override_display": display if outcome == "overridden" else None,
                "user_comment": "free text" if i % 10 == 0 else None,
                "client_id": None,
                "received_at": at + timedelta(minutes=1),
            }
        )
        if i % 3 == 0:
            audit.append(
                {
                    "at": at,
                    "service_id": "rheum-order-sign",
                    "hook": "order-sign",
                    "hook_instance": f"h{i // 3}",
                    "status": 200,
                    "client_id": None,
                    "patient_hash": None,
                    "rule_ids": json.dumps(rules),
                    "card_count": 3,
                    "fhir_calls": 0,
                    "unavailable": json.dumps(["immunizations"] if i % 9 == 0 else []),
                    "timings_ms": "{}",
                    "language": "en",
                }
            )
    with app.app_context():
        storage = get_storage()
        with storage.engine.begin() as conn:
            for table, rows in (
                (IssuedCard, cards),
                (FeedbackRecord, feedback),
                (AuditRecord, audit),
            ):
                for j in range(0, len(rows), 10_000):
                    conn.execute(insert(table), rows[j : j + 10_000])
            if storage.backend == "postgresql":
                # A production table grows slowly and autovacuum keeps its statistics; a bulk
                # load of 100 000 rows followed at once by the report would be planned on empty
                # statistics (a nested loop over the ranked feedback: minutes, not a second).
                conn.execute(text("ANALYZE"))

    client = app.test_client()
    walls, cpus = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        r = client.get("/analytics/feedback.json")
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        assert r.status_code == 200
    data = r.json
    assert data["totals"]["cards_shown"] == N_CARDS
    assert data["totals"]["accepted"] + data["totals"]["overridden"] == N_CARDS - N_CARDS // 50
    assert data["unknown_cards"]["feedback_items"] == N_CARDS // 50
    assert data["hook_calls"]["calls"] == len(audit)
    backend = storage.backend
    print(
        f"analytics over {N_CARDS} cards and feedback rows ({backend}): "
        f"wall {min(walls) * 1000:.0f} ms, this process's CPU {min(cpus) * 1000:.0f} ms"
    )
    with app.app_context():
        grouped = storage.analytics_rows()
    returned = sum(len(rows) for rows in grouped.values())
    # 40 rules x 3 indicators x outcomes x reasons and the audit groups: hundreds at most
    assert returned < 2_000, f"{returned} rows reached Python: aggregation is not done in SQL"

    month = client.get("/analytics/feedback?since=2026-03-01&until=2026-03-31")
    assert month.status_code == 200
    assert "Feedback analytics" in month.get_data(as_text=True)

"""Audit and issued-card rows written after the answer, by each worker's writer (issue 16).

Served as deployed (`rheum-cds serve`, gunicorn, gevent workers), on SQLite and PostgreSQL:

- feedback sent the moment a card is answered, to *another* service process on the same
  database, finds the card issued (the answering process still holds the row in its batch);
- a graceful stop (SIGTERM) commits every row the writers still hold.

The write delay is made long (400 ms / 3 s) so that the rows are certainly still held when
the feedback arrives or the stop is sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from cds_service.storage import Storage
from tests.fixtures.service import start_service
from tests.fixtures.sqlite_lock import SqliteWriteLock
from tests.service import samples

SIGN = "/cds-services/rheum-order-sign"


def _hook(base: str) -> list[dict]:  # type: ignore[type-arg]
    response = requests.post(
        base + SIGN, json=samples.order_sign(prefetch=samples.full_prefetch()), timeout=30
    )
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert cards
    return cards


def _feedback_elsewhere(tmp_path: Path, url: str) -> None:
    env = {"RHEUM_CDS_STORAGE_WRITE_DELAY_MS": "400"}
    answering = start_service(tmp_path / "a", url, workers=1, env=env)
    receiving = start_service(tmp_path / "b", url, workers=1, env=env)
    try:
        cards = _hook(answering.base_url)
        item = {
            "card": cards[0]["uuid"],
            "outcome": "overridden",
            "outcomeTimestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        response = requests.post(
            receiving.base_url + SIGN + "/feedback", json={"feedback": [item]}, timeout=30
        )
        assert response.status_code == 200
        assert response.json()["stored"] == 1
        [row] = Storage(url).feedback_rows()
        assert row["card"] == cards[0]["uuid"]
        assert row["known_card"] is True, "feedback must find the card it was sent about"
    finally:
        answering.stop()
        receiving.stop()


def _stop_commits_held_rows(tmp_path: Path, url: str) -> None:
    served = start_service(
        tmp_path / "s", url, workers=2, env={"RHEUM_CDS_STORAGE_WRITE_DELAY_MS": "3000"}
    )
    issued: set[str] = set()
    try:
        for _ in range(12):
            issued.update(card["uuid"] for card in _hook(served.base_url))
    finally:
        served.stop()  # SIGTERM: gunicorn stops its workers gracefully
    storage = Storage(url)
    assert len(storage.audit_rows(limit=1000)) == 12
    assert all(storage.issued_card(uuid) == "rheum-order-sign" for uuid in issued)


def _retries(base: str) -> float:
    text = requests.get(base + "/metrics", timeout=30).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("rheum_cds_audit_write_retries_total")
    )


def test_rows_held_through_a_lock_and_feedback_meanwhile_sqlite(tmp_path: Path) -> None:
    """Another process holds SQLite's write lock (a backup, an export) while a gevent worker
    answers: its writer holds the rows and writes them all once the lock goes; feedback sent
    meanwhile on one of its cards is stored as feedback on an issued card."""
    import threading
    import time

    db = tmp_path / "cds.db"
    url = f"sqlite:///{db}"
    Storage(url).dispose()  # the tables, before the lock
    served = start_service(tmp_path / "s", url, workers=1)
    holder = SqliteWriteLock(db)
    issued: list[str] = []
    answers: list[requests.Response] = []
    try:
        for _ in range(30):
            issued.extend(card["uuid"] for card in _hook(served.base_url))
        deadline = time.monotonic() + 60
        while _retries(served.base_url) < 1:
            assert time.monotonic() < deadline, "the writer did not try again"
            time.sleep(0.1)
        item = {
            "card": issued[-1],
            "outcome": "overridden",
            "outcomeTimestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        sender = threading.Thread(
            target=lambda: answers.append(
                requests.post(
                    served.base_url + SIGN + "/feedback", json={"feedback": [item]}, timeout=60
                )
            )
        )
        sender.start()
        time.sleep(0.5)
    finally:
        holder.release()
    try:
        sender.join(timeout=90)
        [answer] = answers
        if answer.status_code == 503:  # the lock outlasted feedback's 500 ms wait: sent again
            answer = requests.post(
                served.base_url + SIGN + "/feedback", json={"feedback": [item]}, timeout=60
            )
        assert answer.status_code == 200
        assert answer.json()["stored"] == 1
    finally:
        served.stop()
    storage = Storage(url)
    rows = storage.audit_rows(limit=1000)
    assert len(rows) == 30  # every call once
    assert len(set(issued)) == len(issued)
    assert all(storage.issued_card(uuid) == "rheum-order-sign" for uuid in issued)
    [feedback] = storage.feedback_rows()
    assert feedback["known_card"] is True


def test_feedback_on_another_process_finds_the_card_sqlite(tmp_path: Path) -> None:
    _feedback_elsewhere(tmp_path, f"sqlite:///{tmp_path / 'cds.db'}")


def test_graceful_stop_commits_every_held_row_sqlite(tmp_path: Path) -> None:
    _stop_commits_held_rows(tmp_path, f"sqlite:///{tmp_path / 'cds.db'}")


@pytest.mark.integration
def test_feedback_on_another_process_finds_the_card_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    _reset(postgres_url)
    _feedback_elsewhere(tmp_path, postgres_url)


@pytest.mark.integration
def test_graceful_stop_commits_every_held_row_postgres(tmp_path: Path, postgres_url: str) -> None:
    _reset(postgres_url)
    _stop_commits_held_rows(tmp_path, postgres_url)


def _reset(url: str) -> None:
    from sqlalchemy import create_engine

    from cds_service.storage import Base, normalise_url

    engine = create_engine(normalise_url(url))
    Base.metadata.drop_all(engine)
    engine.dispose()

"""The audit writer keeps what the database cannot take for a while and writes it later.

Another process holds SQLite's write lock (`BEGIN IMMEDIATE`, as a backup or an export
would) longer than the writer waits for it; on PostgreSQL the writer's connection is dropped
by the server (`pg_terminate_backend`) while it waits for a lock, or breaks after the server
committed and before the writer read its answer. Nothing is lost or written twice; feedback
on a card whose row waits is taken as feedback on an issued card; a row the database refuses
is dropped alone. Waits are for an eventual state, with generous limits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cds_service import metrics
from cds_service.storage import AuditRow, Base, FeedbackItem, Storage, normalise_url
from tests.fixtures.apps import PATIENT_HASH_KEY
from tests.fixtures.audit_rows import SERVICE, audit_row
from tests.fixtures.pg_commit_cut import CommitCut
from tests.fixtures.sqlite_lock import SqliteWriteLock


def _row(i: int, client: str = "https://ehr-a.test", status: int = 200) -> AuditRow:
    return audit_row(i, client=client, status=status)


def _retries() -> float:
    return float(metrics.AUDIT_WRITE_RETRIES._value.get())


def _failures() -> float:
    return float(metrics.AUDIT_WRITE_FAILURES._value.get())


def _eventually(check: Callable[[], bool], what: str, within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, f"not within {within_s} s: {what}"
        time.sleep(0.05)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cds.db"


@pytest.fixture
def lock(db: Path) -> Iterator[Callable[[], SqliteWriteLock]]:
    held: list[SqliteWriteLock] = []

    def take() -> SqliteWriteLock:
        held.append(SqliteWriteLock(db))
        return held[-1]

    yield take
    for holder in held:
        holder.release()


def _count(url: str, sql: str) -> int:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def test_rows_held_while_another_process_locks_the_database_are_all_written_once(
    db: Path, lock: Callable[[], SqliteWriteLock]
) -> None:
    url = f"sqlite:///{db}"
    worker = Storage(url, PATIENT_HASH_KEY, write_delay_ms=20, write_busy_ms=50)
    try:
        lost, retried = _failures(), _retries()
        holder = lock()
        for i in range(300):
            worker.submit_audit(_row(i))
        _eventually(lambda: _retries() >= retried + 3, "the writer tried again")
        assert not worker.flush(timeout_s=0.2)  # still locked: nothing committed
        assert _count(url, "SELECT count(*) FROM audit") == 0
        assert _failures() == lost  # held, not given up
        holder.release()
        assert worker.flush(timeout_s=30)
        rows = worker.audit_rows(limit=1000)
        # every call once, committed in the order the calls were answered
        assert [r["hook_instance"] for r in reversed(rows)] == [f"hi-{i}" for i in range(300)]
        assert _count(url, "SELECT count(*) FROM issued_card") == 300
        assert worker.issued_owners(SERVICE, [f"card-{i}" for i in range(300)]) == {
            f"card-{i}": "https://ehr-a.test" for i in range(300)
        }
        assert _failures() == lost
    finally:
        worker.dispose()


def test_feedback_on_a_card_whose_row_waits_for_the_lock_is_feedback_on_an_issued_card(
    db: Path, lock: Callable[[], SqliteWriteLock]
) -> None:
    """The calls the feedback route makes (the client binding, then the store), while the
    card's row is held by the writer of the process that answered it."""
    url = f"sqlite:///{db}"
    worker = Storage(url, PATIENT_HASH_KEY, write_delay_ms=20, write_busy_ms=50)
    try:
        retried = _retries()
        holder = lock()
        worker.submit_audit(_row(1, client="https://ehr-a.test"))
        _eventually(lambda: _retries() >= retried + 1, "the writer tried and holds the row")
        # bound to the client it was answered to, as a committed card is
        assert worker.cards_of_other_clients(SERVICE, ["card-1"], "https://ehr-b.test", 0.2) == {
            "card-1"
        }
        assert worker.cards_of_other_clients(SERVICE, ["card-1"], "https://ehr-a.test", 0.2) == (
            set()
        )
        item = FeedbackItem(card="card-1", outcome="overridden", outcome_at=datetime.now(UTC))
        results: list[Any] = []
        sender = threading.Thread(
            target=lambda: results.append(
                worker.store_feedback(SERVICE, [item], "https://ehr-a.test")
            )
        )
        sender.start()  # waits for the write lock, as the feedback route's call would
        time.sleep(0.3)
        holder.release()
        sender.join(timeout=60)
        [result] = results
        assert (result.stored, result.unknown_cards) == (1, 0)
        [row] = worker.feedback_rows()
        assert row["known_card"] is True
        assert worker.flush(timeout_s=30)
        assert worker.issued_card("card-1") == SERVICE
    finally:
        worker.dispose()


def test_a_row_the_database_refuses_is_dropped_alone_and_the_queue_goes_on(
    storage_url: str,
) -> None:
    worker = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=200)
    try:
        lost = _failures()
        rows = [_row(i) for i in range(6)]
        bad = _row(99, status=2**70)  # no integer column takes it
        for row in [*rows[:3], bad, *rows[3:]]:
            worker.submit_audit(row)
        assert worker.flush(timeout_s=30)
        worker.submit_audit(_row(6))  # the queue is not stuck behind the refused row
        assert worker.flush(timeout_s=30)
        stored = [r["hook_instance"] for r in reversed(worker.audit_rows(limit=100))]
        assert stored == [f"hi-{i}" for i in range(7)]
        assert worker.issued_card("card-99") is None
        assert _failures() == lost + 1
    finally:
        worker.dispose()


def test_shutdown_writes_held_rows_when_the_lock_goes_within_its_time(
    db: Path, lock: Callable[[], SqliteWriteLock]
) -> None:
    url = f"sqlite:///{db}"
    worker = Storage(url, PATIENT_HASH_KEY, write_delay_ms=20, write_busy_ms=50)
    lost, retried = _failures(), _retries()
    holder = lock()
    for i in range(20):
        worker.submit_audit(_row(i))
    _eventually(lambda: _retries() >= retried + 1, "the writer tried again")
    closing = threading.Thread(target=lambda: worker.close(timeout_s=60))
    closing.start()
    time.sleep(0.3)
    holder.release()
    closing.join(timeout=90)
    try:
        assert _count(url, "SELECT count(*) FROM audit") == 20
        assert _failures() == lost
    finally:
        worker.dispose()


def test_shutdown_drops_and_counts_what_the_locked_database_never_took(
    db: Path, lock: Callable[[], SqliteWriteLock]
) -> None:
    url = f"sqlite:///{db}"
    worker = Storage(url, PATIENT_HASH_KEY, write_delay_ms=20, write_busy_ms=50)
    lost, retried = _failures(), _retries()
    holder = lock()
    for i in range(20):
        worker.submit_audit(_row(i))
    _eventually(lambda: _retries() >= retried + 1, "the writer tried again")
    worker.close(timeout_s=0.5)  # the time limit passes with the lock still held
    try:
        assert _failures() == lost + 20
        assert worker._writer is not None and worker._writer.pending() == 0
        holder.release()
        assert _count(url, "SELECT count(*) FROM audit") == 0
    finally:
        worker.dispose()


@pytest.mark.integration
def test_rows_survive_a_dropped_connection_postgres(postgres_url: str) -> None:
    engine = create_engine(normalise_url(postgres_url))
    Base.metadata.drop_all(engine)
    worker = Storage(postgres_url, PATIENT_HASH_KEY, write_delay_ms=20)
    try:
        lost, retried = _failures(), _retries()
        with engine.connect() as holder:
            holder.execute(text("LOCK TABLE audit IN ACCESS EXCLUSIVE MODE"))
            for i in range(50):
                worker.submit_audit(_row(i))

            def waiting_writer() -> int | None:
                with engine.connect() as watcher:  # a fresh view of the server's sessions
                    pid = watcher.execute(
                        text(
                            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE 'INSERT INTO audit%'"
                        )
                    ).scalar()
                return int(pid) if pid is not None else None

            _eventually(lambda: waiting_writer() is not None, "the writer waits for the lock")
            with engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting_writer()})
            _eventually(lambda: _retries() >= retried + 1, "the writer tried again")
            _eventually(lambda: waiting_writer() is not None, "the writer waits again")
            holder.commit()  # the lock goes
        assert worker.flush(timeout_s=30)
        rows = worker.audit_rows(limit=1000)
        assert [r["hook_instance"] for r in reversed(rows)] == [f"hi-{i}" for i in range(50)]
        assert _count(postgres_url, "SELECT count(*) FROM issued_card") == 50
        assert _failures() == lost
    finally:
        worker.dispose()
        engine.dispose()


@pytest.mark.integration
def test_a_batch_whose_commit_answer_is_lost_is_written_once_postgres(postgres_url: str) -> None:
    """The server commits a batch and the connection breaks before the writer reads "COMMIT":
    the writer cannot tell it from a failed commit and tries the batch again; the calls must
    not be audited twice (the hook-call counts of the analytics would double)."""
    engine = create_engine(normalise_url(postgres_url))
    Base.metadata.drop_all(engine)
    target = engine.url
    with CommitCut(target.host or "127.0.0.1", int(target.port or 5432)) as proxy:
        worker = Storage(proxy.url_for(postgres_url), PATIENT_HASH_KEY, write_delay_ms=20)
        try:
            worker.submit_audit(_row(0))
            assert worker.flush(timeout_s=30)
            retried = _retries()
            proxy.arm()
            for i in range(1, 20):
                worker.submit_audit(_row(i))
            assert proxy.wait_cut(30), "no COMMIT went through the proxy"
            _eventually(lambda: _retries() >= retried + 1, "the writer tried again")
            assert worker.flush(timeout_s=30)
            instances = [r["hook_instance"] for r in worker.audit_rows(limit=1000)]
            assert sorted(instances) == sorted(f"hi-{i}" for i in range(20))
            assert _count(postgres_url, "SELECT count(*) FROM issued_card") == 20
            assert proxy.cuts == 1
        finally:
            worker.dispose()
            engine.dispose()

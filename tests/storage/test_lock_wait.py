"""Statements on the request path wait a short time for a lock, then fail safe (issue 16).

Another process holds SQLite's write lock (`BEGIN IMMEDIATE`, as a backup or an export would)
for longer than a call should wait; on PostgreSQL another connection holds a table lock. The
replay check of a signed call raises StorageError (the call answers 503), feedback raises
StorageError (503, never a 200 for feedback not kept), a hook call's own audit row (the
writer's queue full, or no writer) is dropped and counted. None of them waits SQLite's 10 s
busy timeout (bounds are generous: they only tell a short wait from that one). Once the lock
goes, the same jti and the same feedback are taken: nothing half-done was left behind.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cds_service import metrics
from cds_service.storage import (
    SQLITE_BUSY_TIMEOUT_MS,
    AuditRow,
    FeedbackItem,
    Storage,
    StorageError,
    normalise_url,
)
from tests.fixtures.apps import PATIENT_HASH_KEY
from tests.fixtures.audit_rows import SERVICE, audit_row
from tests.fixtures.sqlite_lock import SqliteWriteLock

ISSUER = "https://ehr-a.test"
# far below SQLite's busy timeout: a call that waited for it would take 10 s
SHORT_S = SQLITE_BUSY_TIMEOUT_MS / 1000 / 2


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[tuple[str, Callable[[], SqliteWriteLock]]]:
    db = tmp_path / "cds.db"
    url = f"sqlite:///{db}"
    Storage(url, PATIENT_HASH_KEY).dispose()  # the tables, before the lock
    held: list[SqliteWriteLock] = []

    def take() -> SqliteWriteLock:
        held.append(SqliteWriteLock(db))
        return held[-1]

    yield url, take
    for holder in held:
        holder.release()


def _timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    try:
        result: object = call()
    except StorageError as exc:
        result = exc
    return result, time.monotonic() - started


def _feedback(card: str = "card-1") -> FeedbackItem:
    return FeedbackItem(card=card, outcome="accepted", outcome_at=datetime.now(UTC))


def _row(i: int) -> AuditRow:
    return audit_row(i, client=ISSUER, patient="patient-secret")


def test_replay_check_gives_up_soon_while_locked_then_takes_the_jti(
    sqlite_url: tuple[str, Callable[[], SqliteWriteLock]],
) -> None:
    url, lock = sqlite_url
    storage = Storage(url, PATIENT_HASH_KEY)
    exp = datetime.now(UTC) + timedelta(minutes=5)
    try:
        holder = lock()
        result, took = _timed(lambda: storage.remember_jti(ISSUER, "jti-1", exp))
        assert isinstance(result, StorageError)  # the call is refused: replay not ruled out
        assert took < SHORT_S, f"waited {took:.1f} s for the lock"
        assert holder.held()
        holder.release()
        assert storage.remember_jti(ISSUER, "jti-1", exp) is True  # nothing was kept
        assert storage.remember_jti(ISSUER, "jti-1", exp) is False  # a replay is still one
    finally:
        storage.dispose()


def test_replay_purge_due_while_locked_does_not_hold_the_call(
    sqlite_url: tuple[str, Callable[[], SqliteWriteLock]],
) -> None:
    url, lock = sqlite_url
    storage = Storage(url, PATIENT_HASH_KEY)
    exp = datetime.now(UTC) + timedelta(minutes=5)
    try:
        storage._last_purge = 0.0  # a purge is due with this call
        holder = lock()
        result, took = _timed(lambda: storage.remember_jti(ISSUER, "jti-2", exp))
        assert isinstance(result, StorageError)
        assert took < SHORT_S, f"waited {took:.1f} s for the lock"
        holder.release()
        assert storage.remember_jti(ISSUER, "jti-2", exp) is True
    finally:
        storage.dispose()


def test_feedback_is_refused_while_locked_and_stored_once_after(
    sqlite_url: tuple[str, Callable[[], SqliteWriteLock]],
) -> None:
    url, lock = sqlite_url
    storage = Storage(url, PATIENT_HASH_KEY, write_delay_ms=20)
    try:
        storage.submit_audit(_row(1))
        assert storage.flush(timeout_s=30)
        item = _feedback("card-1")
        holder = lock()
        result, took = _timed(lambda: storage.store_feedback(SERVICE, [item], ISSUER))
        assert isinstance(result, StorageError)  # never acknowledged, so never lost
        assert took < SHORT_S, f"waited {took:.1f} s for the lock"
        holder.release()
        stored = storage.store_feedback(SERVICE, [item], ISSUER)  # the EHR sends it again
        assert (stored.stored, stored.duplicates) == (1, 0)
        [row] = storage.feedback_rows()
        assert row["known_card"] is True
    finally:
        storage.dispose()


@pytest.mark.parametrize("delay_ms", [0, 20], ids=["no-writer", "queue-full"])
def test_own_audit_row_is_dropped_counted_without_phi_while_locked(
    sqlite_url: tuple[str, Callable[[], SqliteWriteLock]],
    delay_ms: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, lock = sqlite_url
    # queue-full: one row fills the writer's queue (held: the database is locked)
    storage = Storage(url, PATIENT_HASH_KEY, write_delay_ms=delay_ms, write_queue=1)
    try:
        holder = lock()
        if delay_ms:
            storage.submit_audit(_row(0))  # queued, then held by the writer
        lost = float(metrics.AUDIT_WRITE_FAILURES._value.get())
        with caplog.at_level(logging.ERROR, logger="cds_service.storage"):
            result, took = _timed(lambda: storage.submit_audit(_row(1)))
        assert result is None  # a hook call is never failed by its audit row
        assert took < SHORT_S, f"waited {took:.1f} s for the lock"
        assert float(metrics.AUDIT_WRITE_FAILURES._value.get()) >= lost + 1
        dropped = [r for r in caplog.records if r.getMessage() == "audit write failed"]
        assert dropped
        assert all("patient-secret" not in repr(r.__dict__) for r in dropped)
        holder.release()
        assert storage.flush(timeout_s=30)
        instances = {r["hook_instance"] for r in storage.audit_rows(limit=10)}
        assert "hi-1" not in instances  # dropped, as counted
        assert instances == ({"hi-0"} if delay_ms else set())  # the writer's row kept
    finally:
        storage.dispose()


# ------------------------------------------------------------------ PostgreSQL


class _PgTableLock:
    """Another connection holding `LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE`."""

    def __init__(self, url: str, table: str) -> None:
        self.engine = create_engine(normalise_url(url))
        self.conn = self.engine.connect()
        self.conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()
        self.engine.dispose()


def _reset_pg(url: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM seen_jti"))
        conn.execute(text("DELETE FROM feedback"))
        conn.execute(text("DELETE FROM issued_card"))
        conn.execute(text("DELETE FROM audit"))
    engine.dispose()


def _in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(_timed(call)), daemon=True)
    thread.start()
    return thread, out


def test_replay_check_and_feedback_give_up_while_a_table_is_locked_postgres(
    postgres_url: str,
) -> None:
    storage = Storage(postgres_url, PATIENT_HASH_KEY)
    _reset_pg(postgres_url)
    exp = datetime.now(UTC) + timedelta(minutes=5)
    try:
        storage.remember_jti(ISSUER, "warm", exp)  # schema and pool ready
        for table, call in (
            ("seen_jti", lambda: storage.remember_jti(ISSUER, "jti-pg", exp)),
            ("feedback", lambda: storage.store_feedback(SERVICE, [_feedback("c")], ISSUER)),
        ):
            holder = _PgTableLock(postgres_url, table)
            try:
                # without a lock_timeout the call would wait as long as the lock is held
                thread, out = _in_thread(call)
                thread.join(timeout=SHORT_S)
                assert out, f"{table}: still waiting for the lock"
                [(result, _took)] = out
                assert isinstance(result, StorageError), table
            finally:
                holder.release()
        assert storage.remember_jti(ISSUER, "jti-pg", exp) is True
        assert storage.store_feedback(SERVICE, [_feedback("c")], ISSUER).stored == 1
    finally:
        storage.dispose()


def test_own_audit_row_is_dropped_counted_while_a_table_is_locked_postgres(
    postgres_url: str,
) -> None:
    storage = Storage(postgres_url, PATIENT_HASH_KEY, write_delay_ms=0)  # the call writes
    _reset_pg(postgres_url)
    try:
        storage.submit_audit(_row(0))  # schema and pool ready
        lost = float(metrics.AUDIT_WRITE_FAILURES._value.get())
        holder = _PgTableLock(postgres_url, "audit")
        try:
            thread, out = _in_thread(lambda: storage.submit_audit(_row(1)))
            thread.join(timeout=SHORT_S)
            assert out, "still waiting for the lock"
            assert out[0][0] is None  # a hook call is never failed by its audit row
        finally:
            holder.release()
        assert float(metrics.AUDIT_WRITE_FAILURES._value.get()) >= lost + 1
        storage.submit_audit(_row(2))
        instances = {r["hook_instance"] for r in storage.audit_rows(limit=10)}
        assert instances == {"hi-0", "hi-2"}  # hi-1 dropped, as counted
    finally:
        storage.dispose()

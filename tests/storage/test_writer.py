"""Audit and issued-card rows committed off the request path, in batches (issue 16).

Two `Storage` objects on one database stand for two workers (or replicas): the first answers
hook calls and hands their rows to its writer; the second receives the feedback. Run on SQLite
and on PostgreSQL (tests/storage/conftest.py).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import event

from cds_service.storage import AuditRow, FeedbackItem, Storage
from tests.fixtures.apps import PATIENT_HASH_KEY
from tests.fixtures.audit_rows import audit_row


def _row(i: int, client: str | None = "https://ehr-a.test") -> AuditRow:
    return audit_row(i, client=client, timings_ms={"total": 3.2}, language="en")


def _transactions(storage: Storage) -> list[int]:
    """One entry per database connection the storage takes from its pool: the writer takes
    one per batch, commits its rows in it and gives it back (reads take one too)."""
    seen: list[int] = []

    @event.listens_for(storage.engine, "checkout")
    def _count(*_args: Any) -> None:
        seen.append(1)

    return seen


def test_rows_of_many_calls_are_committed_together(storage_url: str) -> None:
    worker = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=200)
    transactions = _transactions(worker)
    try:
        for i in range(40):
            worker.submit_audit(_row(i))
        assert worker.flush()
        # 40 calls, a handful of transactions (one per batch), not one each
        assert 1 <= len(transactions) <= 5
        rows = worker.audit_rows(limit=100)
        assert len(rows) == 40
        assert {r["hook_instance"] for r in rows} == {f"hi-{i}" for i in range(40)}
        assert all(worker.issued_card(f"card-{i}") == "rheum-order-sign" for i in range(40))
    finally:
        worker.dispose()


def test_feedback_on_another_worker_finds_a_card_still_in_the_batch(storage_url: str) -> None:
    answering = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=300)
    receiving = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=300)
    try:
        answering.submit_audit(_row(1))
        # not committed yet: the other worker does not see it without waiting
        assert receiving.issued_owners("rheum-order-sign", ["card-1"]) == {}
        owners = receiving.issued_owners("rheum-order-sign", ["card-1"], wait_s=5.0)
        assert owners == {"card-1": "https://ehr-a.test"}
        item = FeedbackItem(
            card="card-1",
            outcome="overridden",
            outcome_at=answering.audit_rows()[0]["at"],
        )
        result = receiving.store_feedback("rheum-order-sign", [item], "https://ehr-a.test")
        assert result.unknown_cards == 0
        assert receiving.feedback_rows()[0]["known_card"] is True
    finally:
        answering.dispose()
        receiving.dispose()


def test_feedback_binding_holds_while_the_card_is_in_the_batch(storage_url: str) -> None:
    """Another client's feedback on a card still in the issuing worker's batch is refused."""
    answering = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=300)
    receiving = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=300)
    try:
        answering.submit_audit(_row(2, client="https://ehr-a.test"))
        foreign = receiving.cards_of_other_clients(
            "rheum-order-sign", ["card-2"], "https://ehr-b.test", wait_s=5.0
        )
        assert foreign == {"card-2"}
        mine = receiving.cards_of_other_clients(
            "rheum-order-sign", ["card-2"], "https://ehr-a.test", wait_s=5.0
        )
        assert mine == set()
    finally:
        answering.dispose()
        receiving.dispose()


def test_a_card_never_issued_is_unknown_after_the_wait(storage_url: str) -> None:
    storage = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=50)
    try:
        storage.submit_audit(_row(3))
        owners = storage.issued_owners("rheum-order-sign", ["card-3", "never-issued"], 0.3)
        assert owners == {"card-3": "https://ehr-a.test"}
    finally:
        storage.dispose()


def test_close_commits_what_the_writer_holds(storage_url: str) -> None:
    """Graceful shutdown: rows submitted just before the stop are all committed."""
    worker = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=5000)
    for i in range(25):
        worker.submit_audit(_row(i))
    other = Storage(storage_url, PATIENT_HASH_KEY)
    try:
        assert len(other.audit_rows(limit=100)) < 25  # still held (the delay is 5 s)
        worker.close()
        assert len(other.audit_rows(limit=100)) == 25
        # after close a row is written by the caller, not lost
        worker.submit_audit(_row(99))
        assert len(other.audit_rows(limit=100)) == 26
    finally:
        worker.dispose()
        other.dispose()


def test_a_full_queue_writes_in_the_caller_instead_of_dropping(storage_url: str) -> None:
    worker = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=5000, write_queue=1)
    other = Storage(storage_url, PATIENT_HASH_KEY)
    try:
        for i in range(30):
            worker.submit_audit(_row(i))
        # the writer holds what it took (its delay is 5 s); the rows that found the queue
        # full were written by the caller at once
        assert len(other.audit_rows(limit=100)) > 0
        worker.flush()
        assert len(other.audit_rows(limit=100)) == 30
    finally:
        worker.dispose()
        other.dispose()


def test_one_row_the_database_refuses_does_not_cost_the_batch(storage_url: str) -> None:
    storage = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=1000)
    try:
        rows = [_row(i) for i in range(5)]
        # a row whose status is not an integer the database accepts
        bad = AuditRow(
            service_id="rheum-order-sign", hook="order-sign", hook_instance="x", status=2**70
        )
        for row in [*rows[:2], bad, *rows[2:]]:
            storage.submit_audit(row)
        storage.flush()
        stored = {r["hook_instance"] for r in storage.audit_rows(limit=100)}
        assert {f"hi-{i}" for i in range(5)} <= stored
    finally:
        storage.dispose()


def test_write_delay_and_unknown_card_wait_are_configurable() -> None:
    import pytest

    from cds_service.config import ConfigError, config_from_dict

    cfg = config_from_dict({"storage": {"write_delay_ms": 20, "unknown_card_wait_ms": 900}}, {})
    assert (cfg.storage_write_delay_ms, cfg.storage_unknown_card_wait_ms) == (20, 900)
    env = {"RHEUM_CDS_STORAGE_WRITE_DELAY_MS": "0"}
    assert config_from_dict({}, env).storage_write_delay_ms == 0
    with pytest.raises(ConfigError, match="write_delay_ms"):
        config_from_dict({"storage": {"write_delay_ms": -1}}, {})
    with pytest.raises(ConfigError, match="unknown_card_wait_ms"):
        config_from_dict({"storage": {"unknown_card_wait_ms": 60000}}, {})


def test_without_a_delay_the_row_is_written_by_the_caller(storage_url: str) -> None:
    storage = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=0)
    other = Storage(storage_url, PATIENT_HASH_KEY)
    try:
        storage.submit_audit(_row(7))
        assert other.issued_card("card-7") == "rheum-order-sign"
    finally:
        storage.dispose()
        other.dispose()


def test_the_writer_of_a_dropped_storage_ends(storage_url: str) -> None:
    """An app built and dropped (tests, reloads) leaves no writer thread behind."""
    import gc

    storage = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=10)
    assert storage._writer is not None
    storage._writer.idle_check_s = 0.05
    storage.submit_audit(_row(1))
    assert storage.flush()
    thread = storage._writer._thread
    assert thread is not None and thread.is_alive()
    storage.engine.dispose()
    del storage
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_card_uuid_issued_again_keeps_its_first_owner_and_loses_no_row(
    storage_url: str,
) -> None:
    """A client that repeats a call (same card uuids, e.g. a retried hookInstance), in a later
    batch and inside one batch: one issued-card row per uuid, owned by the first answer, and
    every call's audit row is kept (the duplicate is not a refused row that splits the batch)."""
    worker = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=200)
    try:
        worker.submit_audit(_row(1, client="https://ehr-a.test"))
        assert worker.flush()
        for client in ("https://ehr-b.test", "https://ehr-c.test"):
            worker.submit_audit(_row(1, client=client))
        worker.submit_audit(_row(2))
        assert worker.flush()
        assert len(worker.audit_rows(limit=10)) == 4
        owners = worker.issued_owners("rheum-order-sign", ["card-1", "card-2"])
        assert owners == {"card-1": "https://ehr-a.test", "card-2": "https://ehr-a.test"}
    finally:
        worker.dispose()


class _Card(dict[str, Any]):
    """A card whose lifetime a test can watch (a plain dict cannot be weakly referenced)."""


def test_a_queued_row_does_not_keep_its_calls_cards_alive(storage_url: str) -> None:
    """A writer that falls behind (a slow or locked database) holds what it will insert, not
    each call's cards (tens of KB of objects a call): memory stays small while rows wait."""
    import gc
    import weakref

    worker = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=5000)
    try:
        row = _row(5)
        card = _Card(row.cards[0])
        watched = weakref.ref(card)
        worker.submit_audit(
            AuditRow(
                service_id=row.service_id,
                hook=row.hook,
                hook_instance=row.hook_instance,
                status=row.status,
                patient_id=row.patient_id,
                client_id=row.client_id,
                rule_ids=row.rule_ids,
                cards=[card],
            )
        )
        del card, row
        gc.collect()
        assert worker._writer is not None and worker._writer.pending() == 1  # still queued
        assert watched() is None
        # what the card's row needs was kept: issued, to whom, with its indicator and rules
        assert worker.issued_owners("rheum-order-sign", ["card-5"]) == {
            "card-5": "https://ehr-a.test"
        }
        assert worker.audit_rows()[0]["card_count"] == 1
    finally:
        worker.dispose()


def test_an_audit_row_is_stamped_when_handed_over_not_when_committed(storage_url: str) -> None:
    """The audit trail dates a call by its answer, also when the writer commits it later."""
    import time
    from datetime import datetime

    worker = Storage(storage_url, PATIENT_HASH_KEY, write_delay_ms=5000)
    try:
        before = datetime.now(UTC)
        worker.submit_audit(_row(6))
        after = datetime.now(UTC)
        time.sleep(0.05)  # the commit comes later (at the flush below)
        assert before <= worker.audit_rows()[0]["at"] <= after
    finally:
        worker.dispose()

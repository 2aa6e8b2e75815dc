"""A database made before a column existed is brought up to date when the service opens it:
its rows kept, the column and its unique index added, and the writer's rows stored with it,
once each (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from cds_service.storage import AuditRow, Base, Storage, normalise_url
from tests.fixtures.apps import PATIENT_HASH_KEY
from tests.fixtures.audit_rows import audit_row

OLD_ROWS = 3


def _row(i: int) -> AuditRow:
    return audit_row(i, client="https://ehr.test", instance="new", rule_ids=())


def _make_old_database(engine: Engine) -> None:
    """The tables as releases before the audit row's call id made them, with a few rows."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_audit_call_id"))
        conn.execute(text("ALTER TABLE audit DROP COLUMN call_id"))
        conn.execute(text("ALTER TABLE issued_card DROP COLUMN client_id"))
        for i in range(OLD_ROWS):
            conn.execute(
                text(
                    "INSERT INTO audit (at, service_id, hook, hook_instance, status, client_id,"
                    " patient_hash, rule_ids, card_count, fhir_calls, unavailable, timings_ms,"
                    " language) VALUES (CURRENT_TIMESTAMP, 'rheum-order-sign', 'order-sign',"
                    f" 'old-{i}', 200, NULL, NULL, '[]', 0, 0, '[]', '{{}}', NULL)"
                )
            )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def test_an_old_database_gets_the_call_id_and_keeps_its_rows(url: str) -> None:
    engine = create_engine(normalise_url(url))
    try:
        _make_old_database(engine)
        storage = Storage(url, PATIENT_HASH_KEY, write_delay_ms=0)
        try:
            for i in range(2):
                storage.submit_audit(_row(i))
            rows = storage.audit_rows(limit=100)
        finally:
            storage.dispose()
        assert sorted(r["hook_instance"] for r in rows) == [
            *(f"new-{i}" for i in range(2)),
            *(f"old-{i}" for i in range(OLD_ROWS)),
        ]
        calls = {r["hook_instance"]: r["call_id"] for r in rows}
        assert all(calls[f"old-{i}"] is None for i in range(OLD_ROWS))
        assert None not in (calls["new-0"], calls["new-1"])
        # distinct, and in the order the calls were answered (the index grows at one end)
        assert calls["new-0"] < calls["new-1"]
        audit = inspect(engine)
        assert "client_id" in {c["name"] for c in audit.get_columns("issued_card")}
        [index] = [i for i in audit.get_indexes("audit") if i["column_names"] == ["call_id"]]
        assert index["unique"]
        # a call stored once more (its batch tried again) is not a second row; old rows,
        # without a call id, do not collide with each other
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO audit (at, service_id, hook, hook_instance, status, rule_ids,"
                    " card_count, fhir_calls, unavailable, timings_ms, call_id) VALUES"
                    " (CURRENT_TIMESTAMP, 'rheum-order-sign', 'order-sign', 'again', 200, '[]',"
                    " 0, 0, '[]', '{}', :call) ON CONFLICT (call_id) DO NOTHING"
                ),
                {"call": calls["new-0"]},
            )
            count = conn.execute(text("SELECT count(*) FROM audit")).scalar_one()
        assert count == OLD_ROWS + 2
        # opened again (another worker, a restart): nothing more to add
        Storage(url, PATIENT_HASH_KEY, write_delay_ms=0).dispose()
    finally:
        engine.dispose()


def test_a_call_id_column_without_its_index_gets_it(url: str) -> None:
    """A process stopped after adding the column and before its index (SQLite runs the two
    statements apart): the next start makes the index, so that rows tried again still
    collide with their first copy instead of failing the insert."""
    engine = create_engine(normalise_url(url))
    try:
        _make_old_database(engine)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit ADD COLUMN call_id VARCHAR(32)"))
        storage = Storage(url, PATIENT_HASH_KEY, write_delay_ms=0)
        try:
            storage.submit_audit(_row(0))
            assert len(storage.audit_rows(limit=100)) == OLD_ROWS + 1
        finally:
            storage.dispose()
        [index] = [
            i for i in inspect(engine).get_indexes("audit") if i["name"] == "ix_audit_call_id"
        ]
        assert index["unique"] and index["column_names"] == ["call_id"]
    finally:
        engine.dispose()

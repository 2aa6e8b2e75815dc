"""The audit writer in a gevent worker (issue 16): `rheum-cds serve` monkey-patches the
process, so the writer is a greenlet on the worker's only thread; on a SQLite file its
commits run on a native thread of their own, and the worker keeps serving its connections
while a batch is committed, even one that waits for another process's write lock.

Each test runs a child process patched as `rheum-cds serve` patches its workers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("gevent")

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    from gevent import monkey

    monkey.patch_all()

    import json
    import sqlite3
    import sys

    import gevent

    from cds_service.storage import AuditRow, Storage

    path = sys.argv[1]
    native_thread = monkey.get_original("_thread", "start_new_thread")
    native_sleep = monkey.get_original("time", "sleep")


    def row(i):
        return AuditRow(
            service_id="rheum-order-sign", hook="order-sign", hook_instance=f"hi-{i}",
            status=200, patient_id=f"patient-{i}",
            cards=[{"uuid": f"card-{i}", "indicator": "warning"}],
        )


    def committed(uuid):
        con = sqlite3.connect(path, timeout=10)
        try:
            return con.execute(
                "SELECT count(*) FROM issued_card WHERE uuid = ?", (uuid,)
            ).fetchone()[0]
        finally:
            con.close()


    storage = Storage(f"sqlite:///{path}", "k" * 32, write_delay_ms=10)
    storage.submit_audit(row(0))
    first_flush = storage.flush()
    out = {"first_flush": first_flush, "first_committed": committed("card-0")}

    # another process's transaction holds the database's write lock for a second (here a
    # native thread with its own connection)
    state = {"locked": False, "released": False}

    def hold_write_lock():
        con = sqlite3.connect(path, timeout=10, check_same_thread=False)
        con.execute("BEGIN IMMEDIATE")
        state["locked"] = True
        native_sleep(1.0)
        state["released"] = True
        con.rollback()
        con.close()

    native_thread(hold_write_lock, ())
    while not state["locked"]:
        gevent.sleep(0.005)

    storage.submit_audit(row(1))
    flushed = {}

    def flush_from_a_request():
        flushed["ok"] = storage.flush(timeout_s=20)
        flushed["lock_released"] = state["released"]
        flushed["committed"] = committed("card-1")

    flusher = gevent.spawn(flush_from_a_request)
    ticks_while_locked = 0
    while not flusher.dead:  # another connection's greenlet, served meanwhile
        gevent.sleep(0.01)
        if not state["released"]:
            ticks_while_locked += 1
    out.update(flushed, ticks_while_locked=ticks_while_locked)
    storage.close()
    storage.submit_audit(row(2))  # after close: written by the caller
    out["after_close_committed"] = committed("card-2")
    print(json.dumps(out))
    """
)


def _run_child(tmp_path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "cds.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_worker_serves_while_the_writer_waits_for_the_database(tmp_path: Path) -> None:
    out = _run_child(tmp_path)
    # a flush from a request greenlet returns once its rows are committed, and not before
    assert out["first_flush"] is True and out["first_committed"] == 1
    assert out["ok"] is True
    assert out["lock_released"] is True, "the batch cannot commit while the lock is held"
    assert out["committed"] == 1
    # while the writer's batch waited for the write lock (a second), the worker's other
    # greenlets kept running: with the commit on the worker's own thread they stood still
    assert out["ticks_while_locked"] >= 10
    # closing commits and stops the writer; a row after that is written by its caller
    assert out["after_close_committed"] == 1

"""kill -9 while feedback is being posted: every acknowledged item survives (issue 8 §5)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from cds_service.storage import Storage
from tests.fixtures.service import start_service

FEEDBACK = "/cds-services/rheum-order-sign/feedback"


def _post_until_killed(base: str, acked: list[str], stop: threading.Event) -> None:
    session = requests.Session()
    while not stop.is_set():
        card = str(uuid.uuid4())
        item = {
            "card": card,
            "outcome": "overridden",
            "overrideReason": {
                "reason": {
                    "code": "no-alternative",
                    "system": "https://rheum-cds.org/override-reason",
                }
            },
            "outcomeTimestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        try:
            response = session.post(base + FEEDBACK, json={"feedback": [item]}, timeout=5)
        except requests.RequestException:
            continue  # the service is gone: an unanswered call was never acknowledged
        if response.status_code == 200:
            acked.append(card)


def _kill_during_feedback(tmp_path: Path, storage_url: str) -> None:
    served = start_service(tmp_path / "run1", storage_url, workers=2)
    acked: list[str] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_post_until_killed, args=(served.base_url, acked, stop))
        for _ in range(3)
    ]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        served.kill9()  # mid-stream: requests are in flight in both workers
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        served.kill9()
    assert len(acked) >= 60, "too few feedback calls were acknowledged to test anything"

    restarted = start_service(tmp_path / "run2", storage_url, workers=1)
    try:
        stored = {row["card"] for row in Storage(storage_url).feedback_rows()}
        lost = set(acked) - stored
        assert not lost, f"{len(lost)} acknowledged feedback items lost after kill -9"
        # and the restarted service still answers feedback
        again = requests.post(restarted.base_url + FEEDBACK, json={"feedback": []}, timeout=10)
        assert again.status_code in (200, 400)
    finally:
        restarted.stop()


def test_durability_sqlite_kill9_keeps_every_acknowledged_feedback(tmp_path: Path) -> None:
    _kill_during_feedback(tmp_path, f"sqlite:///{tmp_path / 'cds.db'}")


@pytest.mark.integration
def test_durability_postgres_kill9_keeps_every_acknowledged_feedback(
    tmp_path: Path, postgres_url: str
) -> None:
    _kill_during_feedback(tmp_path, postgres_url)

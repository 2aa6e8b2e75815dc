"""Storage unavailable: hooks still answer, feedback never gets a false 200 (issue 8 §3)."""

from __future__ import annotations

import copy
import socket
import time
from typing import Any

import pytest

from cds_service.app import create_app
from cds_service.config import Config
from tests.service import samples

SIGN = "/cds-services/rheum-order-sign"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def _body() -> dict[str, Any]:
    """Tofacitinib for a 70-year-old: the age finding needs nothing but the patient."""
    empty = dict.fromkeys(("conditions", "observations", "medicationRequests", "immunizations"))
    return samples.order_sign(prefetch={"patient": copy.deepcopy(samples.PATIENT), **empty})


@pytest.fixture
def client_without_storage():  # type: ignore[no-untyped-def]
    url = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/none?connect_timeout=2"
    app = create_app(Config(storage_url=url, allow_unsigned=True))
    yield app.test_client()
    # its writer would otherwise go on retrying (and counting) for the rest of the session
    app.extensions["rheum_cds.storage"].close(timeout_s=0.1)


def test_storage_down_hooks_still_answer_with_cards(client_without_storage) -> None:  # type: ignore[no-untyped-def]
    response = client_without_storage.post(SIGN, json=_body())
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert cards, "the safety review must still reach the clinician"
    ids = {f["id"] for c in cards for f in c["extension"]["org.rheum-cds"]["findings"]}
    assert "JAKI-AGE-65" in ids  # 70 years old: the finding is there without storage


def _metric(client: Any, family: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(family)
    )


def test_storage_down_audit_rows_are_held_then_loss_is_counted(client_without_storage) -> None:  # type: ignore[no-untyped-def]
    """The database down: the writer keeps the row and tries again (counted as retries); what
    it still holds when the service stops is dropped and counted as lost."""
    failures, retries = (
        "rheum_cds_audit_write_failures_total",
        "rheum_cds_audit_write_retries_total",
    )
    lost_before = _metric(client_without_storage, failures)
    retried_before = _metric(client_without_storage, retries)
    assert client_without_storage.post(SIGN, json=_body(), buffered=True).status_code == 200
    deadline = time.monotonic() + 20
    while (
        _metric(client_without_storage, retries) < retried_before + 2
        and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert _metric(client_without_storage, retries) >= retried_before + 2
    assert _metric(client_without_storage, failures) == lost_before  # held, not lost
    client_without_storage.application.extensions["rheum_cds.storage"].close(timeout_s=0.5)
    assert _metric(client_without_storage, failures) == lost_before + 1


def test_storage_down_feedback_is_503_never_a_false_200(client_without_storage) -> None:  # type: ignore[no-untyped-def]
    item = {
        "card": "5c0a3b54-7f0c-4f53-9d3e-3cb2c7b8a0ff",
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-23T10:00:00.123Z",
    }
    response = client_without_storage.post(SIGN + "/feedback", json={"feedback": [item]})
    assert response.status_code == 503
    assert client_without_storage.get("/readyz").status_code == 503
    assert client_without_storage.get("/healthz").status_code == 200

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
    return app.test_client()


def test_storage_down_hooks_still_answer_with_cards(client_without_storage) -> None:  # type: ignore[no-untyped-def]
    response = client_without_storage.post(SIGN, json=_body())
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert cards, "the safety review must still reach the clinician"
    ids = {f["id"] for c in cards for f in c["extension"]["org.rheum-cds"]["findings"]}
    assert "JAKI-AGE-65" in ids  # 70 years old: the finding is there without storage


def test_storage_down_audit_loss_is_counted(client_without_storage) -> None:  # type: ignore[no-untyped-def]
    def audit_failures() -> float:
        text = client_without_storage.get("/metrics").get_data(as_text=True)
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("rheum_cds_audit_write_failures_total")
        )

    before = audit_failures()
    assert client_without_storage.post(SIGN, json=_body(), buffered=True).status_code == 200
    # the row is committed after the answer by the storage's writer: the loss is counted once
    # its write has failed (connect timeout 2 s)
    deadline = time.monotonic() + 20
    while audit_failures() < before + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert audit_failures() >= before + 1


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

"""FHIR faults seen by the clinician: 200 within the deadline, missing data stated (issue 8 §3).

Each fault is injected by a small loopback server (tests/service/fault_server.py) behind every
search the service makes; the Patient read still works, so the rules that need only the
patient still run and everything else must read "not assessed", never "no risk".
"""

from __future__ import annotations

import copy
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from cds_service.app import create_app
from cds_service.config import Config
from tests.cards.helpers import assert_valid_card
from tests.service import samples
from tests.service.fault_server import FaultServer

DEADLINE_MS = 1500
SEARCHED = ("Condition", "Observation", "MedicationRequest", "Immunization")
FAULTS = ["slow", "500", "429-long", "html", "truncated", "endless-next", "401", "down"]


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.close()


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/fhir"


def _ext(cards: list[dict[str, Any]], member: str) -> set[str]:
    return {item["id"] for c in cards for item in c["extension"]["org.rheum-cds"][member]}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_answers_within_deadline_and_states_what_is_missing(
    tmp_path: Path, fault_server: FaultServer, fault: str
) -> None:
    app = create_app(
        Config(
            storage_url=f"sqlite:///{tmp_path / 'f.db'}",
            allow_unsigned=True,
            deadline_ms=DEADLINE_MS,
        )
    )
    fault_server.data = {"Patient": [copy.deepcopy(samples.PATIENT)]}
    server_url = fault_server.base_url
    if fault == "down":
        server_url = _closed_url()
    else:
        for kind in SEARCHED:
            fault_server.behave(kind, fault)
    body = samples.order_sign(fhir_server=server_url)
    body.pop("prefetch", None)
    if fault == "down":  # nothing reachable at all: the patient comes in prefetch
        body["prefetch"] = {"patient": copy.deepcopy(samples.PATIENT)}

    started = time.monotonic()
    response = app.test_client().post(
        "/cds-services/rheum-order-sign",
        data=orjson.dumps(body),
        content_type="application/json",
        buffered=True,
    )
    elapsed = time.monotonic() - started

    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert elapsed < DEADLINE_MS / 1000 * 1.1
    cards = response.get_json()["cards"]
    assert cards, "a FHIR outage must still give the clinician an answer"
    for card in cards:
        assert_valid_card(card)
    not_assessed = _ext(cards, "notAssessed")
    # screening and labs could not be read: they are not assessed, never "no risk"
    assert {"JAKI-TB-SCREEN", "JAKI-HBV"} <= not_assessed, not_assessed
    detail = " ".join(c.get("detail", "") for c in cards)
    assert "could not be retrieved" in detail
    assert "laboratory results and observations" in detail

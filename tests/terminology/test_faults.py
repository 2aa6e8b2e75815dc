"""A terminology server that is down or slow never holds up an answer: the hook call answers
within its deadline, and a code nobody could classify stays unclassified (no finding from it,
counted as such) instead of being read as absent."""

from __future__ import annotations

import time

import pytest

from cds_service.config import TerminologyConfig
from tests.fixtures.processes import free_port
from tests.terminology.helpers import DVT_FEMORAL, StandIn, call_hook

DEADLINE_MS = 1500
SLOW_S = 20.0  # the slow server answers after this long
MARGIN_S = 3.0  # a busy 2-core machine: the bound says "not waited for", not "fast"


def _unclassified(app) -> float:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    for line in text.splitlines():
        if line.startswith('rheum_cds_unclassified_condition_codes_total{system="snomed"}'):
            return float(line.split()[-1])
    return 0.0


@pytest.fixture
def slow_server():
    server = StandIn(delay=SLOW_S, answer={"resourceType": "Parameters", "parameter": []})
    yield server
    server.stop()


def test_server_down_answers_in_time_and_code_stays_unclassified(make_app):
    url = f"http://127.0.0.1:{free_port()}/fhir"  # nothing listens: connection refused
    app = make_app(
        deadline_ms=DEADLINE_MS,
        terminology=TerminologyConfig(url=url, startup_wait_s=5, lookup_timeout_ms=1000),
    )
    terminology = app.extensions["rheum_cds.runtime"].terminology
    assert terminology.status()["expanded_at"] is None  # start-up expansion failed, app runs
    health = app.test_client().get("/healthz").get_json()
    assert health["status"] == "ok" and health["terminology"]["expanded_at"] is None
    assert url not in str(health)
    before = _unclassified(app)
    started = time.monotonic()
    result = call_hook(app, DVT_FEMORAL)
    elapsed = time.monotonic() - started
    assert result["status"] == 200
    assert "JAKI-VTE-HISTORY" not in result["findings"]
    assert "JAKI-VTE-HISTORY" in result["notAssessed"]  # not read as "no prior VTE"
    assert _unclassified(app) - before == 1
    assert elapsed < DEADLINE_MS / 1000 + MARGIN_S
    assert app.test_client().get("/healthz").get_json()["terminology"]["lookups_paused"]


def test_slow_server_answers_within_deadline_then_backs_off(make_app, slow_server):
    app = make_app(
        deadline_ms=DEADLINE_MS,
        terminology=TerminologyConfig(
            url=slow_server.url, startup_wait_s=0.5, lookup_timeout_ms=700, timeout_s=30
        ),
    )
    started = time.monotonic()
    result = call_hook(app, DVT_FEMORAL)
    elapsed = time.monotonic() - started
    assert result["status"] == 200
    assert "JAKI-VTE-HISTORY" not in result["findings"]
    assert "JAKI-VTE-HISTORY" in result["notAssessed"]
    assert elapsed < DEADLINE_MS / 1000 + MARGIN_S  # the 20 s server is not waited for
    asked = slow_server.calls("$subsumes")
    assert asked > 0  # it was asked ...
    again = call_hook(app, DVT_FEMORAL)
    assert again["status"] == 200
    assert slow_server.calls("$subsumes") == asked  # ... and not again while it is failing

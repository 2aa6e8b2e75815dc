"""The institution's terminology server, tested against HAPI FHIR run as one (fixture
`terminology_server`) with a SNOMED CT-shaped CodeSystem fragment: expansion at start stored
with the server's version, an unknown code resolved with $subsumes and then cached, a code the
server does not know left unclassified. A recording proxy in front of HAPI counts the calls."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cds_service.config import TerminologyConfig
from cds_service.storage import Storage
from cds_service.terminology.store import (
    CodeRow,
    TerminologyStore,
    lookup_source,
    server_source,
)
from tests.fixtures.hapi import FhirServer
from tests.terminology.helpers import (
    DVT,
    DVT_FEMORAL,
    DVT_LEG,
    HYPERTENSION,
    MALIGNANT_HTN,
    PE,
    PE_ACUTE,
    SCT,
    THROMBOPHLEBITIS,
    StandIn,
    call_hook,
    codesystem,
)

pytestmark = pytest.mark.integration

VERSION = "http://snomed.info/sct/900000000000207008/version/20250101"
UNKNOWN_TO_SERVER = "999999001"  # well-formed identifier the fragment does not have
SLOW_MACHINE = {"deadline_ms": 20000}  # 2 shared cores: HAPI answers in tens of ms each


@pytest.fixture(scope="module")
def tx_server(terminology_server: FhirServer) -> FhirServer:
    response = terminology_server.session.put(
        f"{terminology_server.base_url}/CodeSystem/sct-fragment",
        json=codesystem(VERSION),
        headers={"Content-Type": "application/fhir+json"},
        timeout=120,
    )
    assert response.status_code in (200, 201), response.text[:500]
    # HAPI stores the concepts of a CodeSystem for $subsumes / $expand: wait until it has
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answer = terminology_server.get(
            "CodeSystem/$subsumes", {"system": SCT, "codeA": DVT, "codeB": DVT_FEMORAL}
        )
        if answer.status_code == 200 and "subsumes" in answer.text:
            return terminology_server
        time.sleep(1)
    pytest.fail(f"HAPI never answered $subsumes for the fragment: {answer.text[:300]}")


@pytest.fixture
def proxy(tx_server: FhirServer) -> Iterator[StandIn]:
    recording = StandIn(forward_to=tx_server.base_url)
    yield recording
    recording.stop()


def _rows(storage_url: str, source: str) -> list[dict]:
    storage = Storage(storage_url)
    try:
        return TerminologyStore(storage.engine).rows(source)
    finally:
        storage.dispose()


def test_expansion_at_start_is_stored_with_version_and_used(make_app, storage_url, proxy):
    config = TerminologyConfig(url=proxy.url, startup_wait_s=120)
    app = make_app(terminology=config, **SLOW_MACHINE)
    assert proxy.calls("$expand") > 0
    rows = _rows(storage_url, server_source(proxy.url))
    by_concept: dict[str, set[str]] = {}
    for row in rows:
        by_concept.setdefault(row["concept"], set()).add(row["code"])
    assert {DVT, DVT_LEG, DVT_FEMORAL} <= by_concept["dvt"]
    assert {PE, PE_ACUTE} <= by_concept["pe"]
    assert {HYPERTENSION, MALIGNANT_HTN} <= by_concept["hypertension"]
    assert MALIGNANT_HTN not in by_concept.get("malignancy", set())
    assert {row["version"] for row in rows} == {VERSION}
    display = {row["code"]: row["display"] for row in rows}
    assert display[DVT_LEG] == "Deep venous thrombosis of lower extremity"

    result = call_hook(app, DVT_FEMORAL, PE_ACUTE)
    assert result["status"] == 200
    assert "JAKI-VTE-HISTORY" in result["findings"]
    assert "JAKI-MALIGNANCY" not in call_hook(app, MALIGNANT_HTN)["findings"]
    assert proxy.calls("$subsumes") == 0  # known from the expansion: no look-up

    # a code in no expansion is looked up once, and is then known to be under no root
    assert "JAKI-VTE-HISTORY" not in call_hook(app, THROMBOPHLEBITIS)["findings"]
    asked = proxy.calls("$subsumes")
    assert asked > 0
    call_hook(app, THROMBOPHLEBITIS)
    assert proxy.calls("$subsumes") == asked

    # another worker (or a restart) on the same storage reads the stored expansion
    expands = proxy.calls("$expand")
    second = make_app(terminology=config, **SLOW_MACHINE)
    assert proxy.calls("$expand") == expands
    assert "JAKI-VTE-HISTORY" in call_hook(second, DVT_LEG)["findings"]


def test_unknown_code_resolved_by_subsumes_then_cached(make_app, storage_url, proxy):
    # The stored expansion is fresh but older than the code (a release behind): only the roots.
    storage = Storage(storage_url)
    TerminologyStore(storage.engine).replace(
        server_source(proxy.url), "older", [CodeRow("dvt", DVT), CodeRow("pe", PE)]
    )
    storage.dispose()
    config = TerminologyConfig(url=proxy.url, startup_wait_s=5, lookup_timeout_ms=15000)
    app = make_app(terminology=config, **SLOW_MACHINE)
    assert proxy.calls("$expand") == 0  # stored expansion is fresh

    result = call_hook(app, DVT_FEMORAL)
    assert result["status"] == 200
    assert "JAKI-VTE-HISTORY" in result["findings"]
    asked = proxy.calls("$subsumes")
    assert asked > 0

    again = call_hook(app, DVT_FEMORAL)
    assert "JAKI-VTE-HISTORY" in again["findings"]
    assert proxy.calls("$subsumes") == asked  # cached: no terminology call

    # the answer is stored: another worker knows the code without asking
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not _rows(storage_url, lookup_source(proxy.url)):
        time.sleep(0.2)
    assert {(r["concept"], r["code"]) for r in _rows(storage_url, lookup_source(proxy.url))} >= {
        ("dvt", DVT_FEMORAL)
    }
    other = make_app(terminology=config, **SLOW_MACHINE)
    assert "JAKI-VTE-HISTORY" in call_hook(other, DVT_FEMORAL)["findings"]
    assert proxy.calls("$subsumes") == asked

    # a code under no concept root is cached as such; one the server does not know stays
    # unclassified (no finding from it) and is not asked about again
    none = call_hook(app, THROMBOPHLEBITIS)
    assert "JAKI-VTE-HISTORY" not in none["findings"]
    unknown = call_hook(app, UNKNOWN_TO_SERVER)
    assert "JAKI-VTE-HISTORY" not in unknown["findings"]
    asked = proxy.calls("$subsumes")
    call_hook(app, THROMBOPHLEBITIS, UNKNOWN_TO_SERVER)
    assert proxy.calls("$subsumes") == asked

"""Fixtures of the integration suite: the HAPI FHIR test server with data loaded, and the
service in-process (its real app, signed calls, PostgreSQL storage) trusting that server.

Loading is done once per session; the timings are printed at the end of the run.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cds_service.cli import main as cli_main
from cds_service.commands.try_hook import Client, in_process_client
from tests.fixtures.hapi import FhirServer, idempotent_transaction

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED_BUNDLES = DATA / "bundles"
SUPPORT_BUNDLES = DATA / "bundles-support"
TIMINGS: dict[str, float] = {}
DEMO_ANCHOR = date.today().isoformat()  # the day the demo charts are built around


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.section("integration timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")


@pytest.fixture(scope="session")
def demo_fhir(fhir_server: FhirServer) -> str:
    """The FHIR server with the demo patients loaded by `rheum-cds load-demo`."""
    started = time.monotonic()
    out = io.StringIO()
    with redirect_stdout(out):
        status = cli_main(
            ["load-demo", "--fhir", fhir_server.base_url, "--json", "--anchor", DEMO_ANCHOR]
        )
    assert status == 0, out.getvalue()[-3000:]
    results = json.loads(out.getvalue())
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]]
    TIMINGS[f"load-demo ({len(results)} demo patients)"] = time.monotonic() - started
    return fhir_server.base_url


def shared_bundle_paths() -> list[Path]:
    return sorted(SHARED_BUNDLES.glob("*.json"))


def patient_id_of(bundle: dict[str, Any], base_url: str) -> str:
    """The id the Patient of a shared bundle has on the server (the loader's stable id)."""
    transaction = idempotent_transaction(bundle, base_url)
    for entry in transaction["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            return str(entry["resource"]["id"])
    raise AssertionError("no Patient in bundle")


@pytest.fixture(scope="session")
def shared_fhir(fhir_server: FhirServer) -> dict[str, str]:
    """The FHIR server with every shared bundle loaded: {file name: Patient id}."""
    started = time.monotonic()
    for path in sorted(SUPPORT_BUNDLES.glob("*.json")):
        fhir_server.load_file(path)
    ids = {}
    for path in shared_bundle_paths():
        bundle = json.loads(path.read_text(encoding="utf-8"))
        fhir_server.load(bundle)
        ids[path.name] = patient_id_of(bundle, fhir_server.base_url)
    TIMINGS[f"loading {len(ids)} shared bundles + support into HAPI"] = time.monotonic() - started
    return ids


@pytest.fixture(scope="session")
def cds(fhir_server: FhirServer, postgres_url: str) -> Iterator[Client]:
    """The service in-process (as `rheum-cds try` runs it), storing in PostgreSQL."""
    client = in_process_client(fhir_server.base_url, storage_url=postgres_url)
    yield client
    storage = client.extra["app"].extensions.get("rheum_cds.storage")
    if storage is not None:
        storage.dispose()

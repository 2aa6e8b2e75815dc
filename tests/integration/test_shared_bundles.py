"""Every third-party patient bundle of tests/data/bundles (copied from ../shared/data with
its provenance) through order-sign for tofacitinib: with prefetch resolved from HAPI, with no
prefetch (the service fetches from HAPI), and with a prefetch made straight from the file
(the data exactly as published, no server in between). Always a valid answer, never a server
error, and the same findings with and without prefetch."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cds_service.commands.try_hook import (
    Client,
    draft_medication_request,
    findings_of,
    hook_context,
    hook_request,
    in_process_client,
    run_try,
)
from tests.cards.helpers import assert_valid_cards
from tests.fixtures.hapi import FhirServer
from tests.integration.conftest import SHARED_BUNDLES, SUPPORT_BUNDLES, shared_bundle_paths

PATHS = shared_bundle_paths()
# The service's own deadline (2.5 s) bounds a call that fetches from HAPI; on a machine loaded
# by other work HAPI's first searches can take that long, and the call then answers, as it
# should, with what it has ("not assessed"). These tests compare the findings with and without
# prefetch, so their service waits long enough for every search (the deadline path has its own
# tests, with a fault-injecting server: tests/reliability).
FETCH_DEADLINE_MS = 30_000
IDS = [p.name.split("__")[0] + ":" + p.stem[-8:] for p in PATHS]
ORDER = {"drug": "tofacitinib", "dose_mg": 5.0, "per_day": 2.0}


@pytest.fixture(scope="module")
def cds(fhir_server: FhirServer, postgres_url: str, tmp_path_factory: Any) -> Iterator[Client]:
    """The service in-process (as `rheum-cds try` runs it), with a deadline no search hits."""
    config = tmp_path_factory.mktemp("shared-bundles") / "rheum-cds.toml"
    config.write_text(f"[service]\ndeadline_ms = {FETCH_DEADLINE_MS}\n", encoding="utf-8")
    client = in_process_client(fhir_server.base_url, str(config), storage_url=postgres_url)
    assert client.extra["app"].extensions["rheum_cds.runtime"].config.deadline_ms == (
        FETCH_DEADLINE_MS
    )
    yield client
    storage = client.extra["app"].extensions.get("rheum_cds.storage")
    if storage is not None:
        storage.dispose()


def _manifest(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return {row["file"]: row for row in csv.DictReader(fh, delimiter="\t")}


def test_every_bundle_is_the_published_file() -> None:
    assert len(PATHS) == 40
    for folder in (SHARED_BUNDLES, SUPPORT_BUNDLES):
        manifest = _manifest(folder)
        files = sorted(p.name for p in folder.glob("*.json"))
        assert files == sorted(manifest)
        for name in files:
            digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            assert digest == manifest[name]["sha256"], name


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_order_sign_with_and_without_prefetch(
    path: Path, shared_fhir: dict[str, str], cds: Client, fhir_server: Any
) -> None:
    patient = shared_fhir[path.name]
    results = []
    for prefetch in (True, False):
        request, answer = run_try(
            cds, fhir=fhir_server.base_url, patient_id=patient, prefetch=prefetch, **ORDER
        )
        assert answer.status == 200, answer.body
        assert isinstance(answer.body, dict) and isinstance(answer.body.get("cards"), list)
        assert_valid_cards(answer.body["cards"])
        results.append(findings_of(answer.body["cards"]))
    assert results[0] == results[1]
    assert results[0], "a tofacitinib order for a real-shaped chart reported nothing at all"


def _prefetch_from_file(bundle: dict[str, Any]) -> dict[str, Any]:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        by_type.setdefault(resource["resourceType"], []).append({"resource": resource})

    def searchset(kind: str) -> dict[str, Any]:
        entries = by_type.get(kind, [])
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(entries),
            "entry": entries,
        }

    return {
        "patient": by_type["Patient"][0]["resource"],
        "conditions": searchset("Condition"),
        "observations": searchset("Observation"),
        "medicationRequests": searchset("MedicationRequest"),
        "immunizations": searchset("Immunization"),
    }


@pytest.mark.parametrize("path", PATHS, ids=IDS)
def test_prefetch_made_from_the_file_as_published(
    path: Path, cds: Client, fhir_server: Any
) -> None:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    patient = next(
        e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    draft = draft_medication_request(cds.extra["knowledge"], patient, **ORDER)
    context = hook_context("order-sign", patient, "Practitioner/example", draft)
    body = hook_request("order-sign", fhir_server.base_url, context, _prefetch_from_file(bundle))
    answer = cds.call("rheum-order-sign", body, None)
    assert answer.status == 200, answer.body
    assert_valid_cards(answer.body["cards"])


def test_drug_given_as_a_medication_resource_is_recognised(
    shared_fhir: dict[str, str], cds: Client, fhir_server: Any
) -> None:
    """The Blaze charts name enoxaparin through medicationReference -> Medication (as EHRs
    that code drugs as Medication resources do): prefetch includes the Medication
    (`_include=MedicationRequest:medication`), so the DVT patient is seen as anticoagulated."""
    name = "blaze-synthea__ad0b4b7a-2285-7a3c-5fd2-edbe4d67b7e7.json"
    for prefetch in (True, False):
        _request, answer = run_try(
            cds, fhir=fhir_server.base_url, patient_id=shared_fhir[name], prefetch=prefetch, **ORDER
        )
        assert answer.status == 200, answer.body
        findings = [
            f
            for card in answer.body["cards"]
            for f in card["extension"]["org.rheum-cds"].get("findings", [])
            if f["id"] == "JAKI-VTE-HISTORY"
        ]
        assert findings and findings[0]["severity"] == "critical"
        labels = {e.get("label") for e in findings[0]["evidence"]}
        assert any("anticoag" in str(label) for label in labels), labels

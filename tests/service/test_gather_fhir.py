"""Gathering against a real FHIR server (HAPI on loopback, tests/conftest.py `fhir_server`).

A request without prefetch must give the same PatientRecord as one whose prefetch an EHR
filled by running the discovery templates itself.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from cds_service.config import Config
from cds_service.discovery import PATIENT_TOKEN, build_services
from cds_service.gather import gather
from cds_service.model import PatientRecord
from cds_service.request import parse_hook_request
from tests.service import samples

pytestmark = pytest.mark.integration

BUNDLE = (
    Path(__file__).parents[1]
    / "data"
    / "bundles"
    / "smart-synthea__Asa_Hermiston_4384bf23-1dc3-48ca-8c84-89fbaff201ae.json"
)
CONFIG = Config(allow_unsigned=True, deadline_ms=20000, fhir_page_cap=50)


@pytest.fixture(scope="module")
def loaded_patient(fhir_server) -> str:
    response = fhir_server.load(json.loads(BUNDLE.read_text()))
    for entry in response.json()["entry"]:
        location = entry["response"]["location"]
        if location.startswith("Patient/"):
            return location.split("/")[1]
    raise AssertionError("the bundle has no Patient")


def _ehr_prefetch(fhir_server, template: str, patient_id: str) -> dict[str, Any]:
    """What an EHR sends for one template: the resource, or one Bundle of every page."""
    response = fhir_server.get(template.replace(PATIENT_TOKEN, patient_id))
    response.raise_for_status()
    page = response.json()
    if page["resourceType"] != "Bundle":
        return page
    entries = list(page.get("entry", []))
    while nxt := next((lk["url"] for lk in page.get("link", []) if lk["relation"] == "next"), None):
        page = fhir_server.get(nxt).json()
        entries.extend(page.get("entry", []))
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def _gather(body: dict[str, Any], plan) -> PatientRecord:
    request = parse_hook_request("rheum-order-sign", orjson.dumps(body), {}, CONFIG, None)
    return gather(request, plan, CONFIG, time.monotonic() + CONFIG.deadline_ms / 1000)


def _canonical(record: PatientRecord) -> PatientRecord:
    """Lists in id order (search results with equal dates may come in either order)."""
    lists = {
        f.name: sorted(
            samples.plain(getattr(record, f.name)), key=lambda r: (r["resourceType"], r.get("id"))
        )
        for f in dataclasses.fields(record)
        if f.name not in {"patient_id", "patient", "unavailable", "fhir_calls", "distinct"}
    }
    return dataclasses.replace(record, fhir_calls=0, **lists)


def test_fetched_record_equals_the_fully_prefetched_one(fhir_server, loaded_patient, knowledge):
    plan = build_services(knowledge)["rheum-order-sign"].prefetch
    body = samples.order_sign(fhir_server=fhir_server.base_url)
    body["context"]["patientId"] = loaded_patient

    fetched = _gather(body, plan)
    assert fetched.unavailable == []
    assert fetched.fhir_calls >= len(plan)
    assert fetched.patient is not None and fetched.patient["id"] == loaded_patient
    assert fetched.observations and fetched.conditions and fetched.immunizations

    prefetched_body = samples.order_sign(
        prefetch={
            item.key: _ehr_prefetch(fhir_server, item.template, loaded_patient) for item in plan
        }
    )
    prefetched_body["context"]["patientId"] = loaded_patient
    prefetched = _gather(prefetched_body, plan)
    assert prefetched.fhir_calls == 0

    assert _canonical(fetched) == _canonical(prefetched)
    # only the value sets' codes were asked for
    template = next(i.template for i in plan if i.key == "observations")
    asked = set(template.split("code=")[1].split("&")[0].split(","))
    for observation in samples.plain(fetched.observations):
        assert {c["code"] for c in observation["code"]["coding"]} & asked

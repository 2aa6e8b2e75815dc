"""Sandbox mode against the local HAPI server loaded with `rheum-cds load-demo`: the sandbox's
calls (signed with its own key) get the demo charts' cards, the PMR patient's PMR-AS included,
whether the sandbox sends the prefetch or the service fetches from the loopback server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from cds_service.app import create_app
from cds_service.commands.try_hook import fetch_prefetch
from cds_service.config import Config, with_sandbox
from tests.sandbox import captures

BASE = "http://localhost:8080"
PMR = "demo-pmr-new-onset"


def _app(tmp_path: Path, sandbox: bool) -> Flask:
    config = Config(
        base_url=BASE,
        storage_url=f"sqlite:///{tmp_path / 'cds.db'}",
        patient_hash_key="test-key",
        allow_unsigned=True,
    )
    return create_app(with_sandbox(config) if sandbox else config)


def _signed(path: str) -> dict[str, str]:
    token = captures.signer().token(BASE + path, jti=str(uuid.uuid4()))
    return {"Authorization": f"Bearer {token}"}


def _patient_view(app: Flask, fhir: str, prefetch: bool) -> dict[str, Any]:
    client = app.test_client()
    discovery = client.get("/cds-services", headers=_signed("/cds-services")).json
    [service] = [s for s in discovery["services"] if s["hook"] == "patient-view"]
    context = {"userId": "Practitioner/COREPRACTITIONER1", "patientId": PMR}
    body: dict[str, Any] = {
        "hookInstance": str(uuid.uuid4()),
        "hook": "patient-view",
        "fhirServer": fhir,
        "context": context,
    }
    if prefetch:  # resolved by the client from the templates, as the sandbox does
        body["prefetch"] = fetch_prefetch(service["prefetch"], fhir, context, requests.Session())
    path = f"/cds-services/{service['id']}"
    response = client.post(path, json=body, headers=_signed(path))
    assert response.status_code == 200, response.data
    return response.json


def _scores(answer: dict[str, Any]) -> set[str]:
    return {
        score["id"]
        for card in answer["cards"]
        for score in card["extension"]["org.rheum-cds"].get("scores", [])
    }


@pytest.mark.parametrize("prefetch", [True, False], ids=["prefetch", "service-fetches"])
def test_patient_view_of_the_new_pmr_patient_shows_pmr_as(
    demo_fhir: str, tmp_path: Path, prefetch: bool
) -> None:
    answer = _patient_view(_app(tmp_path, sandbox=True), demo_fhir, prefetch)
    assert "PMR-AS-CRP" in _scores(answer)


def test_without_the_demo_clinic_codes_the_chart_lacks_pmr_as(
    demo_fhir: str, tmp_path: Path
) -> None:
    """Why the preset brings the demo clinic's codes: morning stiffness and arm elevation carry
    them, and a service that does not know them never asks for them."""
    answer = _patient_view(_app(tmp_path, sandbox=False), demo_fhir, prefetch=True)
    assert "PMR-AS-CRP" not in _scores(answer)

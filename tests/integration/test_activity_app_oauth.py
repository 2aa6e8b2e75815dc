"""The trend app's EHR launch (SMART App Launch 2) against a real authorization server: Authlib's
AuthorizationCodeGrant with PKCE required (tests/apps/smart_auth.py), in front of the HAPI test
server with the demo charts. Chromium follows the whole redirect flow; the app then reads FHIR
with the bearer token it got, and draws the charts."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from cds_service.app import create_app
from cds_service.config import Config, with_sandbox
from tests.apps.smart_auth import build_auth_app
from tests.fixtures.browser import ThreadServer, serve_app
from tests.fixtures.processes import free_port

CLIENT_ID = "rheum-cds-activity-test"
PATIENT = "demo-ra-elderly-smoker"


@pytest.fixture(scope="module")
def servers(demo_fhir: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp_path_factory.mktemp("oauth") / "cds.db"
    config = with_sandbox(
        Config(
            base_url=base,
            storage_url=f"sqlite:///{db}",
            allow_unsigned=True,
            smart_client_id=CLIENT_ID,
        )
    )
    service: ThreadServer = serve_app(create_app(config), port)
    auth_app, state, new_launch = build_auth_app(
        demo_fhir, CLIENT_ID, f"{base}/apps/activity/", base
    )
    auth: ThreadServer = serve_app(auth_app)
    try:
        yield {
            "service": base,
            "ehr": auth.base_url,
            "fhir": f"{auth.base_url}/fhir",
            "state": state,
            "new_launch": new_launch,
        }
    finally:
        auth.stop()
        service.stop()


def smart_link_of_card(service: str, fhir: str) -> str:
    """The app link of the patient-view card (the service reads the open HAPI server)."""
    answer = requests.post(
        f"{service}/cds-services/rheum-patient-view",
        json={
            "hook": "patient-view",
            "hookInstance": str(uuid.uuid4()),
            "fhirServer": fhir,
            "context": {"userId": "Practitioner/demo", "patientId": PATIENT},
        },
        timeout=60,
    )
    assert answer.status_code == 200
    links = [ln for c in answer.json()["cards"] for ln in c["links"] if ln["type"] == "smart"]
    assert len(links) == 1
    return str(links[0]["url"])


def test_ehr_launch_pkce_token_and_bearer_reads(
    browser: Any,
    servers: dict[str, Any],
    demo_fhir: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    state = servers["state"]
    link = smart_link_of_card(servers["service"], demo_fhir)
    launch = servers["new_launch"](PATIENT)
    # the EHR launches the link with its FHIR base and a launch id
    url = f"{link}&{urlencode({'iss': servers['fhir'], 'launch': launch})}"
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        # the authorization request: PKCE S256, the launch, the scopes, aud = iss, a state
        (asked,) = state.authorize_requests
        assert asked["code_challenge_method"] == "S256"
        assert asked["launch"] == launch and asked["aud"] == servers["fhir"]
        assert asked["client_id"] == CLIENT_ID
        assert asked["redirect_uri"] == f"{servers['service']}/apps/activity/"
        assert set(asked["scope"].split()) >= {
            "launch",
            "patient/Observation.rs",
            "patient/Condition.rs",
            "patient/MedicationRequest.rs",
            "patient/Patient.rs",
        }
        assert len(asked["state"]) >= 22
        # the token request proved the verifier of that challenge
        (exchange,) = state.token_requests
        digest = hashlib.sha256(exchange["code_verifier"].encode("ascii")).digest()
        assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == asked["code_challenge"]
        assert "client_secret" not in exchange
        # every FHIR read carried the bearer token issued for this patient
        (token,) = state.tokens
        assert state.tokens[token] == PATIENT
        read = {path.split("/")[0] for path, _ in state.fhir_requests}
        assert {"Patient", "Observation", "Condition", "MedicationRequest"} <= read
        assert all(auth == f"Bearer {token}" for _, auth in state.fhir_requests)
        # the charts of that patient, and no code left in the address bar
        assert page.locator("section#chart-ra circle.point[data-score='DAS28-ESR']").count() == 3
        assert "code=" not in page.url
        stored = page.evaluate("JSON.stringify(sessionStorage)")
        assert token in stored
        assert page.evaluate("localStorage.length") == 0
        assert page.evaluate("document.cookie") == ""
        shots = tmp_path_factory.mktemp("oauth-shots")
        page.screenshot(path=str(shots / "activity-oauth.png"), full_page=True)
    finally:
        context.close()


def test_an_answer_with_another_state_is_refused(
    browser: Any,
    servers: dict[str, Any],
) -> None:
    """A code arriving without this tab's launch (a forged or replayed redirect) is not used."""
    context = browser.new_context()
    page = context.new_page()
    try:
        before = len(servers["state"].token_requests)
        page.goto(f"{servers['service']}/apps/activity/?lang=en&code=stolen&state=forged")
        page.wait_for_selector("#status.error")
        assert "does not belong to this launch" in page.locator("#status").inner_text()
        assert len(servers["state"].token_requests) == before
    finally:
        context.close()


def test_a_server_without_pkce_s256_is_not_launched(
    browser: Any,
    servers: dict[str, Any],
    demo_fhir: str,
) -> None:
    """HAPI (open, no smart-configuration) named as iss with a launch: no authorization request
    is made, the app says it could not sign in."""
    context = browser.new_context()
    page = context.new_page()
    try:
        before = len(servers["state"].authorize_requests)
        page.goto(
            f"{servers['service']}/apps/activity/?lang=en&"
            + urlencode({"iss": demo_fhir, "launch": "x"})
        )
        page.wait_for_selector("#status.error")
        assert len(servers["state"].authorize_requests) == before
    finally:
        context.close()

"""The same client authentication on the hook endpoint, and the SSRF guard: a fhirServer not
listed for the client is never contacted; the call is answered from the prefetch it carries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask

from cds_service.auth import unauthorized_body
from tests.fixtures.jwt import ClientSigner, JwksServer, bearer
from tests.security.conftest import BASE_URL, FEEDBACK_PATH
from tests.service import samples

HOOK_PATH = "/cds-services/rheum-order-sign"

# An order without any target drug: the service answers 200 without cards and fetches nothing.
OTHER_DRUG_ORDER = {
    "resourceType": "MedicationRequest",
    "id": "draft-1",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": "Patient/p-1"},
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "161"}],
        "text": "paracetamol 500 mg tablet",
    },
}


def hook_body(fhir_server: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/1",
            "patientId": "p-1",
            "draftOrders": {
                "resourceType": "Bundle",
                "entry": [{"resource": OTHER_DRUG_ORDER}],
            },
        },
    }
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
        body["fhirAuthorization"] = {
            "access_token": "opaque",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "cds",
        }
    return body


def _findings(response: Any) -> set[str]:
    return {
        f["id"]
        for card in response.json["cards"]
        for f in card["extension"]["org.rheum-cds"].get("findings", [])
    }


def test_unlisted_fhir_server_is_never_contacted_and_the_prefetch_answers(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    with JwksServer() as internal:  # e.g. an internal address an attacker names
        body = samples.order_sign(
            prefetch=samples.full_prefetch(), fhir_server=internal.base + "/fhir"
        )
        response = app.test_client().post(
            HOOK_PATH, json=body, headers=bearer(signers["RS384"], BASE_URL + HOOK_PATH)
        )
        assert response.status_code == 200, response.data
        assert response.json["cards"]  # the tofacitinib order is reviewed from the prefetch
        assert internal.connections == 0


def test_unlisted_fhir_server_missing_data_is_stated_as_information(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    with JwksServer() as internal:
        prefetch = samples.full_prefetch()
        del prefetch["observations"]  # not sent: it would have to be fetched
        body = samples.order_sign(prefetch=prefetch, fhir_server=internal.base + "/fhir")
        headers = bearer(signers["RS384"], BASE_URL + HOOK_PATH)
        headers["Accept-Language"] = "ja"
        response = app.test_client().post(HOOK_PATH, json=body, headers=headers)
        assert response.status_code == 200, response.data
        assert internal.connections == 0
    text = "\n".join(c["detail"] for c in response.json["cards"])
    assert "FHIRサーバーへの接続が許可されていません" in text  # "not assessed" in Japanese
    assert "not allowed" not in text  # said in the card's language


def test_unlisted_fhir_server_and_no_prefetch_is_412_without_contacting_it(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    with JwksServer() as internal:
        body = samples.order_sign(fhir_server=internal.base + "/fhir")
        response = app.test_client().post(
            HOOK_PATH, json=body, headers=bearer(signers["RS384"], BASE_URL + HOOK_PATH)
        )
        assert response.status_code == 412
        assert response.json["resourceType"] == "OperationOutcome"
        assert internal.connections == 0


def test_hook_accepts_a_valid_token_for_its_own_url(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    response = app.test_client().post(
        HOOK_PATH,
        json=hook_body("https://fhir.example.test/r4"),
        headers=bearer(signers["ES384"], BASE_URL + HOOK_PATH),
    )
    assert response.status_code == 200, response.data
    assert response.json == {"cards": []}


def test_hook_refuses_a_token_for_the_feedback_url(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    response = app.test_client().post(
        HOOK_PATH,
        json=hook_body(None),
        headers=bearer(signers["ES384"], BASE_URL + FEEDBACK_PATH),
    )
    assert response.status_code == 401


def test_hook_without_token_is_a_401_operation_outcome_with_cors(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(cors_origins=("https://sandbox.test",))
    response = app.test_client().post(
        HOOK_PATH, json=hook_body(None), headers={"Origin": "https://sandbox.test"}
    )
    assert response.status_code == 401
    assert response.json == unauthorized_body()
    assert "token" not in response.get_data(as_text=True)  # no reason given
    assert response.headers["Access-Control-Allow-Origin"] == "https://sandbox.test"


def test_replayed_token_on_the_hook_is_refused(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    headers = bearer(signers["RS256"], BASE_URL + HOOK_PATH)
    client = app.test_client()
    assert client.post(HOOK_PATH, json=hook_body(None), headers=headers).status_code == 200
    assert client.post(HOOK_PATH, json=hook_body(None), headers=headers).status_code == 401

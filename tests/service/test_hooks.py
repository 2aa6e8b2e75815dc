"""Hook endpoints end to end (stages 1-7) with the real engine, renderer and storage.

FHIR faults come from local fault servers; the service's own functions are never mocked.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.config import Config
from tests.fixtures.jwt import ClientSigner, JwksServer, bearer, trusted_client
from tests.service import samples

DEADLINE_MS = 1500


def _post(app, service: str, body: Any, headers: dict[str, str] | None = None):
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    started = time.monotonic()
    response = app.test_client().post(
        f"/cds-services/{service}",
        data=raw,
        headers=headers or {},
        content_type="application/json",
        buffered=True,  # closes the response: stage 7 (audit) runs before we look
    )
    return response, time.monotonic() - started


def test_no_target_drug_answers_no_cards_and_fetches_nothing(app, fault_server, cds_schema):
    body = samples.order_sign(samples.PARACETAMOL, fhir_server=fault_server.base_url)
    response, _ = _post(app, "rheum-order-sign", body)
    assert response.status_code == 200
    assert response.json == {"cards": []}
    cds_schema("CardsResponse").validate(response.json)
    assert fault_server.requests == []


def test_order_sign_with_full_prefetch_answers_cards_without_fetching(
    app, fault_server, cds_schema
):
    body = samples.order_sign(prefetch=samples.full_prefetch(), fhir_server=fault_server.base_url)
    response, _ = _post(app, "rheum-order-sign", body)
    assert response.status_code == 200, response.json
    cds_schema("CardsResponse").validate(response.json)
    assert response.json["cards"], "a tofacitinib order for a 70-year-old has something to say"
    assert fault_server.requests == []


def test_order_select_and_patient_view_answer_cards(app, cds_schema):
    select = samples.order_select(prefetch=samples.full_prefetch())
    response, _ = _post(app, "rheum-order-select", select)
    assert response.status_code == 200, response.json
    cds_schema("CardsResponse").validate(response.json)
    view = samples.patient_view(prefetch=samples.full_prefetch())
    response, _ = _post(app, "rheum-patient-view", view)
    assert response.status_code == 200, response.json
    cds_schema("CardsResponse").validate(response.json)


def test_target_order_without_any_data_source_is_412(app, cds_schema):
    response, _ = _post(app, "rheum-order-sign", samples.order_sign())
    assert response.status_code == 412
    cds_schema("OperationOutcome").validate(response.json)


FAULTS = ["slow", "500", "429-long", "html", "truncated", "operation-outcome", "endless-next"]


@pytest.mark.parametrize("behaviour", FAULTS)
def test_fhir_fault_still_answers_200_within_deadline(
    make_app, fault_server, cds_schema, behaviour
):
    app = make_app(deadline_ms=DEADLINE_MS)
    fault_server.data = {"Patient": [copy.deepcopy(samples.PATIENT)]}
    for kind in ("Condition", "Observation", "MedicationRequest", "Immunization"):
        fault_server.behave(kind, behaviour)
    body = samples.order_sign(fhir_server=fault_server.base_url)
    response, elapsed = _post(app, "rheum-order-sign", body)
    assert response.status_code == 200, response.json
    assert elapsed < DEADLINE_MS / 1000 * 1.1
    cds_schema("CardsResponse").validate(response.json)


def test_audit_row_and_metrics_after_the_answer(app, fault_server):
    fault_server.data = {"Patient": [copy.deepcopy(samples.PATIENT)]}
    fault_server.behave("Observation", "500")
    body = samples.order_sign(fhir_server=fault_server.base_url)
    response, _ = _post(app, "rheum-order-sign", body)
    assert response.status_code == 200
    rows = app.extensions["rheum_cds.runtime"].storage.audit_rows()
    assert len(rows) == 1
    row = rows[0]
    assert row["service_id"] == "rheum-order-sign" and row["status"] == 200
    assert row["fhir_calls"] == 5
    assert "observations" in row["unavailable"]
    assert samples.PATIENT_ID not in str(row)  # only a keyed hash of the patient id
    assert row["patient_hash"] and len(row["patient_hash"]) == 64
    exposition = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'rheum_cds_fhir_fetches_total{outcome="http_error"}' in exposition


def test_signed_call_is_accepted_and_an_unsigned_one_refused():
    with JwksServer() as jwks:
        signer = ClientSigner.generate("ES384", issuer="https://ehr.test", kid="k1")
        jwks.publish("/jwks.json", signer)
        client = trusted_client(signer, [jwks.url("/jwks.json")])
        config = Config(base_url="http://cds.test", clients=(client,), storage_url="sqlite://")
        from cds_service.app import create_app

        app = create_app(config)
        url = config.base_url + "/cds-services/rheum-order-sign"
        body = samples.order_sign(prefetch=samples.full_prefetch())
        response, _ = _post(app, "rheum-order-sign", body, bearer(signer, url))
        assert response.status_code == 200, response.data
        response, _ = _post(app, "rheum-order-sign", body)
        assert response.status_code == 401
        assert response.json["resourceType"] == "OperationOutcome"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# ---------------------------------------------------------------- never a 500 for client input

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
TRICKY = st.sampled_from(
    [
        "2026-02-30",
        "2026",
        "2026-11",
        "20261123",
        "2026-11-23T25:00:00Z",
        "",
        "\u200b",
        "T",
        -1,
        0,
        1e308,
        -1e308,
        10**18,
        True,
        [None],
        [{}],
        {"value": "5", "unit": "mg/dL"},
        {"value": 1e308, "code": "mg"},
        {"coding": [{"system": None, "code": 5}]},
        {"coding": "x"},
        {"text": None},
        [{"coding": [{}]}],
        {"start": "x", "end": 3},
        {"reference": "Patient/"},
        {"resourceType": "Bundle", "entry": [{"resource": None}]},
        {"resourceType": "OperationOutcome"},
        {"resourceType": 5},
        {"resourceType": "Patient"},
        {"resourceType": "Bundle", "link": [{"relation": "next", "url": "http://x/fhir?p=2"}]},
    ]
)
VALUES = JSON | TRICKY
PATHS = [
    ("hook",),
    ("hookInstance",),
    ("context",),
    ("context", "patientId"),
    ("context", "draftOrders"),
    ("context", "draftOrders", "entry"),
    ("context", "draftOrders", "entry", 0),
    ("context", "draftOrders", "entry", 0, "resource"),
    ("context", "draftOrders", "entry", 0, "resource", "medicationCodeableConcept"),
    ("context", "draftOrders", "entry", 0, "resource", "dosageInstruction"),
    ("context", "draftOrders", "entry", 0, "resource", "dosageInstruction", 0, "doseAndRate"),
    ("context", "draftOrders", "entry", 0, "resource", "dosageInstruction", 0, "timing"),
    ("context", "draftOrders", "entry", 0, "resource", "reasonCode"),
    ("prefetch",),
    ("prefetch", "patient"),
    ("prefetch", "patient", "birthDate"),
    ("prefetch", "observations"),
    ("prefetch", "observations", "entry", 0, "resource"),
    ("prefetch", "observations", "entry", 0, "resource", "valueQuantity"),
    ("prefetch", "observations", "entry", 0, "resource", "effectiveDateTime"),
    ("prefetch", "conditions", "entry", 0, "resource", "code"),
    ("prefetch", "conditions", "entry", 0, "resource", "onsetDateTime"),
    ("fhirServer",),
    ("fhirAuthorization",),
]


def _set(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    node = body
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return body
    try:
        node[path[-1]] = value
    except (IndexError, TypeError):
        pass
    return body


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(PATHS),
    value=VALUES,
    service=st.sampled_from(["rheum-order-sign", "rheum-order-select", "rheum-patient-view"]),
)
def test_no_client_input_gets_a_500(app, path, value, service):
    base = {
        "rheum-order-sign": samples.order_sign,
        "rheum-order-select": samples.order_select,
        "rheum-patient-view": samples.patient_view,
    }[service](prefetch=samples.full_prefetch())
    body = _set(base, path, value)
    response, _ = _post(app, service, body)
    assert response.status_code in (200, 400, 401, 412), (path, value, response.json)


def test_feedback_on_issued_cards_round_trip(app, cds_schema):
    """A card answered by a hook, then CDS Hooks 2.0 feedback on it (idempotent)."""
    body = samples.order_sign(prefetch=samples.full_prefetch())
    cards = _post(app, "rheum-order-sign", body)[0].json["cards"]
    card = next(c for c in cards if c.get("overrideReasons"))
    reason = card["overrideReasons"][0]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": reason, "userComment": "discussed"},
                "outcomeTimestamp": "2026-11-23T10:15:02.123Z",
            }
        ]
    }
    cds_schema("FeedbackRequest").validate(feedback)
    client = app.test_client()
    url = "/cds-services/rheum-order-sign/feedback"
    first = client.post(url, json=feedback)
    assert first.status_code == 200, first.json
    again = client.post(url, json=feedback)
    assert again.status_code == 200 and again.json["duplicates"] == 1
    bad = client.post(url, json={"feedback": [{"card": card["uuid"], "outcome": "maybe"}]})
    assert bad.status_code == 400
    cds_schema("OperationOutcome").validate(bad.json)

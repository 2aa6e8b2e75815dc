"""Stage 2: every bad input class answers 4xx naming the member; real-world shapes pass."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from cds_service.config import Config, TrustedClient
from cds_service.outcome import diagnostics
from cds_service.request import choose_language, parse_hook_request
from tests.service import samples

CONFIG = Config(allow_unsigned=True, base_url="http://localhost:8080")


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of body with the member at dotted `path` set (or removed when value is ...)."""
    out = copy.deepcopy(body)
    node = out
    *parents, last = path.split(".")
    for name in parents:
        node = node[name]
    if value is ...:
        node.pop(last, None)
    else:
        node[last] = value
    return out


SIGN = samples.order_sign()
SELECT = samples.order_select()
VIEW = samples.patient_view()

BAD = [
    ("rheum-order-sign", b"", "body"),
    ("rheum-order-sign", b"{", "body"),
    ("rheum-order-sign", b"<html>hello</html>", "body"),
    ("rheum-order-sign", b"[1, 2]", "body"),
    ("rheum-order-sign", b'"order-sign"', "body"),
    ("rheum-order-sign", _with(SIGN, "hook", ...), "hook"),
    ("rheum-order-sign", _with(SIGN, "hook", 7), "hook"),
    ("rheum-order-sign", _with(SIGN, "hook", "patient-view"), "hook"),
    ("rheum-patient-view", SIGN, "hook"),
    ("rheum-order-sign", _with(SIGN, "hookInstance", ...), "hookInstance"),
    ("rheum-order-sign", _with(SIGN, "hookInstance", ""), "hookInstance"),
    ("rheum-order-sign", _with(SIGN, "context", ...), "context"),
    ("rheum-order-sign", _with(SIGN, "context", ["x"]), "context"),
    ("rheum-order-sign", _with(SIGN, "context.patientId", ...), "context.patientId"),
    ("rheum-order-sign", _with(SIGN, "context.patientId", 12), "context.patientId"),
    ("rheum-order-sign", _with(SIGN, "context.patientId", "Jane Doe"), "context.patientId"),
    ("rheum-order-sign", _with(SIGN, "context.patientId", "1&_include=*"), "context.patientId"),
    ("rheum-order-sign", _with(SIGN, "context.draftOrders", ...), "context.draftOrders"),
    ("rheum-order-sign", _with(SIGN, "context.draftOrders", None), "context.draftOrders"),
    ("rheum-order-sign", _with(SIGN, "context.draftOrders", "tofacitinib"), "context.draftOrders"),
    (
        "rheum-order-sign",
        _with(SIGN, "context.draftOrders", {"resourceType": "Bundle", "entry": {"a": 1}}),
        "context.draftOrders.entry",
    ),
    (
        "rheum-order-sign",
        _with(SIGN, "context.draftOrders", {"resourceType": "Bundle", "entry": [3]}),
        "context.draftOrders.entry[0]",
    ),
    (
        "rheum-order-sign",
        _with(SIGN, "context.draftOrders", {"entry": [{"resource": "MedicationRequest"}]}),
        "context.draftOrders.entry[0].resource",
    ),
    ("rheum-order-select", _with(SELECT, "context.selections", ...), "context.selections"),
    ("rheum-order-select", _with(SELECT, "context.selections", "x"), "context.selections"),
    ("rheum-order-select", _with(SELECT, "context.selections", [1]), "context.selections[0]"),
    ("rheum-order-select", _with(SELECT, "context.draftOrders", ...), "context.draftOrders"),
    ("rheum-patient-view", _with(VIEW, "context.patientId", ...), "context.patientId"),
    ("rheum-order-sign", _with(SIGN, "prefetch", [1]), "prefetch"),
    ("rheum-order-sign", _with(SIGN, "prefetch", "none"), "prefetch"),
    ("rheum-order-sign", _with(SIGN, "fhirAuthorization", "Bearer x"), "fhirAuthorization"),
    (
        "rheum-order-sign",
        _with(SIGN, "fhirAuthorization", {"access_token": 5}),
        "fhirAuthorization.access_token",
    ),
    ("rheum-order-sign", _with(SIGN, "fhirServer", 42), "fhirServer"),
    ("rheum-order-sign", _with(SIGN, "fhirServer", "ftp://files.example/fhir"), "fhirServer"),
]


@pytest.mark.parametrize(("service", "body", "member"), BAD)
def test_bad_request_answers_400_naming_the_member(app, cds_schema, service, body, member):
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    response = app.test_client().post(f"/cds-services/{service}", data=raw, buffered=True)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    cds_schema("OperationOutcome").validate(response.json)
    assert response.json["issue"][0]["expression"] == [member]
    assert member in diagnostics(response.json)
    assert "Jane" not in response.get_data(as_text=True)  # never echo values (PHI)


def test_unknown_service_is_404_json(app, cds_schema):
    response = app.test_client().post(
        "/cds-services/no-such-service", data=orjson.dumps(SIGN), buffered=True
    )
    assert response.status_code == 404
    cds_schema("OperationOutcome").validate(response.json)


def test_body_over_the_configured_size_is_413(make_app, cds_schema):
    app = make_app(max_body_bytes=2000)
    body = samples.order_sign(prefetch={"pad": "x" * 5000})
    response = app.test_client().post(
        "/cds-services/rheum-order-sign", data=orjson.dumps(body), buffered=True
    )
    assert response.status_code == 413
    cds_schema("OperationOutcome").validate(response.json)
    assert response.json["issue"][0]["expression"] == ["body"]


def test_wrong_method_is_json_405(app, cds_schema):
    response = app.test_client().get("/cds-services/rheum-order-sign")
    assert response.status_code == 405
    cds_schema("OperationOutcome").validate(response.json)


def test_fhir_server_not_allowed_and_no_prefetch_is_412_without_contacting_it(app):
    # unsigned mode allows loopback and configured servers only; 203.0.113.0/24 is TEST-NET-3
    body = samples.order_sign(fhir_server="http://203.0.113.7/fhir")
    response = app.test_client().post(
        "/cds-services/rheum-order-sign", data=orjson.dumps(body), buffered=True
    )
    assert response.status_code == 412
    assert response.json["resourceType"] == "OperationOutcome"


def test_fhir_server_not_allowed_with_full_prefetch_is_answered(app):
    body = samples.order_sign(
        prefetch=samples.full_prefetch(), fhir_server="https://fhir.example.org/r4"
    )
    response = app.test_client().post(
        "/cds-services/rheum-order-sign", data=orjson.dumps(body), buffered=True
    )
    assert response.status_code == 200
    assert response.json["cards"]
    assert "not allowed" not in orjson.dumps(response.json).decode()  # nothing was missing


def _parse(body: dict[str, Any], service: str = "rheum-order-sign", **kw: Any):
    return parse_hook_request(
        service,
        orjson.dumps(body),
        kw.pop("headers", {}),
        kw.pop("config", CONFIG),
        kw.pop("client", None),
    )


def test_draft_orders_in_the_shapes_real_ehrs_send():
    stu3 = {
        "resourceType": "MedicationOrder",
        "status": "draft",
        "medicationCodeableConcept": {"text": "baricitinib 4 mg"},
        "dosageInstruction": [{"doseQuantity": {"value": 4, "unit": "mg"}}],
    }
    no_id = copy.deepcopy(samples.TOFACITINIB)
    del no_id["id"]
    no_id["status"] = "active"
    no_id["dosageInstruction"][0]["doseAndRate"] = {"doseQuantity": {"value": 5, "unit": "mg"}}
    service_request = {"resourceType": "ServiceRequest", "status": "draft", "intent": "order"}
    bundle = {  # no type, absolute fullUrl, one entry without resource
        "resourceType": "Bundle",
        "entry": [
            {"fullUrl": "urn:uuid:6d3e0c38-0c2a-4c6e-9d10-3a1b7e1b3a11", "resource": no_id},
            {"fullUrl": "http://ehr.example/fhir/MedicationOrder/1", "resource": stu3},
            {"resource": service_request},
            {"fullUrl": "http://ehr.example/fhir/Basic/2"},
        ],
    }
    parsed = _parse(_with(SIGN, "context.draftOrders", bundle))
    assert [o["resourceType"] for o in parsed.draft_orders] == [
        "MedicationRequest",
        "MedicationOrder",
        "ServiceRequest",
    ]
    as_list = _parse(_with(SIGN, "context.draftOrders", [no_id, {"resource": stu3}]))
    assert len(as_list.draft_orders) == 2
    single = _parse(_with(SIGN, "context.draftOrders", no_id))
    assert single.draft_orders == [no_id]
    typed = _parse(
        _with(
            SIGN,
            "context.draftOrders",
            {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": no_id}]},
        )
    )
    assert typed.draft_orders == [no_id]


def test_legacy_and_sloppy_members_are_accepted():
    body = copy.deepcopy(SIGN)
    body["hookInstance"] = "instance-1"  # not a UUID
    body["context"]["patientId"] = "Patient/123"
    body["context"].pop("userId")
    body["context"]["encounterId"] = None
    body["user"] = "Practitioner/1"  # pre-1.0 members
    body["patient"] = "123"
    body["extension"] = {"com.example.ehr": {"x": 1}}
    body["fhirAuthorization"] = None
    body["prefetch"] = None
    parsed = _parse(body)
    assert parsed.patient_id == "123"
    assert parsed.hook_instance == "instance-1"
    assert parsed.prefetch == {}
    assert parsed.access_token is None

    legacy = copy.deepcopy(SIGN)
    del legacy["context"]["patientId"]
    legacy["patient"] = "Patient/77"
    assert _parse(legacy).patient_id == "77"

    no_token = _with(SIGN, "fhirAuthorization", {"token_type": "Bearer", "scope": ""})
    assert _parse(no_token).access_token is None


@pytest.mark.parametrize(
    ("server", "host", "expected"),
    [
        (None, None, None),
        ("{{fhirServer}}", None, None),
        ("", None, None),
        ("http://127.0.0.1:9999/fhir/", None, "http://127.0.0.1:9999/fhir"),
        ("localhost:9999/fhir", None, "http://localhost:9999/fhir"),
        ("localhost:8080", "localhost:8080", None),  # the service itself: never called
        ("http://127.0.0.1:5000/fhir", "localhost:5000", None),  # itself under another name
        ("http://localhost:8080/fhir", None, None),  # the configured base_url's host:port
    ],
)
def test_fhir_server_values(server, host, expected):
    body = copy.deepcopy(SIGN)
    if server is not None:
        body["fhirServer"] = server
    headers = {"Host": host} if host else {}
    assert _parse(body, headers=headers).fhir_server == expected


def test_signed_client_may_name_only_its_own_servers():
    client = TrustedClient(issuer="https://ehr.example", fhir_servers=("https://ehr.example/r4",))
    config = Config(clients=(client,))
    ok = _parse(_with(SIGN, "fhirServer", "https://EHR.example/r4/"), config=config, client=client)
    assert ok.fhir_server == "https://ehr.example/r4"  # as the URL policy reads it
    assert ok.client_id == "https://ehr.example"
    for other in ("https://ehr.example/other", "http://127.0.0.1:8081/fhir"):
        refused = _parse(_with(SIGN, "fhirServer", other), config=config, client=client)
        assert refused.fhir_server is None and refused.fhir_server_refused
        assert refused.access_token is None  # never sent anywhere
    # in unsigned mode a signed client may name what an unsigned request may: loopback
    unsigned = Config(clients=(client,), allow_unsigned=True)
    local = _parse(
        _with(SIGN, "fhirServer", "http://127.0.0.1:8081/fhir"), config=unsigned, client=client
    )
    assert local.fhir_server == "http://127.0.0.1:8081/fhir" and not local.fhir_server_refused


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("ja-JP,en;q=0.5", "ja"),
        ("fr-CH, fr;q=0.9, zh-Hant-TW;q=0.8", "zh-TW"),
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("en;q=0.2, ja;q=0.9", "ja"),
        ("de", "en"),
        ("*", "en"),
    ],
)
def test_language_from_accept_language(header, expected):
    assert choose_language(header, "en") == expected
    body = _parse(SIGN, headers={"Accept-Language": header} if header else {})
    assert body.language == expected

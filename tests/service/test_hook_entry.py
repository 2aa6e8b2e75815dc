"""The hook route's own WSGI entry (routes/hooks.install_fast_path) answers exactly as Flask's
request handling would: same status, headers (request id, CORS, Vary) and body; and a call
that fails inside is answered by the app's error handlers (a JSON 500 with the caller's
request id), as any view's failure is."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder

from cds_service.logs import JsonFormatter
from tests.service import samples

PATH = "/cds-services/rheum-order-sign"
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _call(wsgi: Callable[..., Any], body: bytes, headers: dict[str, str]) -> tuple[str, Any, bytes]:
    environ = EnvironBuilder(
        path=PATH, method="POST", data=body, headers=headers, content_type="application/json"
    ).get_environ()
    started: list[Any] = []
    chunks = wsgi(environ, lambda status, hdrs, exc_info=None: started.append((status, hdrs)))
    try:
        out = b"".join(chunks)
    finally:
        chunks.close()
    status, hdrs = started[0]
    return status, hdrs, UUID.sub(b"U", out)


@pytest.mark.parametrize(
    "body, headers",
    [
        (orjson.dumps(samples.order_sign(prefetch=samples.full_prefetch())), {}),
        (
            orjson.dumps(samples.order_sign(prefetch=samples.full_prefetch())),
            {"Origin": "https://ehr.example", "X-Request-Id": "req-7"},
        ),
        (orjson.dumps(samples.order_sign(samples.PARACETAMOL)), {"X-Request-Id": "bad id!"}),
        (b"[1]", {"Origin": "https://other.example"}),
        (b"", {}),
        (b"x" * 3000, {}),
    ],
)
def test_hook_answers_as_flask_would(
    make_app: Callable[..., Flask], body: bytes, headers: dict[str, str]
) -> None:
    app = make_app(cors_origins=("https://ehr.example",), max_body_bytes=2000)
    entry = app.wsgi_app
    assert entry != app.__class__.wsgi_app.__get__(app)  # the hook route's own entry is in front

    def flask_alone(environ: dict[str, Any], start_response: Any) -> Any:
        return Flask.wsgi_app(app, environ, start_response)

    ours, theirs = _call(entry, body, headers), _call(flask_alone, body, headers)
    assert ours[0] == theirs[0]
    assert _ids(ours[1]) == _ids(theirs[1])
    assert ours[2] == theirs[2]
    sent = headers.get("X-Request-Id", "")
    for _, answered, _ in (ours, theirs):
        rid = dict(answered)["X-Request-Id"]
        assert rid == sent if sent == "req-7" else re.fullmatch("[0-9a-f]{32}", rid)


def _ids(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers in order, a random request id written as R."""
    return [(k, "R" if k == "X-Request-Id" and len(v) == 32 else v) for k, v in headers]


class _BrokenConnection(io.RawIOBase):
    """A request body whose connection fails after the headers (what the WSGI server's
    input raises when the client goes away mid-body)."""

    def readable(self) -> bool:
        return True

    def readinto(self, _buffer: Any) -> int:
        raise ConnectionResetError("connection reset by peer")


def test_a_call_failing_inside_is_answered_by_the_app_error_handler(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(cors_origins=("https://ehr.example",))
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        response = client.post(
            PATH,
            headers={"X-Request-Id": "req-42", "Origin": "https://ehr.example"},
            content_type="application/json",
            environ_overrides={"wsgi.input": _BrokenConnection(), "CONTENT_LENGTH": "500"},
        )
    assert response.status_code == 500
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["diagnostics"] == "internal error; the request was not processed"
    assert response.headers["X-Request-Id"] == "req-42"
    assert response.headers["Access-Control-Allow-Origin"] == "https://ehr.example"
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    failure = [x for x in lines if x["msg"].startswith("unhandled ConnectionResetError")]
    assert failure and failure[0]["request_id"] == "req-42"
    access = [x for x in lines if x["logger"] == "rheum_cds.access"]
    assert [(a["route"], a["status"]) for a in access] == [("/cds-services/<service_id>", 500)]


def _http_count(status: str) -> float:
    from prometheus_client import REGISTRY

    value = REGISTRY.get_sample_value(
        "rheum_cds_http_requests_total",
        {"route": "/cds-services/<service_id>", "method": "POST", "status": status},
    )
    return value or 0.0


def test_a_call_is_counted_and_logged_with_its_request_id_once_answered(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    body = orjson.dumps(samples.order_sign(prefetch=samples.full_prefetch()))
    environ = EnvironBuilder(
        path=PATH,
        method="POST",
        data=body,
        headers={"X-Request-Id": "req-9"},
        content_type="application/json",
    ).get_environ()
    before = _http_count("200")
    with caplog.at_level(logging.INFO):
        chunks = app.wsgi_app(environ, lambda status, hdrs, exc_info=None: None)
        answer = b"".join(chunks)
        chunks.close()  # the server closes the answer once it is sent
    assert orjson.loads(answer)["cards"]
    assert _http_count("200") == before + 1
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    access = [x for x in lines if x["logger"] == "rheum_cds.access"]
    assert len(access) == 1
    line = access[0]
    assert (line["route"], line["method"], line["status"]) == (
        "/cds-services/<service_id>",
        "POST",
        200,
    )
    assert line["request_id"] == "req-9"
    assert isinstance(line["ms"], float) and line["ms"] >= 0


def test_a_call_without_a_safe_request_id_gets_a_new_random_one(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    ids = set()
    for sent in ({}, {"X-Request-Id": "bad id!"}, {}):
        _, headers, _ = _call(app.wsgi_app, b"[1]", sent)
        rid = dict(headers)["X-Request-Id"]
        assert re.fullmatch("[0-9a-f]{32}", rid)  # 128 random bits
        ids.add(rid)
    assert len(ids) == 3

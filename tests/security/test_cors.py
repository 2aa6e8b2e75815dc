"""CORS: browsers (the CDS Hooks sandbox, web EHRs) must be able to preflight and read every
CDS answer, errors included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.security.conftest import FEEDBACK_PATH

ORIGIN = "https://sandbox.cds-hooks.org"


def preflight(app: Flask, path: str, origin: str = ORIGIN) -> Any:
    return app.test_client().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


@pytest.mark.parametrize(
    "path",
    [
        "/cds-services",
        "/cds-services/rheum-order-sign",
        FEEDBACK_PATH,
        "/cds-services/rheum-patient-view/feedback",
    ],
)
def test_preflight_names_authorization_and_content_type(
    make_app: Callable[..., Flask], path: str
) -> None:
    response = preflight(make_app(cors_origins=(ORIGIN,)), path)
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"POST", "GET"} <= methods


def test_configured_origins_are_echoed_and_others_get_no_cors(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(cors_origins=(ORIGIN, "https://ehr.example.test"))
    ok = preflight(app, FEEDBACK_PATH)
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in ok.headers.get("Vary", "")
    other = preflight(app, FEEDBACK_PATH, origin="https://evil.test")
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_origin_is_allowed_by_default(app: Flask) -> None:
    response = preflight(app, FEEDBACK_PATH)
    assert "Access-Control-Allow-Origin" not in response.headers
    call = app.test_client().get("/cds-services", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in call.headers


def test_a_wildcard_must_be_configured_explicitly(make_app: Callable[..., Flask]) -> None:
    response = preflight(make_app(cors_origins=("*",)), FEEDBACK_PATH)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_error_responses_carry_cors_headers(make_app: Callable[..., Flask]) -> None:
    app = make_app(cors_origins=(ORIGIN,))

    @app.get("/boom")  # an unhandled exception in a view: Flask's 500 path
    def boom() -> str:
        raise RuntimeError("broken on purpose")

    client = app.test_client()
    h = {"Origin": ORIGIN}
    answers = {
        401: client.post(FEEDBACK_PATH, json={}, headers=h),
        404: client.post("/cds-services/no-such-service/feedback", json={}, headers=h),
        500: client.get("/boom", headers=h),
    }
    unsigned = make_app(allow_unsigned=True, cors_origins=(ORIGIN,)).test_client()
    answers[400] = unsigned.post(FEEDBACK_PATH, data=b"{not json", headers=h)
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers.get("Access-Control-Allow-Origin") == ORIGIN, status


def test_storage_down_503_carries_cors(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        allow_unsigned=True,
        storage_url="postgresql://nobody@127.0.0.1:1/none",
        cors_origins=(ORIGIN,),
    )
    response = app.test_client().post(
        FEEDBACK_PATH,
        json={
            "feedback": [
                {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-23T10:00:00Z"}
            ]
        },
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 503
    assert response.headers.get("Access-Control-Allow-Origin") == ORIGIN


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),  # the sandbox built and served on the same machine
        ("http://127.0.0.1:8081", True),
        ("http://[::1]:8081", True),
        ("http://localhost", True),
        ("https://localhost:8443", True),
        ("http://localhost.evil.example", False),
        ("http://127.0.0.1.nip.io:3000", False),
        ("http://user@localhost:3000", False),
        ("http://localhost:3000/path", False),
        ("file://localhost", False),
        ("https://evil.example", False),
        ("null", False),
    ],
)
def test_sandbox_mode_allows_pages_on_loopback(
    make_app: Callable[..., Flask], origin: str, allowed: bool
) -> None:
    """A self-hosted sandbox page (served from localhost) can read the answers in sandbox mode;
    outside sandbox mode only the configured origins can."""
    sandbox = preflight(make_app(cors_origins=(ORIGIN,), sandbox=True), "/cds-services", origin)
    assert (sandbox.headers.get("Access-Control-Allow-Origin") == origin) is allowed
    plain = preflight(make_app(cors_origins=(ORIGIN,)), "/cds-services", origin)
    assert "Access-Control-Allow-Origin" not in plain.headers

"""Safe configuration (issue 12, finding 9): plain http to a non-loopback JWKS or FHIR server
is refused unless allowed explicitly; /metrics optionally behind a token; unsigned mode binds
loopback only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
from flask import Flask

from cds_service.config import ConfigError, config_from_dict


def _client(**over: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "issuer": "https://ehr.example.test",
        "jwks_url": "https://ehr.example.test/jwks.json",
        "fhir_servers": ["https://fhir.example.test/r4"],
    }
    entry.update(over)
    return entry


@pytest.mark.parametrize(
    "over",
    [
        {"jwks_url": "http://ehr.example.test/jwks.json"},
        {"fhir_servers": ["http://fhir.example.test/r4"]},
        {"jku_allowed": ["http://10.0.0.5/jwks.json"]},
    ],
)
def test_plain_http_to_another_host_is_refused_at_start(over: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="plain http"):
        config_from_dict({"clients": [_client(**over)]}, env={})
    allowed = config_from_dict(
        {"service": {"allow_insecure_http": True}, "clients": [_client(**over)]}, env={}
    )
    assert allowed.allow_insecure_http


def test_plain_http_on_loopback_is_accepted() -> None:
    cfg = config_from_dict(
        {
            "clients": [
                _client(
                    jwks_url="http://127.0.0.1:9999/jwks.json",
                    fhir_servers=["http://localhost:8090/fhir"],
                )
            ]
        },
        env={},
    )
    assert cfg.clients[0].fhir_servers == ("http://localhost:8090/fhir",)


def test_defaults_allow_no_cors_origin() -> None:
    assert config_from_dict({}, env={}).cors_origins == ()


def test_metrics_behind_a_token(make_app: Callable[..., Flask]) -> None:
    open_app = make_app()
    assert open_app.test_client().get("/metrics").status_code == 200
    app = make_app(metrics_token="scrape-me")
    client = app.test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.get_json()["resourceType"] == "OperationOutcome"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200
    assert b"rheum_cds" in ok.data


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_unsigned_mode_refuses_a_non_loopback_bind(host: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cds_service",
            "serve",
            "--allow-unsigned",
            "--host",
            host,
            "--port",
            "18555",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr

"""Analytics are for the operator: a configured token, or loopback only when none is set."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from cds_service.config import ConfigError, load_config
from cds_service.outcome import diagnostics

PATHS = ("/analytics/feedback.json", "/analytics/feedback")
TOKEN = "s3cret-analytics-token-\u00e9"


def basic(password: str, user: str = "operator") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def sent(value: str) -> str:
    """A header value as a client sends it (UTF-8 bytes), as WSGI hands it over (latin-1)."""
    return value.encode("utf-8").decode("latin-1")


@pytest.mark.parametrize("path", PATHS)
def test_with_a_token_the_token_is_required(path: str, make_app: Callable[..., Flask]) -> None:
    client = make_app(analytics_token=TOKEN).test_client()
    remote = {"REMOTE_ADDR": "10.20.30.40"}
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": sent(f"Bearer {TOKEN}x")},
        {"Authorization": sent(TOKEN)},
        {"Authorization": basic("wrong")},
        {"Authorization": "Basic !!!"},
    ):
        r = client.get(path, headers=headers)  # loopback does not exempt from the token
        assert r.status_code == 401, headers
        assert r.get_json()["resourceType"] == "OperationOutcome"  # no detail on why
        challenges = r.headers.getlist("WWW-Authenticate")
        assert any(c.startswith("Bearer") for c in challenges)
        assert any(c.startswith("Basic") for c in challenges)  # a browser asks for it
    for headers in (
        {"Authorization": sent(f"Bearer {TOKEN}")},
        {"Authorization": basic(TOKEN)},
        {"Authorization": sent(f"bearer {TOKEN}")},
    ):
        r = client.get(path, headers=headers, environ_base=remote)
        assert r.status_code == 200, headers


@pytest.mark.parametrize("path", PATHS)
def test_without_a_token_only_loopback_is_answered(
    path: str, make_app: Callable[..., Flask]
) -> None:
    client = make_app().test_client()
    assert client.get(path).status_code == 200  # the test client is 127.0.0.1, Host localhost
    assert client.get(path, environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get(path, base_url="http://127.0.0.1:8080").status_code == 200
    refused = [
        {"environ_base": {"REMOTE_ADDR": "10.0.0.7"}},
        {"environ_base": {"REMOTE_ADDR": "192.168.1.20"}},
        {"headers": {"X-Forwarded-For": "203.0.113.9"}},  # a proxy on this host relays it
        {"headers": {"Forwarded": "for=203.0.113.9"}},
        {"base_url": "http://attacker.example:8080"},  # DNS rebinding to 127.0.0.1
        {"headers": {"Origin": "https://attacker.example"}},  # a script on another site
        {"headers": {"Sec-Fetch-Site": "cross-site"}},
        {
            "headers": {"Authorization": "Bearer anything"},
            "environ_base": {"REMOTE_ADDR": "10.0.0.7"},
        },
    ]
    for kw in refused:
        r = client.get(path, **kw)
        assert r.status_code == 403, kw
        assert "analytics_token" in diagnostics(r.json)


def test_cds_clients_cannot_read_analytics_with_their_jwt(make_app: Callable[..., Flask]) -> None:
    """The hook JWT is not the analytics token (unsigned mode app, token configured)."""
    client = make_app(analytics_token=TOKEN).test_client()
    r = client.get(PATHS[0], headers={"Authorization": "Bearer eyJhbGciOiJFUzM4NCJ9.e30.sig"})
    assert r.status_code == 401


def test_token_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "rheum-cds.toml"
    path.write_text('[service]\nanalytics_token = "from-file"\n')
    assert load_config(path, env={}).analytics_token == "from-file"
    env = {"RHEUM_CDS_ANALYTICS_TOKEN": "from-env"}
    assert load_config(path, env=env).analytics_token == "from-env"
    assert load_config(env={}).analytics_token == ""
    path.write_text("[service]\nanalytics_token = 42\n")
    with pytest.raises(ConfigError, match="service.analytics_token"):
        load_config(path, env={})

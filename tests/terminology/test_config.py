"""`[terminology]` of the configuration: off by default, checked at start, secrets from the
environment."""

from __future__ import annotations

import pytest

from cds_service.config import ConfigError, config_from_dict


def test_off_by_default():
    assert not config_from_dict({}, env={}).terminology.enabled


def test_server_with_each_kind_of_auth():
    cfg = config_from_dict(
        {"terminology": {"url": "https://tx.example.org/fhir", "auth": "bearer", "token": "t"}},
        env={},
    ).terminology
    assert cfg.enabled and cfg.auth == "bearer" and cfg.refresh_hours == 24
    basic = {"url": "https://tx.example.org/fhir", "auth": "basic", "username": "u"}
    env = {"RHEUM_CDS_TERMINOLOGY_PASSWORD": "secret"}
    assert config_from_dict({"terminology": basic}, env=env).terminology.password == "secret"
    cc = {
        "url": "https://tx.example.org/fhir",
        "auth": "client_credentials",
        "token_url": "https://auth.example.org/token",
        "client_id": "rheum-cds",
    }
    env = {"RHEUM_CDS_TERMINOLOGY_CLIENT_SECRET": "s"}
    assert config_from_dict({"terminology": cc}, env=env).terminology.client_secret == "s"


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"url": "https://tx.example.org/fhir", "colour": "red"}, "terminology.colour"),
        ({"url": "https://tx.example.org/fhir", "auth": "kerberos"}, "terminology.auth"),
        ({"url": "https://tx.example.org/fhir", "auth": "bearer"}, "terminology.token"),
        ({"url": "https://tx.example.org/fhir", "auth": "basic", "username": "u"}, "password"),
        ({"url": "http://tx.example.org/fhir"}, "terminology.url"),  # plain http, not loopback
        ({"url": "https://user@tx.example.org/fhir"}, "terminology.url"),
        ({"url": "https://tx.example.org/fhir", "page_size": 0}, "page_size"),
        ({"url": "https://tx.example.org/fhir", "lookup": "yes"}, "terminology.lookup"),
        ({"url": "https://tx.example.org/fhir", "refresh_hours": True}, "refresh_hours"),
    ],
)
def test_invalid_settings_name_the_key(table, key):
    with pytest.raises(ConfigError, match=key):
        config_from_dict({"terminology": table}, env={})


def test_url_from_environment():
    env = {"RHEUM_CDS_TERMINOLOGY_URL": "http://127.0.0.1:8081/fhir"}
    assert config_from_dict({}, env=env).terminology.url == "http://127.0.0.1:8081/fhir"

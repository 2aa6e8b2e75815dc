"""The sandbox preset (`rheum-cds serve --sandbox`, `[service] sandbox = true`,
RHEUM_CDS_SANDBOX=1): what it trusts, allows and adds, and what it leaves as configured."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from cds_service.commands.serve import startup_notes
from cds_service.config import Config, config_from_dict, with_sandbox
from cds_service.presets import HERE as PRESETS

SANDBOX = "https://sandbox.cds-hooks.org"
PUBLISHED_JWKS = Path(__file__).resolve().parents[1] / "data" / "sandbox" / "sandbox-jwks.json"


def test_preset_trusts_the_sandbox_with_its_published_key_inline() -> None:
    cfg = config_from_dict({"service": {"sandbox": True}}, env={})
    assert cfg.sandbox and cfg.allow_unsigned
    [client] = [c for c in cfg.clients if c.issuer == SANDBOX]
    shipped = json.loads((PRESETS / "sandbox-jwks.json").read_text())
    assert client.jwks == shipped == json.loads(PUBLISHED_JWKS.read_text())
    assert [k["kid"] for k in shipped["keys"]] == ["44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"]
    assert client.jwks_urls == ()  # nothing fetched unless a token names another kid
    assert client.jku_allowed == (f"{SANDBOX}/.well-known/jwks.json",)
    for server in (
        "https://launch.smarthealthit.org/v/r2/fhir",
        "https://launch.smarthealthit.org/v/r4/fhir",
        "https://r4.smarthealthit.org",
        "https://hapi.fhir.org/baseR4",
    ):
        assert server in client.fhir_servers
    assert cfg.cors_origins == (SANDBOX,)


def test_preset_adds_the_demo_clinic_codes_and_configured_codes_win() -> None:
    mine = {"system": "urn:oid:1.2.392.200119.4.504", "code": "5J100000002302201"}
    cfg = config_from_dict(
        {"service": {"sandbox": True}, "codes": {"observations": {"kl6": {"codes": [mine]}}}},
        env={},
    )
    observations = cfg.local_codes["observations"]
    assert observations["kl6"]["codes"] == [mine]
    for concept in ("morning_stiffness_min", "elevation_upper_limbs", "ifx_antibody"):
        assert observations[concept]["codes"][0]["system"].endswith("/demo-lab")


def test_environment_switches_the_preset_on() -> None:
    cfg = config_from_dict({}, env={"RHEUM_CDS_SANDBOX": "1"})
    assert cfg.sandbox and any(c.issuer == SANDBOX for c in cfg.clients)
    assert not config_from_dict({}, env={}).sandbox


def test_configured_client_and_origins_are_kept() -> None:
    data = {
        "service": {"sandbox": True, "cors_origins": ["https://ehr.example.org"]},
        "clients": [
            {
                "issuer": SANDBOX,
                "jwks_url": f"{SANDBOX}/.well-known/jwks.json",
                "fhir_servers": ["https://fhir.example.org/r4"],
            }
        ],
    }
    cfg = config_from_dict(data, env={})
    [client] = cfg.clients
    assert client.fhir_servers == ("https://fhir.example.org/r4",)
    assert cfg.cors_origins == ("https://ehr.example.org", SANDBOX)
    assert with_sandbox(cfg) == cfg  # applying it twice changes nothing


def test_start_up_notes_name_the_url_to_register_and_the_servers() -> None:
    plain = startup_notes(Config(base_url="http://localhost:9090"))
    text = "\n".join(note for _, note in plain)
    assert "register http://localhost:9090/cds-services in the CDS client" in text
    assert "bad_aud" in text and "127.0.0.1" in text
    assert "none listed" in text and "loopback" not in text
    assert "no browser origin allowed" in text
    sandbox = startup_notes(with_sandbox(Config()))
    levels = {level for level, _ in sandbox}
    text = "\n".join(note for _, note in sandbox)
    assert logging.WARNING in levels  # the sandbox's private key is public
    assert "https://launch.smarthealthit.org/v/r2/fhir" in text and "any loopback" in text
    assert "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f" in text

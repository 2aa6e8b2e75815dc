"""Shared set-up of the security tests: one signer per algorithm (real keys), a JWKS served on
loopback, and a service app trusting those signers, with its own SQLite file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from cds_service.app import create_app
from cds_service.config import Config, TrustedClient
from tests.fixtures.jwt import ClientSigner, JwksServer, trusted_client

BASE_URL = "https://cds.example.test"
FEEDBACK_PATH = "/cds-services/rheum-order-sign/feedback"
ISSUER = "https://ehr.example.test"


def feedback_body(card: str = "7b6c1a8e-2d0f-4c2b-9f1e-1d2c3b4a5f60") -> dict[str, Any]:
    return {
        "feedback": [
            {
                "card": card,
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"code": "patient-declined", "system": "https://rheum-cds.example"},
                    "userComment": "discussed",
                },
                "outcomeTimestamp": "2026-11-23T10:15:30.123Z",
            }
        ]
    }


@pytest.fixture(scope="session")
def signers() -> dict[str, ClientSigner]:
    """One signer per accepted algorithm, all of one issuer, distinct kids."""
    return {
        alg: ClientSigner.generate(alg, issuer=ISSUER, kid=f"kid-{alg.lower()}")
        for alg in ("RS384", "ES384", "RS256", "ES256")
    }


@pytest.fixture
def jwks(signers: dict[str, ClientSigner]) -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.publish("/jwks.json", *signers.values())
        yield server


@pytest.fixture
def client_entry(signers: dict[str, ClientSigner], jwks: JwksServer) -> TrustedClient:
    return trusted_client(
        signers["RS384"],
        [jwks.url("/jwks.json")],
        fhir_servers=["https://fhir.example.test/r4"],
    )


@pytest.fixture
def make_app(tmp_path: Path, client_entry: TrustedClient) -> Callable[..., Flask]:
    """Build a service app; keyword arguments override Config fields."""

    def build(**overrides: Any) -> Flask:
        config = Config(
            base_url=BASE_URL,
            storage_url=f"sqlite:///{tmp_path / 'cds.db'}",
            clients=(client_entry,),
            patient_hash_key="test-key",
        )
        return create_app(replace(config, **overrides))

    return build


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()

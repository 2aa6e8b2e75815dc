"""An issuer's JWKS endpoint misbehaving: the call is refused with 401, quickly, never a 500."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask

from cds_service.auth import get_authenticator
from tests.fixtures.jwt import ClientSigner, JwksServer, bearer, trusted_client
from tests.security.conftest import BASE_URL, FEEDBACK_PATH, feedback_body

AUD = BASE_URL + FEEDBACK_PATH


@pytest.mark.parametrize(
    ("body", "status", "content_type"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", 502, "text/html"),
        (b"<html>login</html>", 200, "text/html"),
        (b'{"keys": "not a list"}', 200, "application/json"),
        (b'{"keys": [{"kty": "RSA", "kid": "k", "n": "AQAB"}]}', 200, "application/json"),
        (b"[" * 10, 200, "application/json"),
    ],
)
def test_broken_jwks_answers_are_refusals(
    make_app: Callable[..., Flask], body: bytes, status: int, content_type: str
) -> None:
    signer = ClientSigner.generate("ES384", issuer="https://broken.test", kid="k")
    with JwksServer() as issuer:
        url = issuer.serve_raw("/jwks.json", body, status=status, content_type=content_type)
        app = make_app(clients=(trusted_client(signer, [url]),))
        response = app.test_client().post(
            FEEDBACK_PATH, json=feedback_body(), headers=bearer(signer, AUD)
        )
        assert response.status_code == 401
        assert issuer.requests == ["/jwks.json"]


def test_slow_jwks_is_a_refusal_within_the_fetch_timeout(make_app: Callable[..., Flask]) -> None:
    signer = ClientSigner.generate("RS384", issuer="https://slow.test", kid="k")
    with JwksServer() as issuer:
        url = issuer.serve_raw("/jwks.json", b'{"keys": []}', delay_s=3)
        app = make_app(clients=(trusted_client(signer, [url]),))
        with app.app_context():
            get_authenticator().jwks.timeout_s = 0.5
        started = time.monotonic()
        response = app.test_client().post(
            FEEDBACK_PATH, json=feedback_body(), headers=bearer(signer, AUD)
        )
        assert response.status_code == 401
        assert time.monotonic() - started < 2.0


def test_keys_last_fetched_are_kept_while_the_issuer_is_down(
    make_app: Callable[..., Flask],
) -> None:
    signer = ClientSigner.generate("ES256", issuer="https://flaky.test", kid="k")
    with JwksServer() as issuer:
        url = issuer.publish("/jwks.json", signer)
        app = make_app(clients=(trusted_client(signer, [url]),))
        client = app.test_client()
        assert (
            client.post(
                FEEDBACK_PATH, json=feedback_body(), headers=bearer(signer, AUD)
            ).status_code
            == 200
        )
        issuer.serve_raw("/jwks.json", b"down", status=503, content_type="text/plain")
        with app.app_context():
            cache = get_authenticator().jwks
            cache.ttl_s = 0  # the cached document is due for a refresh
            cache.min_refresh_s = 0
        assert (
            client.post(
                FEEDBACK_PATH, json=feedback_body(), headers=bearer(signer, AUD)
            ).status_code
            == 200
        )
        assert issuer.requests.count("/jwks.json") == 2

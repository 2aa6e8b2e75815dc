"""An issuer's JWKS endpoint misbehaving: the call is refused with 401, quickly, never a 500."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask

from cds_service.auth import get_authenticator
from cds_service.jwks import DEFAULT_TTL_S
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
            started = cache.clock()
            # past the default freshness (due for a refresh), within the grace period
            cache.clock = lambda: started + DEFAULT_TTL_S + 1
        assert (
            client.post(
                FEEDBACK_PATH, json=feedback_body(), headers=bearer(signer, AUD)
            ).status_code
            == 200
        )
        assert issuer.requests.count("/jwks.json") == 2


class Clock:
    """The cache's clock, moved by the test (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer_keys() -> tuple[ClientSigner, ClientSigner]:
    return (
        ClientSigner.generate("ES256", issuer="https://rot.test", kid="old"),
        ClientSigner.generate("ES256", issuer="https://rot.test", kid="new"),
    )


@pytest.mark.parametrize(
    ("cache_control", "fresh_for"),
    [
        (None, 300.0),
        ("max-age=3600", 600.0),  # an hour is clamped to the ten-minute bound
        ("public, max-age=120", 120.0),
        ("max-age=5", 60.0),  # never refetched more than once a minute for freshness
        ("no-store", 60.0),
    ],
)
def test_cache_control_sets_freshness_within_bounds(
    issuer_keys: tuple[ClientSigner, ClientSigner], cache_control: str | None, fresh_for: float
) -> None:
    from cds_service.jwks import JwksCache

    old, _ = issuer_keys
    clock = Clock()
    with JwksServer() as issuer:
        headers = {"Cache-Control": cache_control} if cache_control else None
        url = issuer.publish("/jwks.json", old, headers=headers)
        cache = JwksCache(clock=clock)
        assert cache.get(url, "old") is not None
        clock.now += fresh_for - 1
        assert cache.get(url, "old") is not None
        assert issuer.requests == ["/jwks.json"]  # still fresh: no fetch
        clock.now += 2
        assert cache.get(url, "old") is not None
        assert issuer.requests == ["/jwks.json"] * 2  # stale: fetched again


def test_a_removed_key_stops_working_within_the_bound(
    issuer_keys: tuple[ClientSigner, ClientSigner],
) -> None:
    from cds_service.jwks import MAX_TTL_S, JwksCache

    old, new = issuer_keys
    clock = Clock()
    with JwksServer() as issuer:
        url = issuer.publish("/jwks.json", old, new, headers={"Cache-Control": "max-age=86400"})
        cache = JwksCache(clock=clock)
        assert cache.get(url, "old") is not None
        issuer.publish("/jwks.json", new)  # the issuer withdraws "old"
        clock.now += MAX_TTL_S + 1
        assert cache.get(url, "old") is None
        assert cache.get(url, "new") is not None


def test_unknown_kids_refresh_at_most_once_per_interval(
    issuer_keys: tuple[ClientSigner, ClientSigner],
) -> None:
    from cds_service.jwks import JwksCache

    old, new = issuer_keys
    clock = Clock()
    with JwksServer() as issuer:
        url = issuer.publish("/jwks.json", old)
        cache = JwksCache(clock=clock, min_refresh_s=10)
        assert cache.get(url, "old") is not None
        clock.now += 11
        for i in range(50):
            assert cache.get(url, f"made-up-{i}") is None
        assert len(issuer.requests) == 2  # the first fetch and one refresh
        issuer.publish("/jwks.json", old, new)  # a rotation
        clock.now += 11
        assert cache.get(url, "new") is not None
        assert len(issuer.requests) == 3


def test_a_failed_refresh_keeps_old_keys_only_for_a_short_grace(
    issuer_keys: tuple[ClientSigner, ClientSigner],
) -> None:
    from cds_service.jwks import GRACE_S, JwksCache

    old, _ = issuer_keys
    clock = Clock()
    with JwksServer() as issuer:
        url = issuer.publish("/jwks.json", old, headers={"Cache-Control": "max-age=300"})
        cache = JwksCache(clock=clock)
        assert cache.get(url, "old") is not None
        issuer.serve_raw("/jwks.json", b"down", status=503, content_type="text/plain")
        clock.now += 300 + GRACE_S - 5
        assert cache.get(url, "old") is not None  # issuer down: grace
        clock.now += 10
        assert cache.get(url, "old") is None  # grace over: refused

"""JWKS documents of trusted CDS clients: fetched only from URLs the caller passes (which the
authenticator takes from the issuer's configured list), cached, refreshed on an unknown `kid`
at most once per `min_refresh_s` per URL.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests

from cds_service import urlpolicy

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024


class JwksError(Exception):
    """A JWKS document could not be fetched or read (message has no secrets, no PHI)."""


@dataclass
class _Entry:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # kid -> JWK
    fetched_at: float = 0.0  # monotonic; 0 = never fetched successfully
    attempted_at: float = -1e18  # monotonic time of the last fetch attempt
    lock: threading.Lock = field(default_factory=threading.Lock)  # one fetch at a time


def keys_by_kid(document: Any) -> dict[str, dict[str, Any]]:
    """The signing keys of a JWKS document by kid (keys without kid or for `enc` ignored)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError("not a JWKS document")
    out: dict[str, dict[str, Any]] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        out.setdefault(jwk["kid"], jwk)
    return out


class JwksCache:
    """Thread-safe cache of JWKS documents by URL."""

    def __init__(
        self,
        session: requests.Session | None = None,
        ttl_s: float = 3600.0,
        min_refresh_s: float = 10.0,
        timeout_s: float = 3.0,
    ) -> None:
        self.session = session or urlpolicy.outbound_session(pool_size=4)
        self.ttl_s = ttl_s
        self.min_refresh_s = min_refresh_s
        self.timeout_s = timeout_s
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def _fetch(self, url: str) -> dict[str, dict[str, Any]]:
        try:
            approval = urlpolicy.Approval(urlpolicy.parse(url))
        except urlpolicy.UrlRefused as exc:
            raise JwksError(f"JWKS URL refused: {exc}") from exc
        try:
            with urlpolicy.send(
                self.session,
                approval,
                timeout=self.timeout_s,
                headers={"Accept": "application/json"},
            ) as resp:
                if resp.status_code != 200:
                    raise JwksError(f"JWKS fetch answered HTTP {resp.status_code}")
                body = resp.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise JwksError(f"JWKS fetch failed: {type(exc).__name__}") from exc
        if len(body) > MAX_JWKS_BYTES:
            raise JwksError("JWKS document too large")
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise JwksError("JWKS document is not JSON") from exc
        return keys_by_kid(document)

    def get(self, url: str, kid: str) -> dict[str, Any] | None:
        """The JWK with this kid at url: from cache, else fetched (rate-limited refresh)."""
        with self._lock:
            entry = self._entries.setdefault(url, _Entry())
        with entry.lock:  # a slow issuer delays only the requests that need its keys
            now = time.monotonic()
            fresh = entry.fetched_at and now - entry.fetched_at < self.ttl_s
            if fresh and kid in entry.keys:
                return entry.keys[kid]
            if now - entry.attempted_at < self.min_refresh_s:
                # refreshed very recently: do not let unknown kids hammer the issuer
                return entry.keys.get(kid)
            entry.attempted_at = now
            try:
                entry.keys = self._fetch(url)
                entry.fetched_at = time.monotonic()
            except JwksError as exc:
                log.warning("JWKS unavailable", extra={"fields": {"error": str(exc)}})
                # keep trusting the keys last fetched until the issuer answers again
                return entry.keys.get(kid)
            return entry.keys.get(kid)


def jwk_to_key(jwk: dict[str, Any]) -> Any:
    """A verification key object from a JWK (raises JwksError if unusable)."""
    try:
        return jwt.PyJWK(jwk).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
        raise JwksError(f"unusable JWK: {type(exc).__name__}") from exc

"""JWKS documents of trusted CDS clients: fetched only from URLs the caller passes (which the
authenticator takes from the issuer's configured list) through the outbound URL policy, and
cached with bounds that keep a removed key from working for long:

- a document is fresh for the `Cache-Control: max-age` the issuer sends, clamped to
  [MIN_TTL_S, MAX_TTL_S] (DEFAULT_TTL_S without one; `no-store`/`no-cache` count as the
  minimum). After that the next request that needs a key fetches it again, so a key the
  issuer removed stops working at most MAX_TTL_S after it was last fetched;
- an unknown `kid` refreshes the document at once, but at most once per `min_refresh_s` per
  URL (a flood of made-up kids cannot hammer the issuer);
- when a refresh fails, the keys last fetched are used for GRACE_S more, then no longer.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests

from cds_service import urlpolicy

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024
MIN_TTL_S = 60.0
DEFAULT_TTL_S = 300.0
MAX_TTL_S = 600.0
GRACE_S = 120.0
MIN_REFRESH_S = 10.0

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})", re.IGNORECASE)


class JwksError(Exception):
    """A JWKS document could not be fetched or read (message has no secrets, no PHI)."""


@dataclass
class _Entry:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # kid -> JWK
    fetched_at: float = 0.0  # clock time of the last successful fetch
    expires_at: float = -1e18  # clock time after which the document is stale
    attempted_at: float = -1e18  # clock time of the last fetch attempt
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


def ttl_from_cache_control(value: str | None, minimum: float, maximum: float) -> float:
    """Seconds a JWKS document stays fresh: the header's max-age within [minimum, maximum]."""
    if not value:
        return min(max(DEFAULT_TTL_S, minimum), maximum)
    lowered = value.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return minimum
    match = _MAX_AGE.search(value)
    if match is None:
        return min(max(DEFAULT_TTL_S, minimum), maximum)
    return min(max(float(match.group(1)), minimum), maximum)


class JwksCache:
    """Thread-safe cache of JWKS documents by URL (bounds in the module docstring)."""

    def __init__(
        self,
        session: requests.Session | None = None,
        min_ttl_s: float = MIN_TTL_S,
        max_ttl_s: float = MAX_TTL_S,
        grace_s: float = GRACE_S,
        min_refresh_s: float = MIN_REFRESH_S,
        timeout_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session or urlpolicy.outbound_session(pool_size=4)
        self.min_ttl_s = min_ttl_s
        self.max_ttl_s = max_ttl_s
        self.grace_s = grace_s
        self.min_refresh_s = min_refresh_s
        self.timeout_s = timeout_s
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def _fetch(self, url: str) -> tuple[dict[str, dict[str, Any]], float]:
        """The keys at `url` and how long they stay fresh."""
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
                cache_control = resp.headers.get("Cache-Control")
                body = resp.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise JwksError(f"JWKS fetch failed: {type(exc).__name__}") from exc
        if len(body) > MAX_JWKS_BYTES:
            raise JwksError("JWKS document too large")
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise JwksError("JWKS document is not JSON") from exc
        ttl = ttl_from_cache_control(cache_control, self.min_ttl_s, self.max_ttl_s)
        return keys_by_kid(document), ttl

    def get(self, url: str, kid: str) -> dict[str, Any] | None:
        """The JWK with this kid at url: from cache while fresh, else fetched again (an
        unknown kid at most once per `min_refresh_s`)."""
        with self._lock:
            entry = self._entries.setdefault(url, _Entry())
        with entry.lock:  # a slow issuer delays only the requests that need its keys
            now = self.clock()
            if now < entry.expires_at and kid in entry.keys:
                return entry.keys[kid]
            if now - entry.attempted_at >= self.min_refresh_s:
                entry.attempted_at = now
                try:
                    keys, ttl = self._fetch(url)
                except JwksError as exc:
                    log.warning("JWKS unavailable", extra={"fields": {"error": str(exc)}})
                else:
                    entry.keys, entry.fetched_at = keys, self.clock()
                    entry.expires_at = entry.fetched_at + ttl
            now = self.clock()
            if now < entry.expires_at + self.grace_s:
                # fresh, or the issuer could not be reached: the last keys for a short grace
                return entry.keys.get(kid)
            return None


def jwk_to_key(jwk: dict[str, Any]) -> Any:
    """A verification key object from a JWK (raises JwksError if unusable)."""
    try:
        return jwt.PyJWK(jwk).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
        raise JwksError(f"unusable JWK: {type(exc).__name__}") from exc

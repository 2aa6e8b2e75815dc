"""Stage 1 — authenticate the CDS client (CDS Hooks 2.0 "Trusting CDS Clients").

Interface for the hook and feedback routes:

    authenticator = get_authenticator()              # built by create_app
    client = authenticator.authenticate(request.headers, request.path, fhir_server=None)
    # -> TrustedClient, or None only when config.allow_unsigned (no Authorization header, or a
    #    token that does not verify: it is ignored, and the reason logged)
    # raises AuthError (answer 401 with unauthorized_body(); the reason is already logged
    # and counted, never sent)
    # raises storage.StorageError when the replay cache is unreachable (answer 503)
    authenticator.may_contact(client, fhir_server) -> bool   # SSRF guard for stage 3

Checks, in order (each failure is an AuthError with a short `code` and a PHI-free reason):
1. `Authorization: Bearer <jwt>` present (absent: allowed only in unsigned mode).
2. Header: `alg` in RS384/ES384/RS256/ES256 (`none`, HS*, everything else refused), `typ`
   JWT, `kid` present.
3. `iss` (read unverified only to pick the client) is a configured trusted client.
4. Key: the client's inline `jwks` first — a key with the token's `kid` there is used
   whatever the `jku` says, so a client configured with its published key needs no egress.
   Otherwise a `jku` header must be one of that issuer's `jwks_urls` or `jku_allowed` —
   else refused before any connection — and the key is looked up there only; without `jku`
   the issuer's `jwks_urls` are searched. Cached; an unknown kid refreshes the document
   (rate-limited). The key type/curve must match `alg`.
5. Signature, `iss`, `aud` (exactly the public URL of the endpoint called: config.base_url +
   request path; an array only if every member is that URL), `exp`, `iat` and `nbf` numbers
   (a numeric string is refused), `exp - iat` at most config.max_token_lifetime_s (300 s by
   default) plus the leeway, an unknown `crit` header refused (RFC 7515: this service
   understands no extension), `exp` and `nbf` (leeway), `iat` (not in the
   future beyond the leeway, not older than MAX_TOKEN_AGE_S), `jti` present.
   `sub`, `tenant` are accepted, not required.
6. `fhirServer` (when passed) listed for the client (never contacted otherwise).
7. `jti` not seen before for this issuer (Storage.remember_jti; shared by all workers; kept
   until the token could no longer be accepted: min(exp, iat + MAX_TOKEN_AGE_S) + leeway).

In unsigned mode (config.allow_unsigned) a token that fails any check is ignored: the request
is served as an unsigned one, and the reason is logged as for a refusal. A `bad_aud` log line
names the audience expected (config.base_url + path) and the one received; neither is PHI.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from flask import current_app

from cds_service import metrics
from cds_service.config import Config, TrustedClient
from cds_service.jwks import JwksCache, JwksError, jwk_to_key, keys_by_kid
from cds_service.request import server_allowed
from cds_service.storage import Storage

log = logging.getLogger(__name__)

ALLOWED_ALGS = ("RS384", "ES384", "RS256", "ES256")
EC_CURVES = {"ES256": "P-256", "ES384": "P-384"}
LEEWAY_S = 30  # clock skew tolerated on exp, nbf and iat
MAX_TOKEN_AGE_S = 600  # iat older than this (plus leeway) is refused
MAX_TOKEN_BYTES = 16 * 1024


class AuthError(Exception):
    """The request is not from a trusted client. Answer a 401 whose body says only that
    authorisation failed (`unauthorized_body()`).

    `code` is a short, fixed reason for metrics and logs; `str(exc)` a PHI-free detail;
    `fields` more PHI-free detail for the log line (e.g. the audiences of a `bad_aud`).
    """

    def __init__(
        self, code: str, detail: str | None = None, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail or code)
        self.code = code
        self.fields = fields or {}


def unauthorized_body() -> dict[str, Any]:
    """The body of every 401: a FHIR OperationOutcome saying only that authorisation failed
    (the reason is logged, never sent)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "security",
                "diagnostics": "Authorisation failed: the request was not accepted.",
            }
        ],
    }


def _received_audience(claims: dict[str, Any]) -> str:
    """The `aud` of a token as text for the log (URLs are not PHI; bounded in length)."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return aud[:300]
    if isinstance(aud, list):
        return ", ".join(str(a)[:300] for a in aud[:5])
    return f"(not a string: {type(aud).__name__})"


def _audience_hint(expected: str, received: str) -> str:
    """What to change when the token names this endpoint at another address."""
    exp, rec = urlsplit(expected), urlsplit(received)
    if rec.path.rstrip("/") == exp.path.rstrip("/") and rec.netloc and rec.netloc != exp.netloc:
        return (
            f"the client called {rec.scheme}://{rec.netloc} but service.base_url is "
            f"{exp.scheme}://{exp.netloc}: register the service in the client as "
            f"{exp.scheme}://{exp.netloc}/cds-services, or set service.base_url "
            f"(RHEUM_CDS_BASE_URL) to {rec.scheme}://{rec.netloc}"
        )
    return "aud must be the exact URL called: service.base_url + path"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        for key, val in headers.items():
            if key.lower() == lower:
                return val
    return value


class Authenticator:
    """Verifies CDS client JWTs against the trusted clients of the configuration."""

    def __init__(
        self,
        config: Config,
        storage: Storage,
        session: requests.Session | None = None,
        jwks_cache: JwksCache | None = None,
    ) -> None:
        self.config = config
        self.storage = storage
        self.clients: dict[str, TrustedClient] = {c.issuer: c for c in config.clients}
        self.jwks = jwks_cache or JwksCache(session=session)
        self.leeway_s = LEEWAY_S
        self.max_age_s = MAX_TOKEN_AGE_S

    # ------------------------------------------------------------------ public

    def authenticate(
        self, headers: Mapping[str, str], url: str, fhir_server: str | None = None
    ) -> TrustedClient | None:
        """Verify the request's bearer JWT; see the module docstring for every check.

        `url` is the request path (Flask `request.path`); a full URL is accepted and only its
        path is used, since the audience is built from the configured public base URL.
        """
        try:
            return self._authenticate(headers, url, fhir_server)
        except AuthError as exc:
            metrics.observe_auth_failure(exc.code)
            fields = {"reason": exc.code, **exc.fields}
            if self.config.allow_unsigned:
                log.warning(
                    "token ignored (unsigned mode; served as an unsigned request): %s",
                    str(exc),
                    extra={"fields": fields},
                )
                return None
            log.warning("request refused: %s", str(exc), extra={"fields": fields})
            raise

    def may_contact(self, client: TrustedClient | None, fhir_server: str | None) -> bool:
        """Whether stage 3 may call this fhirServer for this client (SSRF guard).

        One policy for the whole service, `request.server_allowed`: a signed client may name
        only the base URLs listed for it; an unsigned request (unsigned mode only) a loopback
        server or one listed for any client.
        """
        if not fhir_server or not isinstance(fhir_server, str):
            return False
        if client is None and not self.config.allow_unsigned:
            return False
        return server_allowed(fhir_server.strip(), self.config, client)

    def audience(self, url: str) -> str:
        path = urlsplit(url).path if "://" in url else url
        return self.config.base_url.rstrip("/") + path

    # ------------------------------------------------------------------ steps

    def _authenticate(
        self, headers: Mapping[str, str], url: str, fhir_server: str | None
    ) -> TrustedClient | None:
        raw = _header(headers, "Authorization")
        if raw is None or not raw.strip():
            if self.config.allow_unsigned:
                return None
            raise AuthError("missing_token", "no Authorization header")
        scheme, _, token = raw.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError("bad_authorization", "Authorization is not a Bearer token")
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthError("bad_token", "token too long")

        try:  # header and claims read in one parse (each parse checks every character)
            parts = jwt.decode_complete(token, options={"verify_signature": False})
            header, unverified = parts["header"], parts["payload"]
        except jwt.PyJWTError as exc:
            raise AuthError("bad_token", f"token not readable: {type(exc).__name__}") from exc
        alg = header.get("alg")
        if alg not in ALLOWED_ALGS:
            raise AuthError("bad_alg", f"alg {str(alg)[:16]!r} not accepted")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.upper() != "JWT":
            raise AuthError("bad_typ", "typ must be JWT")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("missing_kid", "kid header missing")
        if "crit" in header:
            # RFC 7515 4.1.11: a recipient must refuse extensions it does not understand;
            # this service understands none.
            raise AuthError("bad_crit", "crit header names extensions this service does not know")
        for name in ("exp", "iat", "nbf"):
            value = unverified.get(name)
            if name in unverified and (
                not isinstance(value, int | float) or isinstance(value, bool)
            ):
                raise AuthError(f"bad_{name}", f"{name} is not a number")

        issuer = unverified.get("iss")
        client = self.clients.get(issuer) if isinstance(issuer, str) else None
        if client is None:
            raise AuthError("untrusted_issuer", "iss is not a trusted client")

        jwk = self._find_key(client, kid, header.get("jku"))
        self._check_key_fits(jwk, alg)
        try:
            key = jwk_to_key(jwk)
        except JwksError as exc:
            raise AuthError("bad_key", str(exc)) from exc

        audience = self.audience(url)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audience,
                issuer=client.issuer,
                leeway=self.leeway_s,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("expired", "token expired") from exc
        except jwt.InvalidAudienceError as exc:
            received = _received_audience(unverified)
            raise AuthError(
                "bad_aud",
                f"aud does not name {audience} (received: {received}); "
                + _audience_hint(audience, received.split(", ")[0]),
                {"expected_aud": audience, "received_aud": received},
            ) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError("missing_claim", f"claim {exc.claim} missing") from exc
        except jwt.ImmatureSignatureError as exc:
            raise AuthError("not_yet_valid", "iat or nbf in the future") from exc
        except jwt.InvalidSignatureError as exc:
            raise AuthError("bad_signature", "signature does not verify") from exc
        except jwt.PyJWTError as exc:
            raise AuthError("bad_token", f"token refused: {type(exc).__name__}") from exc

        aud = claims["aud"]
        members = aud if isinstance(aud, list) else [aud]
        if not members or any(member != audience for member in members):
            raise AuthError(
                "bad_aud", f"aud must be exactly {audience} (an array only of that URL)"
            )
        now = time.time()
        iat = claims["iat"]
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise AuthError("bad_iat", "iat is not a number")
        if claims["exp"] - iat > self.config.max_token_lifetime_s + self.leeway_s:
            raise AuthError(
                "lifetime_too_long",
                f"exp - iat over {self.config.max_token_lifetime_s} s "
                "(service.max_token_lifetime_s)",
            )
        if iat > now + self.leeway_s:
            raise AuthError("not_yet_valid", "iat in the future")
        if iat < now - self.max_age_s - self.leeway_s:
            raise AuthError("too_old", "iat too old")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti or len(jti) > 255:
            raise AuthError("bad_jti", "jti must be a non-empty string")

        if fhir_server is not None and not self.may_contact(client, fhir_server):
            raise AuthError("fhir_server_not_allowed", "fhirServer not listed for this client")

        # Remember the jti as long as the token could be accepted again: until exp, but no
        # longer than the age limit on iat (after that a replay is refused as too old), so a
        # far-future exp cannot make the replay cache grow without bound.
        usable_until = min(float(claims["exp"]), float(iat) + self.max_age_s) + self.leeway_s
        until = datetime.fromtimestamp(usable_until, tz=UTC)
        if not self.storage.remember_jti(client.issuer, jti, until):
            raise AuthError("replayed_jti", "jti already used")
        return client

    def _find_key(self, client: TrustedClient, kid: str, jku: Any) -> dict[str, Any]:
        if client.jwks:
            try:
                inline = keys_by_kid(client.jwks)
            except JwksError:
                inline = {}
            if kid in inline:
                return inline[kid]  # the configured key, whatever the jku: no fetch
        if jku is not None:
            if not isinstance(jku, str) or (
                jku not in client.jwks_urls and jku not in client.jku_allowed
            ):
                raise AuthError("jku_not_allowed", "jku is not on the issuer's list")
            jwk = self.jwks.get(jku, kid)
            if jwk is None:
                raise AuthError("unknown_kid", "kid not found at jku")
            return jwk
        for url in client.jwks_urls:
            jwk = self.jwks.get(url, kid)
            if jwk is not None:
                return jwk
        raise AuthError("unknown_kid", "kid not found in the issuer's keys")

    @staticmethod
    def _check_key_fits(jwk: dict[str, Any], alg: str) -> None:
        if "alg" in jwk and jwk["alg"] != alg:
            raise AuthError("bad_key", "JWK alg differs from token alg")
        kty = jwk.get("kty")
        if alg.startswith("RS") and kty != "RSA":
            raise AuthError("bad_key", "RS* token with a non-RSA key")
        if alg.startswith("ES") and (kty != "EC" or jwk.get("crv") != EC_CURVES[alg]):
            raise AuthError("bad_key", f"{alg} token needs an EC {EC_CURVES[alg]} key")


def get_authenticator() -> Authenticator:
    """The authenticator of the current Flask app (set up by create_app)."""
    return current_app.extensions["rheum_cds.authenticator"]

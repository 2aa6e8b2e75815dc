"""CDS Hooks 2.0 client authentication, end to end through a real endpoint (feedback), with
real keys and the JWKS fetched over HTTP from a loopback server."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask

from cds_service.auth import AuthError, get_authenticator, unauthorized_body
from cds_service.config import TrustedClient
from tests.fixtures.jwt import (
    ClientSigner,
    JwksServer,
    bearer,
    hs256_token_with_secret,
    trusted_client,
    unsigned_token,
)
from tests.security.conftest import BASE_URL, FEEDBACK_PATH, ISSUER, feedback_body

AUD = BASE_URL + FEEDBACK_PATH


def post(app: Flask, headers: dict[str, str], path: str = FEEDBACK_PATH) -> Any:
    return app.test_client().post(path, json=feedback_body(), headers=headers)


def assert_refused(response: Any) -> None:
    assert response.status_code == 401
    # an OperationOutcome that says only that authorisation failed: no reason to the caller
    assert response.json == unauthorized_body()
    assert response.headers.get("WWW-Authenticate") == "Bearer"


# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize("alg", ["RS384", "ES384", "RS256", "ES256"])
@pytest.mark.parametrize("subject", [None, "Practitioner/123"])
def test_valid_tokens_are_accepted(
    app: Flask, signers: dict[str, ClientSigner], alg: str, subject: str | None
) -> None:
    response = post(app, bearer(signers[alg], AUD, subject=subject))
    assert response.status_code == 200, response.data
    assert response.json["stored"] == 1


def test_epic_style_token_with_nbf_sub_and_tenant_is_accepted(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    now = int(time.time())
    headers = bearer(
        signers["RS384"], AUD, subject="epic-user", claims={"nbf": now, "tenant": "org-1"}
    )
    assert post(app, headers).status_code == 200


def test_aud_array_of_only_the_endpoint_is_accepted(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    assert post(app, bearer(signers["ES384"], [AUD])).status_code == 200


def test_aud_array_naming_the_endpoint_and_others_is_refused(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    # a token minted for several services could be replayed at each of them
    other = BASE_URL + "/cds-services/rheum-patient-view"
    assert_refused(post(app, bearer(signers["ES384"], [other, AUD])))
    assert_refused(post(app, bearer(signers["ES384"], [AUD, "https://other.example/x"])))
    assert_refused(post(app, bearer(signers["ES384"], [])))


def test_sandbox_style_es384_with_listed_jku_is_accepted(
    make_app: Callable[..., Flask], jwks: JwksServer
) -> None:
    sandbox = ClientSigner.generate("ES384", issuer="https://sandbox.test", kid="sb-1")
    jku = jwks.publish("/sandbox-jwks.json", sandbox)
    sandbox.jku = jku
    app = make_app(clients=(trusted_client(sandbox, [jku]),))
    assert post(app, bearer(sandbox, AUD)).status_code == 200
    assert "/sandbox-jwks.json" in jwks.requests


def test_jku_listed_in_jku_allowed_is_accepted(
    make_app: Callable[..., Flask], jwks: JwksServer
) -> None:
    signer = ClientSigner.generate("ES256", issuer="https://ehr-2.test", kid="e2")
    jku = jwks.publish("/rotating.json", signer)
    signer.jku = jku
    app = make_app(clients=(trusted_client(signer, [], jku_allowed=[jku]),))
    assert post(app, bearer(signer, AUD)).status_code == 200


def test_inline_key_is_used_for_its_kid_whatever_the_jku(
    make_app: Callable[..., Flask], jwks: JwksServer
) -> None:
    """The sandbox names a jku on every token; with its key configured inline nothing is
    fetched, so trusting it needs no egress (the listed jku serves only a rotated key)."""
    sandbox = ClientSigner.generate("ES384", issuer="https://sandbox.test", kid="sb-inline")
    jku = jwks.publish("/sandbox-jwks.json", sandbox)
    sandbox.jku = jku
    client = trusted_client(sandbox, [], inline=True, jku_allowed=[jku])
    app = make_app(clients=(client,))
    assert post(app, bearer(sandbox, AUD)).status_code == 200
    assert jwks.connections == 0
    # an unlisted jku does not matter either when the kid is configured inline
    sandbox.jku = "https://elsewhere.test/jwks.json"
    assert post(app, bearer(sandbox, AUD)).status_code == 200
    assert jwks.connections == 0
    # a kid that is not inline: the listed jku is fetched (a rotated key) ...
    rotated = ClientSigner.generate("ES384", issuer="https://sandbox.test", kid="sb-rotated")
    jwks.publish("/sandbox-jwks.json", sandbox, rotated)
    rotated.jku = jku
    assert post(app, bearer(rotated, AUD)).status_code == 200
    assert jwks.requests.count("/sandbox-jwks.json") == 1
    # ... and an unlisted jku never is
    other = ClientSigner.generate("ES384", issuer="https://sandbox.test", kid="sb-other")
    other.jku = jwks.publish("/not-listed.json", other)
    assert_refused(post(app, bearer(other, AUD)))
    assert "/not-listed.json" not in jwks.requests


def test_inline_jwks_in_configuration_needs_no_fetch(
    make_app: Callable[..., Flask], jwks: JwksServer
) -> None:
    signer = ClientSigner.generate("RS384", issuer="https://inline.test", kid="in-1")
    app = make_app(clients=(trusted_client(signer, [], inline=True),))
    assert post(app, bearer(signer, AUD)).status_code == 200
    assert jwks.connections == 0


def test_keys_are_cached_between_requests(
    app: Flask, signers: dict[str, ClientSigner], jwks: JwksServer
) -> None:
    for _ in range(3):
        assert post(app, bearer(signers["RS384"], AUD)).status_code == 200
    assert jwks.requests.count("/jwks.json") == 1


def test_unknown_kid_refreshes_the_jwks_so_a_rotated_key_is_accepted(
    app: Flask, signers: dict[str, ClientSigner], jwks: JwksServer
) -> None:
    assert post(app, bearer(signers["RS384"], AUD)).status_code == 200
    rotated = ClientSigner.generate("RS384", issuer=ISSUER, kid="kid-rotated")
    jwks.publish("/jwks.json", *signers.values(), rotated)
    with app.app_context():
        get_authenticator().jwks.min_refresh_s = 0  # the rotation happens "later"
    assert post(app, bearer(rotated, AUD)).status_code == 200
    assert jwks.requests.count("/jwks.json") == 2


def test_unsigned_mode_ignores_a_token_it_cannot_verify_and_logs_why(
    make_app: Callable[..., Flask],
    signers: dict[str, ClientSigner],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app(allow_unsigned=True)
    assert post(app, {}).status_code == 200
    expired = bearer(signers["RS384"], AUD, now=time.time() - 3600)
    with caplog.at_level("WARNING", logger="cds_service.auth"):
        response = post(app, expired)
    assert response.status_code == 200  # served as an unsigned request
    reasons = [getattr(r, "fields", {}).get("reason") for r in caplog.records]
    assert "expired" in reasons
    assert any("token ignored" in r.getMessage() for r in caplog.records)
    assert post(app, bearer(signers["RS384"], AUD)).status_code == 200  # a valid one: signed


def test_bad_aud_log_names_the_expected_and_received_audience(
    app: Flask, signers: dict[str, ClientSigner], caplog: pytest.LogCaptureFixture
) -> None:
    """Registering http://127.0.0.1:8080/... while base_url names another host: the log line
    says both audiences and what to change; the caller learns nothing."""
    called = "http://127.0.0.1:8080" + FEEDBACK_PATH
    with caplog.at_level("WARNING", logger="cds_service.auth"):
        assert_refused(post(app, bearer(signers["ES384"], called)))
    record = next(r for r in caplog.records if getattr(r, "fields", {}).get("reason") == "bad_aud")
    assert record.fields["expected_aud"] == AUD
    assert record.fields["received_aud"] == called
    message = record.getMessage()
    assert AUD in message and called in message
    assert "base_url" in message and "http://127.0.0.1:8080" in message


# --------------------------------------------------------------------------- refused


def test_missing_token_is_refused(app: Flask) -> None:
    assert_refused(post(app, {}))


def test_non_bearer_authorization_is_refused(app: Flask) -> None:
    assert_refused(post(app, {"Authorization": "Basic dXNlcjpwYXNz"}))


def test_expired_token_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    now = time.time()
    assert_refused(post(app, bearer(signers["RS384"], AUD, now=now - 400, lifetime_s=300)))


def test_iat_in_the_future_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    assert_refused(post(app, bearer(signers["ES384"], AUD, now=time.time() + 300)))


def test_iat_too_old_is_refused_even_if_not_expired(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    headers = bearer(signers["ES384"], AUD, now=time.time() - 3600, lifetime_s=7200)
    assert_refused(post(app, headers))


def test_small_clock_skew_is_tolerated(app: Flask, signers: dict[str, ClientSigner]) -> None:
    assert post(app, bearer(signers["ES384"], AUD, now=time.time() + 10)).status_code == 200


def test_nbf_in_the_future_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    headers = bearer(signers["RS384"], AUD, claims={"nbf": int(time.time()) + 600})
    assert_refused(post(app, headers))


def test_aud_of_another_endpoint_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    other = BASE_URL + "/cds-services/rheum-order-select/feedback"
    assert_refused(post(app, bearer(signers["RS384"], other)))


def test_aud_of_another_host_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    assert_refused(post(app, bearer(signers["RS384"], "https://elsewhere.test" + FEEDBACK_PATH)))


def test_unknown_issuer_is_refused(app: Flask, jwks: JwksServer) -> None:
    stranger = ClientSigner.generate("RS384", issuer="https://stranger.test", kid="kid-rs384")
    assert_refused(post(app, bearer(stranger, AUD)))


def test_alg_none_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    now = int(time.time())
    token = unsigned_token(
        {"typ": "JWT", "kid": "kid-rs384"},
        {"iss": ISSUER, "aud": AUD, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex},
    )
    assert_refused(post(app, {"Authorization": f"Bearer {token}"}))


def test_hs256_with_the_public_key_as_secret_is_refused(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    public_pem = (
        signers["RS384"]
        .key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    now = int(time.time())
    token = hs256_token_with_secret(
        {"typ": "JWT", "kid": "kid-rs384"},
        {"iss": ISSUER, "aud": AUD, "iat": now, "exp": now + 300, "jti": uuid.uuid4().hex},
        public_pem,
    )
    assert_refused(post(app, {"Authorization": f"Bearer {token}"}))


def test_missing_kid_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    signer = signers["RS384"]
    token = signer.token(AUD)
    claims = pyjwt.decode(token, options={"verify_signature": False})
    no_kid = pyjwt.encode(claims, signer.key, algorithm="RS384", headers={"typ": "JWT"})
    assert "kid" not in pyjwt.get_unverified_header(no_kid)
    assert_refused(post(app, {"Authorization": f"Bearer {no_kid}"}))


def test_missing_typ_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    token = signers["ES384"].token(AUD, headers={"typ": None})  # PyJWT drops a None typ
    assert "typ" not in pyjwt.get_unverified_header(token)
    assert_refused(post(app, {"Authorization": f"Bearer {token}"}))


def test_wrong_typ_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    assert_refused(post(app, bearer(signers["ES384"], AUD, headers={"typ": "at+jwt"})))


def test_unknown_kid_is_refused(app: Flask, jwks: JwksServer) -> None:
    impostor = ClientSigner.generate("RS384", issuer=ISSUER, kid="kid-nobody-published")
    assert_refused(post(app, bearer(impostor, AUD)))
    assert "/jwks.json" in jwks.requests  # looked for it where the issuer publishes keys


def test_known_kid_with_a_different_key_is_refused(app: Flask) -> None:
    forger = ClientSigner.generate("RS384", issuer=ISSUER, kid="kid-rs384")
    assert_refused(post(app, bearer(forger, AUD)))


def test_unlisted_jku_is_refused_without_any_connection(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    with JwksServer() as attacker:
        evil = ClientSigner.generate("ES384", issuer=ISSUER, kid="kid-evil")
        evil.jku = attacker.publish("/jwks.json", evil)
        assert_refused(post(app, bearer(evil, AUD)))
        # a token of the trusted key with an unlisted jku is refused the same way
        good_key_bad_jku = bearer(
            signers["ES384"], AUD, headers={"jku": attacker.url("/jwks.json")}
        )
        assert_refused(post(app, good_key_bad_jku))
        assert attacker.connections == 0
        assert attacker.requests == []


def test_replayed_jti_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    headers = bearer(signers["ES384"], AUD)
    assert post(app, headers).status_code == 200
    assert_refused(post(app, headers))


def test_replay_is_refused_by_another_worker_sharing_the_database(
    make_app: Callable[..., Flask], signers: dict[str, ClientSigner]
) -> None:
    worker_1, worker_2 = make_app(), make_app()  # two processes' apps on one database
    headers = bearer(signers["RS384"], AUD)
    assert post(worker_1, headers).status_code == 200
    assert_refused(post(worker_2, headers))


def test_same_jti_from_two_issuers_is_not_a_replay(
    make_app: Callable[..., Flask],
    signers: dict[str, ClientSigner],
    jwks: JwksServer,
    client_entry: TrustedClient,
) -> None:
    other = ClientSigner.generate("ES384", issuer="https://other-ehr.test", kid="o1")
    url = jwks.publish("/other.json", other)
    app = make_app(clients=(client_entry, trusted_client(other, [url])))
    assert post(app, bearer(signers["RS384"], AUD, jti="same-id")).status_code == 200
    assert post(app, bearer(other, AUD, jti="same-id")).status_code == 200


def test_missing_jti_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    signer = signers["RS384"]
    claims = pyjwt.decode(signer.token(AUD), options={"verify_signature": False})
    del claims["jti"]
    token = pyjwt.encode(
        claims, signer.key, algorithm="RS384", headers={"kid": signer.kid, "typ": "JWT"}
    )
    assert_refused(post(app, {"Authorization": f"Bearer {token}"}))


def test_ec_token_claiming_rs_alg_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    # header says RS384 with the kid of the EC key: key type does not fit alg
    es = signers["ES384"]
    rs = signers["RS384"]
    token = rs.token(AUD, headers={"kid": es.kid})
    assert_refused(post(app, {"Authorization": f"Bearer {token}"}))


def test_unlisted_fhir_server_is_refused_and_never_contacted(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    with JwksServer() as fhir:  # stands for an internal server an attacker names
        headers = bearer(signers["RS384"], AUD)
        with app.test_request_context(FEEDBACK_PATH, method="POST", headers=headers):
            with pytest.raises(AuthError) as refused:
                get_authenticator().authenticate(headers, FEEDBACK_PATH, fhir_server=fhir.base)
            assert refused.value.code == "fhir_server_not_allowed"
            auth = get_authenticator()
            listed = auth.clients[ISSUER]
            assert auth.may_contact(listed, "https://fhir.example.test/r4/")
            assert not auth.may_contact(listed, fhir.base)
            assert not auth.may_contact(None, fhir.base)  # unsigned mode is off
        assert fhir.connections == 0


def test_refusals_are_logged_with_a_reason_and_counted(
    app: Flask, signers: dict[str, ClientSigner], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="cds_service.auth"):
        assert_refused(post(app, bearer(signers["RS384"], AUD, now=time.time() - 4000)))
    reasons = [getattr(r, "fields", {}).get("reason") for r in caplog.records]
    assert "expired" in reasons
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'rheum_cds_auth_failures_total{reason="expired"}' in text


def test_ten_year_exp_is_refused(app: Flask, signers: dict[str, ClientSigner]) -> None:
    headers = bearer(signers["RS384"], AUD, lifetime_s=10 * 365 * 24 * 3600)
    assert_refused(post(app, headers))
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'rheum_cds_auth_failures_total{reason="lifetime_too_long"}' in text


def test_lifetime_cap_allows_the_leeway_and_is_configurable(
    make_app: Callable[..., Flask], signers: dict[str, ClientSigner]
) -> None:
    app = make_app()
    assert post(app, bearer(signers["RS384"], AUD, lifetime_s=300 + 20)).status_code == 200
    assert_refused(post(app, bearer(signers["RS384"], AUD, lifetime_s=300 + 60)))
    longer = make_app(max_token_lifetime_s=900)
    assert post(longer, bearer(signers["RS384"], AUD, lifetime_s=900)).status_code == 200


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_time_claims_as_strings_are_refused(
    app: Flask, signers: dict[str, ClientSigner], claim: str
) -> None:
    now = int(time.time())
    value = {"exp": now + 300, "iat": now, "nbf": now}[claim]
    headers = bearer(signers["ES384"], AUD, claims={claim: str(value)})
    assert_refused(post(app, headers))


@pytest.mark.parametrize("crit", [["exp"], ["x-unknown"], [], "b64"])
def test_crit_header_is_refused(app: Flask, signers: dict[str, ClientSigner], crit: Any) -> None:
    headers = bearer(signers["ES384"], AUD, headers={"crit": crit, "x-unknown": True})
    assert_refused(post(app, headers))


def test_jti_is_kept_no_longer_than_the_token_could_be_used(
    app: Flask, signers: dict[str, ClientSigner]
) -> None:
    from sqlalchemy import select

    from cds_service.auth import LEEWAY_S
    from cds_service.storage import SeenJti, get_storage

    now = time.time()
    headers = bearer(signers["RS384"], AUD, now=now, lifetime_s=300, jti="kept")
    assert post(app, headers).status_code == 200
    assert_refused(post(app, headers))
    with app.app_context():
        with get_storage().engine.connect() as conn:
            kept_until = conn.execute(select(SeenJti.exp).where(SeenJti.jti == "kept")).scalar_one()
    if kept_until.tzinfo is None:  # SQLite gives back the UTC time without zone
        kept_until = kept_until.replace(tzinfo=UTC)
    assert kept_until.timestamp() <= int(now) + 300 + LEEWAY_S + 1

"""Sign requests as a CDS client would (CDS Hooks 2.0 JWT), for `rheum-cds try --token`,
the benchmark and the tests.

    signer = ClientSigner.generate("ES384", issuer="https://ehr.example.org", kid="k1")
    signer.jwks()                       # {"keys": [public JWK]} to publish / configure inline
    token = signer.token("https://cds.example.org/cds-services/rheum-order-sign")
    headers = {"Authorization": f"Bearer {token}"}

Keys are PEM files (`ClientSigner.from_pem(path, ...)`, `signer.private_pem()`).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

SIGNING_ALGS = ("RS384", "ES384", "RS256", "ES256")
_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def generate_private_key(alg: str) -> PrivateKey:
    """A new private key fitting `alg` (RSA 2048 for RS*, P-256/P-384 for ES256/ES384)."""
    if alg.startswith("RS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg in _CURVES:
        return ec.generate_private_key(_CURVES[alg]())
    raise ValueError(f"alg must be one of {SIGNING_ALGS}")


def public_jwk(key: PrivateKey, kid: str, alg: str) -> dict[str, Any]:
    """The public half of `key` as a JWK with kid, alg and use=sig."""
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    else:
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


@dataclass
class ClientSigner:
    """A CDS client identity: private key, kid, alg, issuer (and the jku it advertises)."""

    key: PrivateKey
    kid: str
    alg: str
    issuer: str
    jku: str | None = None

    @classmethod
    def generate(
        cls, alg: str, issuer: str, kid: str | None = None, jku: str | None = None
    ) -> ClientSigner:
        return cls(generate_private_key(alg), kid or uuid.uuid4().hex[:16], alg, issuer, jku)

    @classmethod
    def from_pem(
        cls,
        pem: bytes | str | Path,
        issuer: str,
        kid: str,
        alg: str | None = None,
        jku: str | None = None,
    ) -> ClientSigner:
        """Load a PEM private key (bytes, or a path). alg defaults to RS384 / ES384 / ES256."""
        data = pem if isinstance(pem, bytes) else Path(pem).read_bytes()
        key = serialization.load_pem_private_key(data, password=None)
        if alg is None:
            if isinstance(key, rsa.RSAPrivateKey):
                alg = "RS384"
            elif isinstance(key, ec.EllipticCurvePrivateKey):
                alg = "ES256" if key.curve.name == "secp256r1" else "ES384"
            else:
                raise ValueError("only RSA and EC private keys can sign CDS client tokens")
        if alg not in SIGNING_ALGS:
            raise ValueError(f"alg must be one of {SIGNING_ALGS}")
        return cls(key, kid, alg, issuer, jku)  # type: ignore[arg-type]

    def private_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, Any]:
        return public_jwk(self.key, self.kid, self.alg)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}

    def token(
        self,
        audience: str | list[str],
        *,
        subject: str | None = None,
        lifetime_s: int = 300,
        jti: str | None = None,
        now: float | None = None,
        claims: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        """A signed client JWT for one call to the endpoint URL `audience`.

        Claims iss, aud, exp (now + lifetime), iat, jti (random unless given) and, when
        given, sub; `claims`/`headers` add or override members (tests build bad tokens so).
        """
        issued = int(now if now is not None else time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "exp": issued + lifetime_s,
            "iat": issued,
            "jti": jti or uuid.uuid4().hex,
        }
        if subject is not None:
            payload["sub"] = subject
        payload.update(claims or {})
        header: dict[str, Any] = {"typ": "JWT", "kid": self.kid}
        if self.jku:
            header["jku"] = self.jku
        header.update(headers or {})
        return jwt.encode(payload, self.key, algorithm=self.alg, headers=header)

"""The CDS Hooks sandbox's captured requests (tests/data/sandbox) and how to send them again,
signed exactly as the sandbox signs: ES384 with its own (public) private key, `kid`, `jku`,
`iss`, `aud` = the exact URL called, `exp` = `iat` + 300 s, `jti` a UUID."""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cds_service.client_token import ClientSigner

DATA = Path(__file__).resolve().parents[1] / "data" / "sandbox"
CAPTURED_ON = date(2026, 12, 4)  # the charts are dated relative to this day
ISSUER = "https://sandbox.cds-hooks.org"
KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"
JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
ORIGIN = "https://sandbox.cds-hooks.org"
NAMES = ("rx-sign-tofacitinib", "rx-sign-2-tablets-bid", "rx-view", "patient-view")

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?")


def signer() -> ClientSigner:
    """The sandbox's own key (keys/ecprivkey.pem of its repository; public)."""
    return ClientSigner.from_pem(DATA / "sandbox-ecprivkey.pem", issuer=ISSUER, kid=KID, jku=JKU)


def capture(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def _shift(value: Any, days: int) -> Any:
    if isinstance(value, dict):
        return {k: _shift(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, days) for v in value]
    if isinstance(value, str):
        found = _DATE.fullmatch(value)
        if found:
            moved = date.fromisoformat(found[1]) + timedelta(days=days)
            return moved.isoformat() + (found[2] or "")
    return value


def body(name: str, today: date | None = None) -> dict[str, Any]:
    """The request body as the sandbox sent it, every date moved by the days since the
    capture (birth dates too: the patients keep their age)."""
    days = ((today or date.today()) - CAPTURED_ON).days
    return _shift(copy.deepcopy(capture(name)["request_body"]), days)


def path(name: str) -> str:
    return urlsplit(capture(name)["url"]).path


def headers(name: str, url: str, language: str | None = None) -> dict[str, str]:
    """The captured headers, the sandbox's origin and a fresh token for `url`."""
    out = dict(capture(name)["request_headers"])
    out["origin"] = ORIGIN
    out["authorization"] = "Bearer " + signer().token(url, jti=str(uuid.uuid4()))
    if language:
        out["accept-language"] = language
    return out

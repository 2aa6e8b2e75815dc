"""schemathesis against /openapi.json: every endpoint, generated requests, never a 5xx."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import settings

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.outcome import diagnostics
from tests.reliability.conftest import PROFILE

_DB = Path(tempfile.mkdtemp(prefix="rheum-openapi-")) / "fuzz.db"
APP = create_app(Config(storage_url=f"sqlite:///{_DB}", allow_unsigned=True))
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    settings.get_profile(PROFILE),
    max_examples=min(
        settings.get_profile(PROFILE).max_examples, 60 if PROFILE == "short" else 1000
    ),
)
def test_openapi_generated_requests_never_5xx(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:300]}"
    if response.status_code in (400, 413, 415, 422):
        body = response.json()
        assert diagnostics(body), f"{case.method} {case.path}: a 4xx must name the problem"

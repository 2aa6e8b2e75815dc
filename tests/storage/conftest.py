"""Storage tests run on SQLite (a file per test) and, in the integration suite, on the
throw-away PostgreSQL cluster of the `postgres_url` fixture (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.storage import Base, normalise_url

BASE_URL = "https://cds.example.test"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cds.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(normalise_url(url))
    Base.metadata.drop_all(engine)  # each test starts from empty tables
    engine.dispose()
    return url


@pytest.fixture
def make_app(storage_url: str) -> Callable[..., Flask]:
    """An unsigned-mode service app on `storage_url` (the JWT is tested in tests/security)."""

    def build(**overrides: Any) -> Flask:
        kw: dict[str, Any] = {
            "base_url": BASE_URL,
            "storage_url": storage_url,
            "allow_unsigned": True,
            "patient_hash_key": "storage-test-key",
        }
        kw.update(overrides)
        return create_app(Config(**kw))

    return build

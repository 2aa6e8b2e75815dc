"""Fixtures of the terminology tests: storage on SQLite and PostgreSQL with empty tables, the
knowledge, and apps built on that storage (their terminology threads stopped afterwards)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine

from cds_service.app import create_app
from cds_service.config import Config, TerminologyConfig
from cds_service.knowledge import Knowledge, load_knowledge
from cds_service.storage import Base, normalise_url
from cds_service.terminology.store import TermBase


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cds.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = create_engine(normalise_url(url))
    TermBase.metadata.drop_all(engine)
    Base.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def make_app(storage_url: str, knowledge: Knowledge) -> Iterator[Callable[..., Flask]]:
    """`make_app(terminology=TerminologyConfig(...), **config)`: an unsigned-mode app."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        base = Config(storage_url=storage_url, allow_unsigned=True, patient_hash_key="k")
        app = create_app(dataclasses.replace(base, **overrides), knowledge)
        apps.append(app)
        return app

    yield build
    for app in apps:
        runtime = app.extensions["rheum_cds.runtime"]
        if runtime.terminology is not None:
            runtime.terminology.stop()
        runtime.storage.dispose()


def tx_config(url: str, **kw: Any) -> TerminologyConfig:
    return TerminologyConfig(url=url, **kw)

"""Fixtures of the service tests: the app in unsigned mode on SQLite, fault servers, schema."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.knowledge import Knowledge, load_knowledge
from tests.service.fault_server import FaultServer

SCHEMA_PATH = Path(__file__).parent / "schemas" / "cds-hooks-2.0.schema.json"


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge()


@pytest.fixture(scope="session")
def cds_schema() -> Callable[[str], Draft202012Validator]:
    """`cds_schema("CardsResponse").validate(body)` against the CDS Hooks 2.0 shapes."""
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))

    def validator(name: str) -> Draft202012Validator:
        return Draft202012Validator(
            {"$ref": f"{schema['$id']}#/$defs/{name}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    return validator


@pytest.fixture
def make_app(tmp_path: Path, knowledge: Knowledge) -> Callable[..., Flask]:
    """An app in unsigned mode on a fresh SQLite file; keyword arguments override Config."""

    def build(**overrides: Any) -> Flask:
        base = Config(
            storage_url=f"sqlite:///{tmp_path / 'service.db'}",
            allow_unsigned=True,
            patient_hash_key="test-key",
        )
        return create_app(dataclasses.replace(base, **overrides), knowledge)

    return build


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.close()

"""Validate suggestion resources as FHIR R4 (fhir.resources 8 ships R4 as the R4B package)."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parents[1] / "service" / "schemas" / "cds-hooks-2.0.schema.json"


def validate_r4(resource: dict[str, Any]) -> Any:
    """The parsed model; raises pydantic.ValidationError when `resource` is not valid R4."""
    name = resource["resourceType"]
    module = importlib.import_module(f"fhir.resources.R4B.{name.lower()}")
    return getattr(module, name).model_validate(resource)


def suggestion_resources(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        action["resource"]
        for card in cards
        for suggestion in card.get("suggestions", [])
        for action in suggestion["actions"]
        if "resource" in action
    ]


def assert_suggestions_valid_r4(cards: list[dict[str, Any]]) -> None:
    for resource in suggestion_resources(cards):
        validate_r4(resource)
        assert resource["resourceType"] != "Immunization", "never an Immunization (SPEC §7)"


@cache
def _cards_validator():
    """The CDS Hooks 2.0 CardsResponse schema the service contract tests use."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator(
        {"$ref": f"{schema['$id']}#/$defs/CardsResponse"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def assert_cards_response_schema(cards: list[dict[str, Any]]) -> None:
    """The cards as a response body validate against the CDS Hooks 2.0 JSON Schema."""
    _cards_validator().validate({"cards": cards})

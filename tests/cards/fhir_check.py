"""Validate suggestion resources as FHIR R4 (fhir.resources 8 ships R4 as the R4B package)."""

from __future__ import annotations

import importlib
from typing import Any


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

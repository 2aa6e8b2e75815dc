"""FHIR Conditions for the recognition tests: an active Condition around whatever `code` a test
sends (a coding with or without display, text only, several codings), so that each test says
only what it varies."""

from __future__ import annotations

from typing import Any

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


def active_condition(
    code: dict[str, Any], *, confirmed: bool = False, rid: str = "c1"
) -> dict[str, Any]:
    """An active Condition (confirmed too when asked) whose CodeableConcept is `code`."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
    }
    if confirmed:
        resource["verificationStatus"] = {"coding": [{"system": VERIFICATION, "code": "confirmed"}]}
    resource["code"] = code
    return resource

"""Error answers as FHIR OperationOutcome resources (CDS Hooks 3.0 ballot; issue 12 and 13).

Every 4xx and 5xx the service writes itself has this body: one issue with a FHIR IssueType
`code` for the status, `diagnostics` (a short PHI-free message that may name the member at
fault, never a value from the request) and `expression` (the member, when there is one).
"""

from __future__ import annotations

from typing import Any

# HTTP status -> FHIR IssueType (http://hl7.org/fhir/R4/valueset-issue-type.html)
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    408: "timeout",
    409: "conflict",
    410: "deleted",
    411: "invalid",
    412: "incomplete",
    413: "too-costly",
    414: "too-costly",
    415: "not-supported",
    416: "invalid",
    422: "processing",
    429: "throttled",
    431: "too-costly",
    500: "exception",
    502: "transient",
    503: "transient",
    504: "timeout",
}


def issue_type(status: int) -> str:
    if status in ISSUE_TYPES:
        return ISSUE_TYPES[status]
    return "exception" if status >= 500 else "invalid"


def operation_outcome(status: int, message: str, member: str | None = None) -> dict[str, Any]:
    """The OperationOutcome body of an error answer with this HTTP status."""
    issue: dict[str, Any] = {
        "severity": "fatal" if status >= 500 else "error",
        "code": issue_type(status),
        "diagnostics": message,
    }
    if member:
        issue["expression"] = [member]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def diagnostics(body: dict[str, Any]) -> str:
    """The message of an OperationOutcome built by `operation_outcome` ("" if none)."""
    issues = body.get("issue") if isinstance(body, dict) else None
    if isinstance(issues, list) and issues and isinstance(issues[0], dict):
        return str(issues[0].get("diagnostics", ""))
    return ""

"""The OpenAPI 3.1 description of every endpoint (`GET /openapi.json`), written as data.

Shapes follow CDS Hooks 2.0 (discovery, hook request, cards, feedback) and this service's own
additions: the card extension `org.rheum-cds` (DESIGN.md, Card contract), JSON error bodies,
the 412 OperationOutcome, and the operations endpoints.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from cds_service.config import Config
from cds_service.discovery import Service


def _version() -> str:
    try:
        return version("rheum-cds")
    except PackageNotFoundError:
        return "0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


STRING = {"type": "string"}
CODING = {
    "type": "object",
    "required": ["code"],
    "properties": {"system": STRING, "code": STRING, "display": STRING},
}

SCHEMAS: dict[str, Any] = {
    "OperationOutcome": {
        "type": "object",
        "required": ["resourceType", "issue"],
        "description": "Every error answer: one issue; `diagnostics` says what is wrong and "
        "`expression` names the request member at fault, when there is one.",
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code", "diagnostics"],
                    "properties": {
                        "severity": {"enum": ["fatal", "error"]},
                        "code": {"type": "string", "description": "FHIR IssueType"},
                        "diagnostics": STRING,
                        "expression": {"type": "array", "items": STRING},
                    },
                },
            },
        },
    },
    "Service": {
        "type": "object",
        "required": ["hook", "description", "id"],
        "properties": {
            "hook": STRING,
            "title": STRING,
            "description": STRING,
            "id": STRING,
            "prefetch": {"type": "object", "additionalProperties": STRING},
            "usageRequirements": STRING,
        },
    },
    "Discovery": {
        "type": "object",
        "required": ["services"],
        "properties": {"services": {"type": "array", "items": _ref("Service")}},
    },
    "HookRequest": {
        "type": "object",
        "required": ["hook", "hookInstance", "context"],
        "properties": {
            "hook": STRING,
            "hookInstance": STRING,
            "fhirServer": {"type": ["string", "null"], "format": "uri"},
            "fhirAuthorization": {
                "type": ["object", "null"],
                "properties": {
                    "access_token": STRING,
                    "token_type": STRING,
                    "expires_in": {"type": "integer"},
                    "scope": STRING,
                    "subject": STRING,
                },
            },
            "context": {
                "type": "object",
                "required": ["patientId"],
                "properties": {
                    "userId": STRING,
                    "patientId": STRING,
                    "encounterId": STRING,
                    "selections": {"type": "array", "items": STRING},
                    "draftOrders": {"type": "object", "description": "FHIR Bundle of orders"},
                },
            },
            "prefetch": {
                "type": ["object", "null"],
                "additionalProperties": {"type": ["object", "null"]},
            },
        },
    },
    "Card": {
        "type": "object",
        "required": ["summary", "indicator", "source"],
        "properties": {
            "uuid": STRING,
            "summary": {"type": "string", "maxLength": 139},
            "detail": STRING,
            "indicator": {"enum": ["info", "warning", "critical"]},
            "source": {
                "type": "object",
                "required": ["label"],
                "properties": {"label": STRING, "url": STRING, "icon": STRING, "topic": CODING},
            },
            "suggestions": {"type": "array", "items": {"type": "object"}},
            "selectionBehavior": {"enum": ["at-most-one", "any"]},
            "overrideReasons": {"type": "array", "items": CODING},
            "links": {"type": "array", "items": {"type": "object"}},
            "extension": {
                "type": "object",
                "properties": {
                    "org.rheum-cds": {
                        "type": "object",
                        "properties": {
                            "findings": {"type": "array"},
                            "scores": {"type": "array"},
                            "notAssessed": {"type": "array"},
                            "language": STRING,
                        },
                    }
                },
            },
        },
    },
    "Cards": {
        "type": "object",
        "required": ["cards"],
        "properties": {
            "cards": {"type": "array", "items": _ref("Card")},
            "systemActions": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Feedback": {
        "type": "object",
        "required": ["feedback"],
        "properties": {
            "feedback": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["card", "outcome", "outcomeTimestamp"],
                    "properties": {
                        "card": STRING,
                        "outcome": {"enum": ["accepted", "overridden"]},
                        "acceptedSuggestions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id"],
                                "properties": {"id": STRING},
                            },
                        },
                        "overrideReason": {
                            "type": "object",
                            "properties": {"reason": CODING, "userComment": STRING},
                        },
                        "outcomeTimestamp": {"type": "string", "format": "date-time"},
                    },
                },
            }
        },
    },
    "Health": {"type": "object", "required": ["status"], "properties": {"status": STRING}},
}

_HTML = {"description": "HTML page", "content": {"text/html": {"schema": STRING}}}

ERRORS = {
    "400": _json(
        _ref("OperationOutcome"), "Malformed request; `expression` names the member at fault"
    ),
    "401": _json(
        _ref("OperationOutcome"),
        "Not from a trusted client (JWT missing or refused); the OperationOutcome says only "
        "that authorisation failed (the reason is logged)",
    ),
    "404": _json(_ref("OperationOutcome"), "No such service"),
    "413": _json(_ref("OperationOutcome"), "Body larger than the configured maximum"),
}


def _date_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string", "format": "date"},
        "description": description,
    }


ANALYTICS_PARAMS = [
    _date_param("since", "first day (UTC) on which cards were shown, YYYY-MM-DD"),
    _date_param("until", "last day (UTC), included, YYYY-MM-DD"),
    {
        "name": "service",
        "in": "query",
        "required": False,
        "schema": STRING,
        "description": "only this CDS service id",
    },
]
ANALYTICS_ERRORS = {
    "400": _json(_ref("OperationOutcome"), "A bad query parameter; `member` names it"),
    "401": {"description": "analytics_token set and not presented; empty body"},
    "403": _json(
        _ref("OperationOutcome"), "No analytics_token configured and not a loopback request"
    ),
    "503": _json(_ref("OperationOutcome"), "Storage not reachable"),
}


def openapi_document(config: Config, services: dict[str, Service]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for this deployment (server URL from the configuration)."""
    service_ids = list(services)
    service_param = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": service_ids},
        "description": "CDS service id, as listed by discovery",
    }
    bearer = [{"cdsClientJwt": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "rheum-cds",
            "version": _version(),
            "description": (
                "CDS Hooks 2.0 service: disease activity and JAK inhibitor / biologic safety "
                "cards. Hook and feedback calls carry the CDS client's JWT "
                "(Authorization: Bearer) unless the operator allowed unsigned requests."
            ),
        },
        "servers": [{"url": config.base_url}],
        "paths": {
            "/cds-services": {
                "get": {
                    "summary": "CDS Hooks discovery: the services and their prefetch templates",
                    "operationId": "discovery",
                    "responses": {"200": _json(_ref("Discovery"), "The services")},
                }
            },
            "/cds-services/{id}": {
                "post": {
                    "summary": "Call a CDS service (order-sign, order-select or patient-view)",
                    "operationId": "callService",
                    "parameters": [service_param],
                    "security": bearer,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("HookRequest")}},
                    },
                    "responses": {
                        "200": _json(_ref("Cards"), "Cards (possibly none)"),
                        **ERRORS,
                        "412": {
                            "description": (
                                "A target order needs patient data, none was prefetched and "
                                "no usable fhirServer was given"
                            ),
                            "content": {
                                "application/fhir+json": {"schema": _ref("OperationOutcome")},
                                "application/json": {"schema": _ref("OperationOutcome")},
                            },
                        },
                        "503": _json(
                            _ref("OperationOutcome"), "Replay cache (database) not reachable"
                        ),
                    },
                }
            },
            "/cds-services/{id}/feedback": {
                "post": {
                    "summary": "CDS Hooks 2.0 feedback on cards (idempotent)",
                    "operationId": "feedback",
                    "parameters": [service_param],
                    "security": bearer,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Feedback")}},
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["received", "stored", "duplicates"],
                                "properties": {
                                    "received": {"type": "integer"},
                                    "stored": {"type": "integer"},
                                    "duplicates": {"type": "integer"},
                                },
                            },
                            "Committed (or already stored: the same item twice is kept once)",
                        ),
                        **ERRORS,
                        "503": _json(
                            _ref("OperationOutcome"), "Storage not reachable; retry later"
                        ),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness (also says when unsigned requests are accepted)",
                    "operationId": "healthz",
                    "responses": {"200": _json(_ref("Health"), "The process is alive")},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: storage reachable",
                    "operationId": "readyz",
                    "responses": {
                        "200": _json(_ref("Health"), "Ready"),
                        "503": _json(_ref("Health"), "Storage not reachable"),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (no PHI in labels)",
                    "operationId": "metrics",
                    "responses": {
                        "200": {
                            "description": "Prometheus text exposition format",
                            "content": {"text/plain": {"schema": STRING}},
                        }
                    },
                }
            },
            "/docs/rules/": {
                "get": {
                    "summary": "Index of the rule and score pages",
                    "operationId": "ruleIndex",
                    "responses": {"200": _HTML},
                }
            },
            "/docs/rules/{id}": {
                "get": {
                    "summary": "The page of one rule or score (what, why, source): card links",
                    "operationId": "rulePage",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": STRING,
                            "description": "rule or score id, e.g. JAKI-AGE-65, DAS28-ESR",
                        }
                    ],
                    "responses": {
                        "200": _HTML,
                        "404": _json(_ref("OperationOutcome"), "No such rule or score"),
                    },
                }
            },
            "/analytics/feedback.json": {
                "get": {
                    "summary": "Feedback analytics for the operator (docs/analytics.md)",
                    "operationId": "feedbackAnalytics",
                    "parameters": ANALYTICS_PARAMS,
                    "security": [{"analyticsToken": []}],
                    "responses": {
                        "200": _json(
                            {"type": "object", "required": ["period", "totals", "by_rule"]},
                            "Counts per rule, indicator and service; override reasons",
                        ),
                        **ANALYTICS_ERRORS,
                    },
                }
            },
            "/analytics/feedback": {
                "get": {
                    "summary": "Feedback analytics as an HTML page",
                    "operationId": "feedbackAnalyticsPage",
                    "parameters": ANALYTICS_PARAMS,
                    "security": [{"analyticsToken": []}],
                    "responses": {"200": _HTML, **ANALYTICS_ERRORS},
                }
            },
            "/apps/activity/": {
                "get": {
                    "summary": "The trend app (SMART on FHIR, docs/activity-app.md)",
                    "description": (
                        "Opened by the EHR with iss and launch (SMART App Launch, PKCE S256), "
                        "or with iss and patient on an open FHIR server."
                    ),
                    "operationId": "activityApp",
                    "parameters": [
                        {
                            "name": "lang",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["en", "zh-TW", "zh-CN", "ja"]},
                        }
                    ],
                    "responses": {"200": _HTML},
                }
            },
            "/apps/activity/{id}": {
                "get": {
                    "summary": "The trend app's script and style sheet (app.js, app.css)",
                    "operationId": "activityAppAsset",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": STRING}
                    ],
                    "responses": {
                        "200": {"description": "JavaScript or CSS"},
                        "404": _json(_ref("OperationOutcome"), "No such asset"),
                    },
                }
            },
            "/apps/activity/api/trend": {
                "post": {
                    "summary": "The patient's scores, labs and treatments over time as charts",
                    "description": (
                        "A FHIR Bundle of the Patient, Observations, Conditions and "
                        "MedicationRequests the app read; scored by the engine of the cards and "
                        "answered as HTML (inline SVG and a table). Nothing is kept or logged."
                    ),
                    "operationId": "activityTrend",
                    "parameters": [
                        {
                            "name": "lang",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["en", "zh-TW", "zh-CN", "ja"]},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/fhir+json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["resourceType"],
                                    "properties": {
                                        "resourceType": {"const": "Bundle"},
                                        "entry": {"type": "array"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _HTML,
                        "400": _json(_ref("OperationOutcome"), "Not a FHIR Bundle"),
                        "413": _json(_ref("OperationOutcome"), "Body larger than allowed"),
                        "415": _json(_ref("OperationOutcome"), "Not application/fhir+json"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document")},
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "analyticsToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "service.analytics_token; when it is empty the analytics answer "
                        "loopback requests only"
                    ),
                },
                "cdsClientJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": (
                        "CDS Hooks 2.0 client JWT: RS384/ES384 (RS256/ES256 accepted), kid and "
                        "typ in the header; iss, aud (this endpoint's URL), exp, iat, jti."
                    ),
                },
            },
        },
    }

"""The treat-to-target trend app, a SMART on FHIR app served by the service (docs/activity-app.md).

    GET  /apps/activity/                the app page (?lang=en|zh-TW|zh-CN|ja; the EHR adds
                                        iss + launch, an open server iss + patient)
    GET  /apps/activity/<asset>         its script and style sheet (no CDN, no inline script)
    POST /apps/activity/api/trend       a FHIR Bundle of the patient's Patient, Observations,
                                        Conditions and MedicationRequests/Statements, as the
                                        browser read them -> the charts as HTML (inline SVG)

The browser does the launch and reads the FHIR server with its own token (kept in its
sessionStorage); the service never sees the token and keeps nothing of the Bundle after the
answer: it is normalised and scored by the engine of the cards (the same configured knowledge,
institution codes included), rendered, and dropped. Neither the body nor anything of it is
logged. A body that is not a FHIR Bundle is a 400 OperationOutcome.
"""

from __future__ import annotations

import html
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, Response, abort, request, send_from_directory

from cards.catalogue import catalogue
from cards.chart import render_trends
from cards.language import LANGUAGES, match_language
from cds_service.assess.trends import build_trends
from cds_service.model import PatientRecord
from cds_service.normalise import normalise
from cds_service.routes import get_runtime, json_error

bp = Blueprint("apps", __name__)

ASSETS = Path(__file__).resolve().parents[1] / "apps" / "activity"
ASSET_NAMES = frozenset({"app.js", "app.css"})
SCOPES = (
    "launch patient/Observation.rs patient/Condition.rs patient/MedicationRequest.rs "
    "patient/Patient.rs openid fhirUser"
)
# The app reads the FHIR server the EHR names (any origin) and its authorization server.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' https: http:; base-uri 'none'; form-action 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MESSAGES = (
    "loading",
    "scoring",
    "connected",
    "error_launch",
    "error_state",
    "error_auth",
    "error_fhir",
    "error_scoring",
)
RECORD_TYPES = {
    "Observation": "observations",
    "Condition": "conditions",
    "MedicationRequest": "medication_requests",
    "MedicationStatement": "medication_statements",
}


def _language(value: str | None) -> str:
    if value in LANGUAGES:
        return str(value)
    return match_language(value or "") or "en"


def _with_headers(response: Response, csp: str | None = None) -> Response:
    for name, value in HEADERS.items():
        response.headers[name] = value
    if csp:
        response.headers["Content-Security-Policy"] = csp
    return response


@bp.get("/apps/activity/")
def page() -> Response:
    language = _language(request.args.get("lang"))
    cat = catalogue(language)
    config = get_runtime().config
    e = html.escape
    messages = "".join(
        f" data-msg-{key.replace('_', '-')}='{e(cat.get('chart', key), quote=True)}'"
        for key in MESSAGES
    )
    body = (
        "<!doctype html>"
        f"<html lang='{e(language)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(cat.get('chart', 'app_title'))} · rheum-cds</title>"
        "<link rel='icon' href='data:,'><link rel='stylesheet' href='app.css'></head>"
        f"<body data-lang='{e(language)}' data-client-id='{e(config.smart_client_id, quote=True)}'"
        f" data-scope='{e(SCOPES, quote=True)}'{messages}>"
        f"<header><h1>{e(cat.get('chart', 'app_title'))}</h1>"
        "<p id='patient' class='patient'></p><p id='server' class='server'></p></header>"
        "<main>"
        "<p id='status' class='status' role='status' aria-live='polite'>"
        f"{e(cat.get('chart', 'loading'))}</p>"
        f"<p id='point-detail' class='point-detail' aria-live='polite'>"
        f"{e(cat.get('chart', 'detail_hint'))}</p>"
        "<div id='charts'></div>"
        f"<p class='note'>{e(cat.get('chart', 'computed_by'))}</p>"
        "</main><script src='app.js'></script></body></html>"
    )
    return _with_headers(Response(body, mimetype="text/html"), PAGE_CSP)


@bp.get("/apps/activity/<name>")
def asset(name: str) -> Response:
    if name not in ASSET_NAMES:
        abort(404)
    response = send_from_directory(ASSETS, name, max_age=300)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _record(bundle: Any) -> PatientRecord | Response:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return json_error(400, "body: not a FHIR Bundle", "Bundle")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        return json_error(400, "Bundle.entry: not a list", "Bundle.entry")
    found: dict[str, list[dict[str, Any]]] = {v: [] for v in RECORD_TYPES.values()}
    patient: dict[str, Any] | None = None
    for entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        kind = resource.get("resourceType")
        if kind == "Patient" and patient is None:
            patient = resource
        elif kind in RECORD_TYPES:
            found[RECORD_TYPES[kind]].append(resource)
    patient_id = str(patient.get("id", "")) if patient else ""
    return PatientRecord(patient_id=patient_id, patient=patient, **found)


@bp.post("/apps/activity/api/trend")
def trend() -> Response:
    if request.mimetype not in ("application/json", "application/fhir+json"):
        return json_error(415, "body: send a FHIR Bundle as application/fhir+json", "body")
    try:
        bundle = orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError:
        return json_error(400, "body: not JSON", "body")
    record = _record(bundle)
    if isinstance(record, Response):
        return record
    runtime = get_runtime()
    knowledge = runtime.knowledge
    facts = normalise(record, [], knowledge, date.today())
    trends = build_trends(record, facts, knowledge)
    fragment = render_trends(trends, _language(request.args.get("lang")), knowledge)
    return _with_headers(Response(fragment, mimetype="text/html"))

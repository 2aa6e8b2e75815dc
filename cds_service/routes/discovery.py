"""`GET /cds-services` (CDS Hooks discovery) and `GET /openapi.json`."""

from __future__ import annotations

from flask import Blueprint, Response

from cds_service.discovery import discovery_document
from cds_service.openapi import openapi_document
from cds_service.routes import get_runtime, json_response

bp = Blueprint("discovery", __name__)


@bp.get("/cds-services", strict_slashes=False)  # some EHR set-ups add a slash
def discovery() -> Response:
    return json_response(discovery_document(get_runtime().services))


@bp.get("/openapi.json")
def openapi() -> Response:
    runtime = get_runtime()
    return json_response(openapi_document(runtime.config, runtime.services))

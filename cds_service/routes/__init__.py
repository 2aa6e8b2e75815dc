"""HTTP routes (Flask blueprints): discovery, hooks, feedback, operations; and the JSON error
answers every route shares.

Error bodies are FHIR OperationOutcome resources (cds_service.outcome): one issue whose
`diagnostics` is the message and whose `expression` names the member at fault. Messages never
carry values from the request (they may be PHI). Anything a client can send ends in a 4xx; a
500 means a bug in the service and is logged with the exception type only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import orjson
from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException

from cds_service import metrics
from cds_service.auth import unauthorized_body
from cds_service.outcome import operation_outcome

if TYPE_CHECKING:
    from cds_service.runtime import Runtime

log = logging.getLogger(__name__)


def get_runtime() -> Runtime:
    """The Runtime of the current app (built by cds_service.app.create_app)."""
    return current_app.extensions["rheum_cds.runtime"]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer serialised with orjson (fast for large card lists)."""
    response = Response(orjson.dumps(body), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_error(
    status: int, message: str, member: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """An error answer: an OperationOutcome with the PHI-free `message`."""
    return json_response(operation_outcome(status, message, member), status, headers)


def install_error_handlers(app: Flask) -> None:
    """JSON bodies for HTTP errors (404, 405, 413...) and a logged JSON 500 for bugs."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 413:
            return json_error(413, "body: larger than the configured maximum", "body")
        if status == 401:
            response = json_response(unauthorized_body(), 401)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        headers = {}
        if status == 405 and exc.get_response().headers.get("Allow"):
            headers["Allow"] = exc.get_response().headers["Allow"]
        if status == 429 and exc.get_response().headers.get("Retry-After"):
            headers["Retry-After"] = exc.get_response().headers["Retry-After"]
        return json_error(status, exc.name, headers=headers)

    @app.errorhandler(Exception)
    def _bug(exc: Exception) -> Response:
        # Exception type and location only: the message or arguments may hold PHI.
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
        log.error("unhandled %s at %s", type(exc).__name__, where)
        metrics.observe_error("unhandled_exception")
        return json_error(500, "internal error; the request was not processed")

"""`POST /cds-services/{id}`: a hook call (the stages run in cds_service.pipeline)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from cds_service import metrics
from cds_service.pipeline import HookOutcome, handle_hook, record_outcome
from cds_service.request import RequestError
from cds_service.routes import get_runtime, json_response

if TYPE_CHECKING:
    from cds_service.runtime import Runtime

log = logging.getLogger(__name__)
bp = Blueprint("hooks", __name__)


def _read_body() -> bytes:
    length = request.content_length
    limit = request.max_content_length
    if length is not None and (limit is None or length <= limit):
        # One read of the declared length: werkzeug's stream reads 64 KB at a time, and for
        # each of those gunicorn copies what it holds of the rest of the body (reading the
        # body over loopback TCP: 600 resources 0.26-0.51 -> 0.24-0.31 ms of CPU, 3 000
        # resources 2.6 -> 1.0-1.8 ms). A body cut short is read short and fails to parse.
        return request.environ["wsgi.input"].read(length)
    try:  # no Content-Length (chunked), or more than allowed: werkzeug's checks
        return request.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        raise RequestError(413, "body", "body: larger than the configured maximum") from exc


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    runtime = get_runtime()
    outcome = handle_hook(runtime, service_id, request.path, request.headers, _read_body)
    response = json_response(outcome.body, outcome.status)
    for name, value in outcome.headers.items():
        response.headers[name] = value
    # Stage 7 runs once the answer has been sent (WSGI close), so the audit write does not
    # delay the clinician. The Flask test client closes the response when it is consumed or
    # used as a context manager (or with buffered=True).
    response.call_on_close(lambda: _record(runtime, outcome))
    return response


def _record(runtime: Runtime, outcome: HookOutcome) -> None:
    try:
        record_outcome(runtime, outcome)
    except Exception as exc:  # the answer is sent already; never fail the connection
        log.error("recording the hook call failed: %s", type(exc).__name__)
        metrics.observe_error("record_outcome")

"""`POST /cds-services/{id}`: a hook call (the stages run in cds_service.pipeline).

A hook call is answered by `install_fast_path`'s WSGI entry without Flask's per-request
machinery (request and app contexts, URL matching, before/after hooks through their
registries): what those do for this route — the request id, the metric and access-log line,
CORS — is done here by the same functions (logs.begin_request / observe_response,
cors.cors_headers), the answer goes to the server as a status line, a header list and one
body piece, and an exception escaping the pipeline is handed to Flask, which answers it as
for any view. The request's metric and access-log line are written once the answer is sent,
with stage 7 (`_after`). Every other request, and any path that is not exactly
`/cds-services/<id>`, goes to Flask; so does a hook call when the fast path is not installed
(the Blueprint's view below).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from flask import Blueprint, Flask, Response, request
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wsgi import get_content_length, get_path_info

from cds_service import cors, logs, metrics
from cds_service.pipeline import HookOutcome, handle_hook, record_outcome
from cds_service.request import RequestError
from cds_service.routes import get_runtime, json_response

if TYPE_CHECKING:
    from cds_service.runtime import Runtime

log = logging.getLogger(__name__)
bp = Blueprint("hooks", __name__)

ROUTE = "/cds-services/<service_id>"  # the route template metrics and access logs name
_PREFIX = "/cds-services/"
_ESCAPED = "rheum_cds.hook_exception"  # environ key: an exception for Flask to answer


def _read_body_from(
    stream_owner: WerkzeugRequest | None, environ: dict[str, Any], limit: int | None
) -> bytes:
    length = get_content_length(environ)
    if length is not None and (limit is None or length <= limit):
        # One read of the declared length: werkzeug's stream reads 64 KB at a time, and for
        # each of those gunicorn copies what it holds of the rest of the body (reading the
        # body over loopback TCP: 600 resources 0.26-0.51 -> 0.24-0.31 ms of CPU, 3 000
        # resources 2.6 -> 1.0-1.8 ms). The default worker reads it from the socket with
        # one copy (gevent_worker.WholeBody). A body cut short is read short and fails to
        # parse.
        return environ["wsgi.input"].read(length)
    if stream_owner is None:
        stream_owner = WerkzeugRequest(environ)
        stream_owner.max_content_length = limit
    try:  # no Content-Length (chunked), or more than allowed: werkzeug's checks
        return stream_owner.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        raise RequestError(413, "body", "body: larger than the configured maximum") from exc


def _read_body() -> bytes:
    return _read_body_from(request, request.environ, request.max_content_length)


def _answer(
    runtime: Runtime,
    service_id: str,
    path: str,
    headers: Mapping[str, str],
    read_body: Callable[[], bytes],
) -> Response:
    outcome = handle_hook(runtime, service_id, path, headers, read_body)
    response = json_response(outcome.body, outcome.status)
    for name, value in outcome.headers.items():
        response.headers[name] = value
    # Stage 7 runs once the answer has been sent (WSGI close), so the audit write does not
    # delay the clinician. The Flask test client closes the response when it is consumed or
    # used as a context manager (or with buffered=True).
    response.call_on_close(lambda: _record(runtime, outcome))
    return response


@bp.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    escaped = request.environ.pop(_ESCAPED, None)
    if escaped is not None:  # the fast path's call failed: answered by the app's handlers
        raise escaped
    return _answer(get_runtime(), service_id, request.path, request.headers, _read_body)


def _record(runtime: Runtime, outcome: HookOutcome) -> None:
    try:
        record_outcome(runtime, outcome)
    except Exception as exc:  # the answer is sent already; never fail the connection
        log.error("recording the hook call failed: %s", type(exc).__name__)
        metrics.observe_error("record_outcome")


def _after(
    runtime: Runtime, outcome: HookOutcome, rid: str, started: float, answered: float
) -> None:
    """Once the answer is sent: the request counted and its access-log line (with the
    request's id and the time the answer took), then stage 7."""
    token = logs.request_id_var.set(rid)
    try:
        logs.observe_response(ROUTE, "POST", outcome.status, started, answered)
    except Exception as exc:  # the answer is sent already; never fail the connection
        log.error("counting the hook call failed: %s", type(exc).__name__)
    finally:
        logs.end_request(token)
    _record(runtime, outcome)


class _Answer:
    """The fast path's WSGI body: one piece; the access count and line and stage 7 when the
    server closes it (`_after`)."""

    __slots__ = ("_body", "_on_close")

    def __init__(self, body: bytes, on_close: Callable[[], None]) -> None:
        self._body = body
        self._on_close = on_close

    def __iter__(self) -> Iterator[bytes]:
        yield self._body

    def close(self) -> None:
        self._on_close()


# "200 OK", "400 BAD REQUEST"...: the status lines werkzeug's Response sends
_STATUS_LINES = {code: f"{code} {name.upper()}" for code, name in HTTP_STATUS_CODES.items()}


def install_fast_path(app: Flask) -> None:
    """Answer `POST /cds-services/<id>` in front of Flask (see the module docstring).

    Flask's request handling around the view cost ~0.3 ms of CPU per hook call (its code
    runs cache-cold after the engine); this entry does the same for the route in a fraction.
    The answer is handed to the server as a status line, a header list and one body piece,
    with the headers a werkzeug Response of the view would send, in the same order
    (tests/service/test_hook_entry.py).
    """
    flask_wsgi = app.wsgi_app
    runtime: Runtime = app.extensions["rheum_cds.runtime"]
    config = runtime.config

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return flask_wsgi(environ, start_response)
        path = get_path_info(environ)
        service_id = path[len(_PREFIX) :] if path.startswith(_PREFIX) else ""
        if not service_id or "/" in service_id:
            return flask_wsgi(environ, start_response)
        started = time.perf_counter()
        rid, token = logs.begin_request(environ.get("HTTP_X_REQUEST_ID", ""))
        try:
            limit = app.config["MAX_CONTENT_LENGTH"]
            try:
                outcome = handle_hook(
                    runtime,
                    service_id,
                    path,
                    EnvironHeaders(environ),
                    lambda: _read_body_from(None, environ, limit),
                )
                body = orjson.dumps(outcome.body)
                # json_response's headers, the view's, then install_cors's and
                # install_request_logging's after-request hooks', in the order Flask runs them
                headers = [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    *outcome.headers.items(),
                    *cors.cors_headers(config, environ.get("HTTP_ORIGIN"), "POST"),
                    (logs.REQUEST_ID_HEADER, rid),
                ]
                status = _STATUS_LINES.get(outcome.status) or f"{outcome.status} UNKNOWN"
            except Exception as exc:  # a bug: Flask's error handlers answer (JSON 500...)
                environ[_ESCAPED] = exc
                environ["HTTP_X_REQUEST_ID"] = rid  # the same id on its log lines
                return flask_wsgi(environ, start_response)
            answered = time.perf_counter()
            start_response(status, headers)
            return _Answer(body, lambda: _after(runtime, outcome, rid, started, answered))
        finally:
            logs.end_request(token)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]

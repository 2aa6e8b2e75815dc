"""JSON logs without PHI, one object per line, each carrying the request id.

What may be logged: fixed messages, route templates, HTTP status, durations, counts, reason
codes, service ids, issuers. Never request or response bodies, query strings, patient/order
ids or values, tokens. Extra structured members go through `extra={"fields": {...}}`.

The request id is taken from an incoming `X-Request-Id` header when it is a short token of
safe characters, otherwise drawn at random (32 hex digits); it is echoed in the response header.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, request

from cds_service import metrics

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "rheum_cds_request_id", default=None
)
access_log = logging.getLogger("rheum_cds.access")


class JsonFormatter(logging.Formatter):
    """Formats a LogRecord as one JSON object: ts, level, logger, msg, request_id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            out["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                out.setdefault(key, value)
        if record.exc_info and record.exc_info[0] is not None:
            # the exception type and where it happened; messages may quote data, so no text
            out["exc_type"] = record.exc_info[0].__name__
            tb = record.exc_info[2]
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is not None:
                out["exc_at"] = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
        return json.dumps(out, default=str, ensure_ascii=False)


_factory_installed = False


def _install_record_factory() -> None:
    """Stamp every LogRecord with the request id current when it is created, so handlers
    that format later (queues, test capture) still show it; withhold other libraries' text."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_third_party(record)
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


# Libraries whose debug and info lines carry URLs (with patient ids in FHIR paths and
# queries), SQL parameters (feedback comments) or request lines: held at WARNING whatever the
# service's log level.
QUIET_LOGGERS = (
    "urllib3",
    "requests",
    "werkzeug",
    "sqlalchemy",
    "charset_normalizer",
    "hpack",
    "httpx",
    "httpcore",
    "gunicorn.access",
    "psycopg",
    "asyncio",
)
FIRST_PARTY = ("rheum_cds", "cds_service", "cards", "gunicorn.error", "root")


def _redact_third_party(record: logging.LogRecord) -> None:
    """Other libraries' records keep their logger, level and exception type, not their text:
    urllib3's "Retrying ... /fhir/Patient/<id>" or a driver's error quoting a parameter would
    otherwise put record data in the log, whichever handler writes it."""
    name = record.name
    if name.startswith(FIRST_PARTY) or name == "py.warnings":
        return
    record.msg = f"{name}: {record.levelname.lower()} (text withheld: may carry request data)"
    record.args = ()


def quiet_third_party_loggers() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def configure_logging(level: str = "INFO") -> None:
    """Route the root logger to stderr in JSON (idempotent); other libraries' loggers stay at
    WARNING and their text is withheld (QUIET_LOGGERS, _redact_third_party)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    quiet_third_party_loggers()
    _install_record_factory()
    for handler in root.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)


def current_request_id() -> str | None:
    return request_id_var.get()


def begin_request(incoming: str | None) -> tuple[str, contextvars.Token[str | None]]:
    """The request id of a request (its `X-Request-Id` when safe, else a random one), set
    for its log lines; the token resets it (`end_request`)."""
    if incoming and _SAFE_REQUEST_ID.match(incoming):
        rid = incoming
    else:  # 128 random bits as 32 hex digits (uuid4().hex costs ~5x more, cold: a UUID object)
        rid = os.urandom(16).hex()
    return rid, request_id_var.set(rid)


def finish_response(
    response: Response, rid: str | None, route: str, method: str, started: float | None
) -> None:
    """The request id echoed, the request counted, and its access-log line (route template,
    no query) when INFO is on. `started`: time.perf_counter() at arrival."""
    if rid:
        response.headers[REQUEST_ID_HEADER] = rid
    observe_response(route, method, response.status_code, started)


def observe_response(
    route: str, method: str, status: int, started: float | None, answered: float | None = None
) -> None:
    """The request counted, and its access-log line when INFO is on (finish_response; the
    hook route's own entry, which sends its headers itself, once the answer is sent).
    `answered`: time.perf_counter() when the answer was ready (default: now)."""
    metrics.observe_http(route, method, status)
    if access_log.isEnabledFor(logging.INFO):  # the line and its fields only when written
        ended = time.perf_counter() if answered is None else answered
        ms = round((ended - started) * 1000, 1) if started else None
        access_log.info(
            "%s %s %s",
            method,
            route,
            status,
            extra={"fields": {"method": method, "route": route, "status": status, "ms": ms}},
        )


def end_request(token: contextvars.Token[str | None] | None) -> None:
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:
            request_id_var.set(None)


def install_request_logging(app: Flask) -> None:
    """Request id per request, an access-log line per response (route template, no query)."""
    _install_record_factory()
    quiet_third_party_loggers()

    @app.before_request
    def _start() -> None:
        rid, token = begin_request(request.headers.get(REQUEST_ID_HEADER, ""))
        g.request_id = rid
        g.request_started = time.perf_counter()
        g.request_id_token = token

    @app.after_request
    def _finish(response: Response) -> Response:
        rule = request.url_rule
        route = rule.rule if rule is not None else "unmatched"
        finish_response(
            response, g.get("request_id"), route, request.method, g.get("request_started")
        )
        return response

    @app.teardown_request
    def _clear(_exc: BaseException | None) -> None:
        end_request(g.get("request_id_token"))

"""CORS for every route, error responses and OPTIONS preflight included.

The CDS Hooks sandbox and web EHRs call from a browser with an `Authorization` header, so
the preflight must name it explicitly (a `*` in Access-Control-Allow-Headers does not cover
Authorization). Origins come from config.cors_origins: none by default (no CORS headers);
`("*",)` answers `*`; otherwise a listed Origin is echoed back (with `Vary: Origin`) and
others get no CORS headers, which makes the browser refuse the response. In sandbox mode a
page on a loopback origin (`http://localhost:PORT`, `http://127.0.0.1:PORT`, `[::1]`) is
allowed too: the sandbox built and served on the user's own machine (sandbox mode binds
loopback and serves demo charts only).

Headers are added in an `after_request` hook, which Flask also runs for error responses
(401, 400, 404, 413, 503, and 500 from unhandled exceptions).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

from cds_service.config import Config

ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-Id"
ALLOWED_METHODS = "GET, POST, OPTIONS"
EXPOSED_HEADERS = "X-Request-Id"
MAX_AGE_S = "600"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _is_loopback_origin(origin: str) -> bool:
    """`origin` is exactly scheme://host[:port] with an http(s) scheme and a loopback host."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme not in ("http", "https") or host not in LOOPBACK_HOSTS:
        return False
    shown = f"[{host}]" if ":" in host else host
    return origin == f"{parts.scheme}://{shown}" + (f":{port}" if port is not None else "")


def _allowed_origin(config: Config, origin: str | None) -> str | None:
    if "*" in config.cors_origins:
        return "*"
    if origin and origin in config.cors_origins:
        return origin
    if origin and config.sandbox and _is_loopback_origin(origin):
        return origin
    return None


def install_cors(app: Flask, config: Config) -> None:
    @app.before_request
    def _preflight() -> Response | None:
        # Answer every OPTIONS here (known route or not): a preflight never reaches a view.
        if request.method != "OPTIONS":
            return None
        response = Response(status=204)
        response.headers["Allow"] = ALLOWED_METHODS
        return response

    @app.after_request
    def _cors(response: Response) -> Response:
        return add_cors_headers(response, config, request.headers.get("Origin"), request.method)


def add_cors_headers(
    response: Response, config: Config, origin: str | None, method: str
) -> Response:
    """The CORS headers of an answer to a request from `origin` (install_cors's after-request
    hook): cors_headers, with `Origin` added to a `Vary` the response has already."""
    for name, value in cors_headers(config, origin, method):
        if name == "Vary" and "Vary" in response.headers:
            response.vary.add(value)
        else:
            response.headers[name] = value
    return response


def cors_headers(config: Config, origin: str | None, method: str) -> list[tuple[str, str]]:
    """The CORS headers of an answer to a request from `origin`, in the order they are added:
    `Vary: Origin` unless every origin is allowed, then, for an allowed origin, the
    Access-Control-* headers (the hook route's entry sends these as they are)."""
    allowed = _allowed_origin(config, origin)
    headers = [] if allowed == "*" else [("Vary", "Origin")]
    if allowed is None:
        return headers
    headers.append(("Access-Control-Allow-Origin", allowed))
    headers.append(("Access-Control-Expose-Headers", EXPOSED_HEADERS))
    if method == "OPTIONS":
        headers.append(("Access-Control-Allow-Methods", ALLOWED_METHODS))
        headers.append(("Access-Control-Allow-Headers", ALLOWED_HEADERS))
        headers.append(("Access-Control-Max-Age", MAX_AGE_S))
    return headers

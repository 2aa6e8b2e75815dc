"""CORS for every route, error responses and OPTIONS preflight included.

The CDS Hooks sandbox and web EHRs call from a browser with an `Authorization` header, so
the preflight must name it explicitly (a `*` in Access-Control-Allow-Headers does not cover
Authorization). Origins come from config.cors_origins: none by default (no CORS headers);
`("*",)` answers `*`; otherwise a listed Origin is echoed back (with `Vary: Origin`) and
others get no CORS headers, which makes the browser refuse the response.

Headers are added in an `after_request` hook, which Flask also runs for error responses
(401, 400, 404, 413, 503, and 500 from unhandled exceptions).
"""

from __future__ import annotations

from flask import Flask, Response, request

from cds_service.config import Config

ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-Id"
ALLOWED_METHODS = "GET, POST, OPTIONS"
EXPOSED_HEADERS = "X-Request-Id"
MAX_AGE_S = "600"


def _allowed_origin(config: Config, origin: str | None) -> str | None:
    if "*" in config.cors_origins:
        return "*"
    if origin and origin in config.cors_origins:
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
        allowed = _allowed_origin(config, request.headers.get("Origin"))
        if allowed != "*":
            response.vary.add("Origin")
        if allowed is None:
            return response
        response.headers["Access-Control-Allow-Origin"] = allowed
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE_S
        return response

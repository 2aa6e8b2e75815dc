"""Operations endpoints: `/healthz` (liveness), `/readyz` (storage reachable), `/metrics`.

`/healthz` also says, when the site has its own SNOMED CT (a terminology server or an RF2
import), how many codes are loaded, the server's version, when it was last expanded and whether
look-ups are paused (cds_service/terminology).

`/healthz` answers 200 while the process serves; in unsigned mode (`--allow-unsigned`) its body
carries `"unsigned": true` and a warning, as the start-up log does. `/readyz` answers 503 while
the database cannot be reached (a load balancer then routes elsewhere). `/metrics` is the
Prometheus exposition (all gunicorn workers added up in multiprocess mode; see metrics.py).

Also installs the app-wide handler that turns a `StorageError` escaping a view (e.g. the JWT
replay cache being unreachable during authentication) into a 503 JSON answer.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request

from cds_service import metrics
from cds_service.config import Config
from cds_service.outcome import operation_outcome
from cds_service.storage import RETRY_AFTER_S, StorageError, get_storage

bp = Blueprint("ops", __name__)

UNSIGNED_WARNING = (
    "UNSIGNED MODE: requests without a JWT are accepted (--allow-unsigned). "
    "For local development and the sandbox on loopback only."
)


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


@bp.get("/healthz")
def healthz() -> Response:
    config: Config = current_app.config["RHEUM_CDS"]
    body: dict[str, Any] = {"status": "ok", "unsigned": config.allow_unsigned}
    if config.allow_unsigned:
        body["warning"] = UNSIGNED_WARNING
    runtime = current_app.extensions.get("rheum_cds.runtime")
    terminology = getattr(runtime, "terminology", None)
    if terminology is not None and (
        terminology.client is not None or terminology.vs.cond_terminology
    ):
        body["terminology"] = terminology.status()  # counts and versions, no URL, no codes
    return _json(200, body)


@bp.get("/readyz")
def readyz() -> Response:
    if get_storage().ping():
        return _json(200, {"status": "ready", "storage": "ok"})
    return _json(503, {"status": "not ready", "storage": "unreachable"})


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus exposition; with service.metrics_token set, only for `Authorization: Bearer
    <token>` (compared in constant time), else 401."""
    config: Config = current_app.config["RHEUM_CDS"]
    if config.metrics_token:
        scheme, _, presented = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode("utf-8"), config.metrics_token.encode("utf-8")
        ):
            response = _json(401, operation_outcome(401, "authorization failed"))
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    payload, content_type = metrics.render()
    return Response(payload, status=200, headers={"Content-Type": content_type})


@bp.app_errorhandler(StorageError)
def storage_unavailable(_exc: StorageError) -> Response:
    metrics.observe_error("storage_unavailable")
    response = _json(503, operation_outcome(503, "storage unavailable; retry later"))
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def install(app: Any, config: Config) -> None:
    """Wire storage, authenticator, JSON request logging, CORS, feedback and ops routes.

    Sets `app.extensions["rheum_cds.storage"]` (storage.get_storage()) and
    `app.extensions["rheum_cds.authenticator"]` (auth.get_authenticator()).
    """
    from cds_service.auth import Authenticator
    from cds_service.cors import install_cors
    from cds_service.logs import configure_logging, install_request_logging
    from cds_service.routes.feedback import bp as feedback_bp
    from cds_service.storage import Storage

    configure_logging(config.log_level)
    storage = Storage(
        config.storage_url,
        patient_hash_key=config.patient_hash_key,
        write_delay_ms=config.storage_write_delay_ms,
    )
    app.extensions["rheum_cds.storage"] = storage
    app.extensions["rheum_cds.authenticator"] = Authenticator(config, storage)
    install_request_logging(app)  # first: every later hook and view sees the request id
    install_cors(app, config)
    app.register_blueprint(feedback_bp)
    app.register_blueprint(bp)
    if config.allow_unsigned:
        logging.getLogger("rheum_cds").warning(UNSIGNED_WARNING)
    if storage.patient_hash_key_random:
        logging.getLogger("rheum_cds").warning(
            "service.patient_hash_key is empty: a random key per process is used, so audit "
            "hashes of one patient cannot be linked across workers or restarts"
        )

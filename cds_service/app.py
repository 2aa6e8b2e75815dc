"""Application factory: `create_app()` wires configuration, knowledge, storage, auth, routes.

Everything a hook call needs lives on one `Runtime` (app.extensions["rheum_cds.runtime"]),
built once per process: configuration, knowledge, the three services, the authenticator,
storage and a pooled HTTP session for FHIR fetches. Views read it with `get_runtime()`.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from flask import Flask
from requests.adapters import HTTPAdapter

from cds_service.auth import Authenticator
from cds_service.config import Config, load_config
from cds_service.discovery import Service, build_services
from cds_service.knowledge import Knowledge, load_knowledge
from cds_service.routes import get_runtime, install_error_handlers
from cds_service.storage import Storage

__all__ = ["Runtime", "create_app", "fhir_session", "get_runtime"]


@dataclass(frozen=True)
class Runtime:
    config: Config
    knowledge: Knowledge
    services: dict[str, Service]
    authenticator: Authenticator
    storage: Storage
    session: requests.Session  # pooled connections to FHIR servers (stage 3)
    docs_base_url: str  # where cards link the rule pages


def fhir_session(pool_size: int = 20) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False  # no proxy settings or .netrc credentials from the environment
    return session


def create_app(config: Config | None = None, knowledge: Knowledge | None = None) -> Flask:
    config = config or load_config()
    knowledge = knowledge or load_knowledge(
        overrides=config.rule_overrides, local_codes=config.local_codes
    )
    app = Flask(__name__)
    app.config["RHEUM_CDS"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.extensions["rheum_cds.knowledge"] = knowledge

    from cds_service.routes import analytics, discovery, docs, hooks, ops

    # storage, authenticator, JSON logs, CORS, feedback and ops routes
    ops.install(app, config)
    app.extensions["rheum_cds.runtime"] = Runtime(
        config=config,
        knowledge=knowledge,
        services=build_services(knowledge),
        authenticator=app.extensions["rheum_cds.authenticator"],
        storage=app.extensions["rheum_cds.storage"],
        session=fhir_session(),
        docs_base_url=config.base_url.rstrip("/") + "/docs",
    )
    install_error_handlers(app)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(analytics.bp)
    return app

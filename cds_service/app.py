"""Application factory: `create_app()` wires configuration, knowledge, storage, auth, routes.

Everything a hook call needs lives on one `Runtime` (cds_service.runtime), kept at
app.extensions["rheum_cds.runtime"] and built once per process: configuration, knowledge, the
three services, the authenticator, storage and a pooled HTTP session for FHIR fetches. Views
read it with `get_runtime()`.
"""

from __future__ import annotations

import copy
import dataclasses

from flask import Flask

from cds_service.config import Config, load_config
from cds_service.discovery import build_services
from cds_service.knowledge import Knowledge, load_knowledge
from cds_service.routes import get_runtime, install_error_handlers
from cds_service.runtime import Runtime, fhir_session
from cds_service.terminology import Terminology, TerminologyStore

__all__ = ["Runtime", "create_app", "fhir_session", "get_runtime"]


def create_app(config: Config | None = None, knowledge: Knowledge | None = None) -> Flask:
    config = config or load_config()
    knowledge = knowledge or load_knowledge(
        overrides=config.rule_overrides, local_codes=config.local_codes
    )
    # This app's own view of the value sets: the codes its terminology learns (stored,
    # expanded, looked up) never reach another app built from the same knowledge.
    valuesets = copy.copy(knowledge.vs)
    valuesets.cond_terminology = {}
    knowledge = dataclasses.replace(knowledge, valuesets=valuesets)
    app = Flask(__name__)
    app.config["RHEUM_CDS"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.extensions["rheum_cds.knowledge"] = knowledge

    from cds_service.routes import analytics, apps, discovery, docs, hooks, ops

    # storage, authenticator, JSON logs, CORS, feedback and ops routes
    ops.install(app, config)
    storage = app.extensions["rheum_cds.storage"]
    # the institution's terminology: stored codes now, server expansions in the background
    terminology = Terminology(config.terminology, TerminologyStore(storage.engine), valuesets)
    terminology.start()
    app.extensions["rheum_cds.runtime"] = Runtime(
        config=config,
        knowledge=knowledge,
        services=build_services(knowledge),
        authenticator=app.extensions["rheum_cds.authenticator"],
        storage=storage,
        session=fhir_session(),
        docs_base_url=config.base_url.rstrip("/") + "/docs",
        terminology=terminology,
    )
    install_error_handlers(app)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(apps.bp)
    hooks.install_fast_path(app)  # hook calls answered in front of Flask's request handling
    return app

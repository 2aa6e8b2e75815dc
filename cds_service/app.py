"""Application factory: `create_app()` wires configuration, knowledge and blueprints."""

from __future__ import annotations

from flask import Flask

from cds_service.config import Config, load_config
from cds_service.knowledge import Knowledge, load_knowledge


def create_app(config: Config | None = None, knowledge: Knowledge | None = None) -> Flask:
    config = config or load_config()
    app = Flask(__name__)
    app.config["RHEUM_CDS"] = config
    app.extensions["rheum_cds.knowledge"] = knowledge or load_knowledge()
    # Blueprints (discovery, hooks, feedback, ops) are registered here by their modules'
    # owners: see cds_service/routes/.
    from cds_service.routes import ops  # storage, auth, logs, CORS, feedback + ops routes

    ops.install(app, config)
    return app

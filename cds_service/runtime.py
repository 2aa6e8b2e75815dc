"""What a hook call needs, built once per process: the `Runtime`.

`cds_service.app.create_app` builds it and keeps it at app.extensions["rheum_cds.runtime"];
routes read it with `cds_service.routes.get_runtime()` and hand it to the pipeline. It lives in a
module of its own so that the app factory, the routes and the pipeline import it one way.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from cds_service.auth import Authenticator
from cds_service.config import Config
from cds_service.discovery import Service
from cds_service.knowledge import Knowledge
from cds_service.storage import Storage
from cds_service.terminology import Terminology
from cds_service.urlpolicy import outbound_session

__all__ = ["Runtime", "fhir_session"]


@dataclass(frozen=True)
class Runtime:
    config: Config
    knowledge: Knowledge
    services: dict[str, Service]
    authenticator: Authenticator
    storage: Storage
    session: requests.Session  # pooled connections to FHIR servers (stage 3)
    docs_base_url: str  # where cards link the rule pages
    terminology: Terminology | None = None  # stored codes, server expansions and look-ups


def fhir_session(pool_size: int = 20) -> requests.Session:
    """Pooled session for FHIR fetches (urlpolicy.outbound_session: no proxies, no .netrc)."""
    return outbound_session(pool_size)

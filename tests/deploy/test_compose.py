"""deploy/compose.yaml: what `docker compose up` needs is there and consistent (Docker itself
cannot run here; the file is checked for what a mistake would break)."""

from __future__ import annotations

import tomllib

import yaml

from cds_service.config import config_from_dict
from cds_service.demo_data import HERE as DEMO_DATA
from cds_service.knowledge import load_knowledge
from tests.deploy.conftest import DEPLOY, REPO

COMPOSE = DEPLOY / "compose.yaml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_service_postgres_and_hapi_are_wired() -> None:
    services = compose()["services"]
    assert {"rheum-cds", "postgres", "hapi", "load-demo"} <= set(services)
    app = services["rheum-cds"]
    build = app["build"]
    assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == (
        DEPLOY / "Dockerfile"
    )
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["hapi"]
    url = app["environment"]["RHEUM_CDS_STORAGE_URL"]
    pg = services["postgres"]["environment"]
    assert url.startswith("postgresql+psycopg://")
    assert f"{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}" in (
        url
    )
    loader = services["load-demo"]
    assert loader["command"][:2] == ["rheum-cds", "load-demo"]
    assert "http://hapi:8080/fhir" in loader["command"]
    assert loader["depends_on"]["hapi"]["condition"] == "service_healthy"


def test_mounted_configuration_is_valid_and_maps_the_demo_codes() -> None:
    app = compose()["services"]["rheum-cds"]
    source, target, _mode = app["volumes"][0].split(":")
    assert target == app["environment"]["RHEUM_CDS_CONFIG"]
    path = (COMPOSE.parent / source).resolve()
    assert path.is_relative_to(REPO)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    config = config_from_dict(data, env={})
    demo = tomllib.loads((DEMO_DATA / "local-codes.toml").read_text(encoding="utf-8"))["codes"]
    assert config.local_codes == demo  # the compose config carries the demo clinic's codes
    load_knowledge(local_codes=config.local_codes)  # and the service accepts them


def test_a_buffering_proxy_fronts_the_service_on_loopback() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    proxy, app = services["proxy"], services["rheum-cds"]
    assert proxy["network_mode"] == "service:rheum-cds"
    conf_host, conf_target = proxy["volumes"][0].split(":")[:2]
    assert conf_target == "/etc/nginx/nginx.conf"
    conf = (COMPOSE.parent / conf_host).read_text()
    assert "listen 8081;" in conf and "proxy_request_buffering on;" in conf
    assert app["ports"] == ["127.0.0.1:8080:8081"]  # only through the proxy, only loopback

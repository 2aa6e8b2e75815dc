"""Discovery and /openapi.json: CDS Hooks 2.0 shapes, prefetch templates, every route described."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from openapi_spec_validator import validate

from cds_service.app import create_app
from cds_service.config import Config
from cds_service.discovery import prefetch_observation_codes


def test_discovery_lists_the_three_services(app, cds_schema):
    response = app.test_client().get("/cds-services")
    assert response.status_code == 200
    cds_schema("Discovery").validate(response.json)
    services = {s["id"]: s for s in response.json["services"]}
    assert {sid: s["hook"] for sid, s in services.items()} == {
        "rheum-order-sign": "order-sign",
        "rheum-order-select": "order-select",
        "rheum-patient-view": "patient-view",
    }
    for service in services.values():
        assert service["title"] and service["description"]


def test_prefetch_templates_ask_for_what_the_engine_reads(app, knowledge):
    service = app.test_client().get("/cds-services").json["services"][0]
    prefetch = service["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["conditions"].startswith("Condition?patient={{context.patientId}}")
    assert prefetch["immunizations"].startswith("Immunization?patient={{context.patientId}}")
    meds = parse_qs(urlsplit(prefetch["medicationRequests"]).query)
    assert meds["patient"] == ["{{context.patientId}}"] and meds["status"] == ["active"]
    obs = parse_qs(urlsplit(prefetch["observations"]).query)
    assert obs["patient"] == ["{{context.patientId}}"]
    assert obs["_sort"] == ["-date"] and int(obs["_count"][0]) >= 100
    codes = obs["code"][0].split(",")
    # restricted to the codes of the value sets: ESR, CRP and the CDAI tender joint count...
    assert set(codes) == set(prefetch_observation_codes(knowledge))
    assert {"4537-7", "1988-5", "88981-6"} <= set(codes)
    # ...and the JLAC10 codes of Japanese laboratories (CRP, eGFR, ESR 1-hour value)
    assert {"5C070000002306201", "8A065000002391901", "2Z010000001992052"} <= set(codes)
    assert {"09015C", "14032C"} <= set(codes)  # ...and Taiwan's NHI laboratory items
    assert all(
        re.fullmatch(r"\d{1,7}-\d", code)
        or re.fullmatch(r"[0-9][A-Z][0-9]{3}[0-9A-Z]{12}", code)  # JLAC10
        or re.fullmatch(r"\d{5}[A-Z]", code)  # Taiwan NHI laboratory payment item
        for code in codes
    )
    # ...and tokens are context fields only (CDS Hooks 2.0 prefetch tokens)
    for template in prefetch.values():
        assert set(re.findall(r"{{(.*?)}}", template)) == {"context.patientId"}


def test_openapi_describes_every_route(app):
    document = app.test_client().get("/openapi.json").json
    validate(document)  # a valid OpenAPI 3.1 document
    assert document["openapi"].startswith("3.1")
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?\w+>", "{id}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in described, (path, method)
    refs = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(document).replace("'", '"'))
    assert set(refs) <= set(document["components"]["schemas"])


def test_local_observation_codes_of_the_configuration_are_prefetched(tmp_path):
    local = {"observations": {"crp": {"codes": [{"system": "urn:x-local:lab", "code": "CRP-1"}]}}}
    config = Config(storage_url=f"sqlite:///{tmp_path / 'db'}", local_codes=local)
    app = create_app(config)  # loads the knowledge with the configuration's codes
    template = app.test_client().get("/cds-services").json["services"][0]["prefetch"]
    assert "urn:x-local:lab|CRP-1" in template["observations"]

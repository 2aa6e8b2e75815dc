"""The trend app's scoring endpoint and page, in-process: the demo charts (as shipped, with the
demo clinic's codes of the sandbox preset) scored by the engine of the cards and drawn as SVG
with a table; bad bodies are 4xx OperationOutcomes; nothing of the body is logged."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cards.catalogue import catalogue
from cards.language import LANGUAGES
from cds_service.app import create_app
from cds_service.config import Config, with_sandbox

DEMO = Path(__file__).resolve().parents[2] / "cds_service" / "demo_data"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    db = tmp_path_factory.mktemp("trend") / "cds.db"
    return create_app(with_sandbox(Config(storage_url=f"sqlite:///{db}", allow_unsigned=True)))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bundle(name: str) -> dict[str, Any]:
    return json.loads((DEMO / f"{name}.json").read_text(encoding="utf-8"))


def post(client: FlaskClient, body: Any, lang: str = "en", ctype: str = "application/fhir+json"):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(f"/apps/activity/api/trend?lang={lang}", data=data, content_type=ctype)


def count(pattern: str, text: str) -> int:
    return len(re.findall(pattern, text))


def test_ra_high_activity_every_visit_on_its_bands_with_treatments(client: FlaskClient) -> None:
    answer = post(client, bundle("demo-ra-elderly-smoker"))
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "data-chart='ra'" in page
    # three visits: DAS28-ESR, DAS28-CRP, CDAI, SDAI each drawn at every one (the card shows 3)
    for score in ("DAS28-ESR", "DAS28-CRP", "CDAI", "SDAI"):
        assert count(rf"<circle class='point[^']*'[^>]*data-score='{score}'", page) == 3, score
    assert count(r"<rect class='band band-high'", page) == 4
    assert "data-category='high'" in page
    # methotrexate (csDMARD) and prednisone with its daily dose under the chart
    assert "data-class='csdmard'" in page and "data-drug='methotrexate'" in page
    assert re.search(r"data-class='steroid'[^>]*data-detail='[^']*5 mg/day", page) or (
        "5 mg/day" in page
    )
    assert "Latest: DAS28-ESR" in page
    # inputs of a point in its title (tender joints 14 at the latest visit)
    assert "tender joints (28): 14" in page


def test_pmr_scored_with_the_demo_clinic_codes_on_low_medium_high(client: FlaskClient) -> None:
    page = post(client, bundle("demo-pmr-new-onset")).get_data(as_text=True)
    assert count(r"data-score='PMR-AS-CRP'", page) >= 2 + 1  # two points and the panel
    bands = re.findall(r"<rect class='band band-(\w+)'", page)
    assert bands == ["remission", "low", "medium", "high"]
    assert "data-class='steroid'" in page and "15 mg/day" in page


def test_myositis_ck_trend_without_invented_bands(client: FlaskClient) -> None:
    page = post(client, bundle("demo-dm-mda5-ild")).get_data(as_text=True)
    assert "data-chart='myositis'" in page
    assert count(r"<circle class='point point-lab'[^>]*data-lab='ck'", page) == 3
    assert "<rect class='band" not in page
    assert re.search(r"<p class='latest' data-age-days='\d+'>Latest: CK 310 U/L, ", page)
    assert "data-drug='tacrolimus'" in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_charts_in_the_card_languages(client: FlaskClient, language: str) -> None:
    page = post(client, bundle("demo-ra-elderly-smoker"), language).get_data(as_text=True)
    cat = catalogue(language)
    assert cat.get("chart", "chart_ra") in page
    assert cat.get("chart", "treatments") in page
    assert cat.data["category"]["high"] in page
    shell = client.get(f"/apps/activity/?lang={language}")
    assert f"<html lang='{language}'>" in shell.get_data(as_text=True)


def test_page_and_assets_need_no_inline_script_and_no_cdn(client: FlaskClient) -> None:
    shell = client.get("/apps/activity/?lang=en")
    csp = shell.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    text = shell.get_data(as_text=True)
    assert re.findall(r"<script[^>]*>", text) == ["<script src='app.js'>"]
    assert "http" not in re.sub(r"data-[a-z-]+='[^']*'", "", text)  # no external asset
    for asset in ("app.js", "app.css"):
        answer = client.get(f"/apps/activity/{asset}")
        assert answer.status_code == 200
        assert "//cdn" not in answer.get_data(as_text=True)
    assert client.get("/apps/activity/../config.py").status_code == 404
    assert client.get("/apps/activity/charts.toml").status_code == 404


@pytest.mark.parametrize(
    ("body", "ctype", "status"),
    [
        (b"not json", "application/fhir+json", 400),
        ({"resourceType": "Patient"}, "application/fhir+json", 400),
        ({"resourceType": "Bundle", "entry": {}}, "application/json", 400),
        ({"resourceType": "Bundle", "entry": []}, "text/plain", 415),
    ],
)
def test_bad_bodies_are_operation_outcomes(
    client: FlaskClient, body: Any, ctype: str, status: int
) -> None:
    answer = post(client, body, ctype=ctype)
    assert answer.status_code == status
    assert answer.get_json()["resourceType"] == "OperationOutcome"


def test_odd_entries_are_ignored_not_a_500(client: FlaskClient) -> None:
    body = {
        "resourceType": "Bundle",
        "entry": [1, {"resource": "x"}, {"resource": {"resourceType": "Observation"}}, {}],
    }
    answer = post(client, body)
    assert answer.status_code == 200
    assert "data-charts='0'" in answer.get_data(as_text=True)


def test_nothing_of_the_record_is_logged(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    post(client, bundle("demo-ra-elderly-smoker"))
    logged = "\n".join(r.getMessage() + str(getattr(r, "fields", "")) for r in caplog.records)
    assert "demo-ra-elderly-smoker" not in logged
    assert "Walter" not in logged and "methotrexate" not in logged

"""The trend app as a clinician meets it: a patient-view card from the service (unsigned, the
suite's HAPI server as fhirServer, demo charts loaded by `rheum-cds load-demo`), its SMART link
opened in chromium against the open FHIR server (iss + patient, as the sandbox and HAPI work),
the charts drawn by the service from what the browser read, in the four languages.

Screenshots go to pytest's temporary folder, or to $RHEUM_CDS_SCREENSHOTS (docs/img when the
documentation pictures are refreshed).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from cards.catalogue import catalogue
from cards.language import LANGUAGES
from cds_service.app import create_app
from cds_service.config import Config, with_sandbox
from tests.fixtures.browser import ThreadServer, serve_app
from tests.fixtures.processes import free_port

# demo chart -> (chart id, what must be drawn): score or lab -> at least this many points
EXPECTED: dict[str, tuple[str, dict[str, int], set[str]]] = {
    "demo-ra-elderly-smoker": (
        "ra",
        {"DAS28-ESR": 3, "CDAI": 3, "SDAI": 3},
        {"csdmard", "steroid"},
    ),
    "demo-pmr-new-onset": ("pmr", {"PMR-AS-CRP": 2}, {"steroid"}),
    "demo-dm-mda5-ild": ("myositis", {"ck": 3}, {"steroid", "potent_immunosuppressant"}),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service with the sandbox preset (the demo clinic's codes), served on loopback."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp_path_factory.mktemp("activity") / "cds.db"
    config = with_sandbox(Config(base_url=base, storage_url=f"sqlite:///{db}", allow_unsigned=True))
    server: ThreadServer = serve_app(create_app(config), port)
    try:
        yield base
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("RHEUM_CDS_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def patient_view_card(service: str, fhir: str, patient: str, language: str) -> dict[str, Any]:
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": fhir,
        "context": {"userId": "Practitioner/demo", "patientId": patient},
    }
    answer = requests.post(
        f"{service}/cds-services/rheum-patient-view",
        json=body,
        headers={"Accept-Language": language},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text[:500]
    cards = answer.json()["cards"]
    assert len(cards) == 1, cards
    return cards[0]


def smart_link(card: dict[str, Any]) -> dict[str, Any]:
    links = [link for link in card.get("links", []) if link["type"] == "smart"]
    assert len(links) == 1, card.get("links")
    return links[0]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("patient", sorted(EXPECTED))
def test_card_opens_the_trend_app_with_scores_bands_and_treatments(
    browser: Any,
    service: str,
    demo_fhir: str,
    shots: Path,
    patient: str,
    language: str,
) -> None:
    chart_id, series, classes = EXPECTED[patient]
    card = patient_view_card(service, demo_fhir, patient, language)
    link = smart_link(card)
    assert link["url"].startswith(f"{service}/apps/activity/")
    # the launch an open FHIR server gets: the EHR adds iss and the patient in context
    url = f"{link['url']}&{urlencode({'iss': demo_fhir, 'patient': patient})}"
    page = browser.new_page(viewport={"width": 1000, "height": 900}, locale=language)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(url)
        page.wait_for_selector("body[data-ready='true']", timeout=30_000)
        cat = catalogue(language)
        assert page.get_attribute("html", "lang") == language
        chart = page.locator(f"section.disease[id='chart-{chart_id}']")
        assert chart.locator("h2").inner_text() == cat.get("chart", f"chart_{chart_id}")
        for measure, at_least in series.items():
            selector = f"circle.point[data-score='{measure}'], circle.point[data-lab='{measure}']"
            assert chart.locator(selector).count() >= at_least, measure
        bands = chart.locator("rect.band")
        if chart_id == "pmr":
            assert {bands.nth(i).get_attribute("data-band") for i in range(bands.count())} == {
                "remission",
                "low",
                "medium",
                "high",
            }
        elif chart_id == "ra":
            # four bands under every score panel (DAS28-ESR, DAS28-CRP, CDAI, SDAI)
            assert bands.count() == 4 * chart.locator("g.panel[data-score]").count()
        else:
            assert bands.count() == 0  # CK has no cut-offs: no bands are invented
        drawn = chart.locator("rect.period")
        got = {drawn.nth(i).get_attribute("data-class") for i in range(drawn.count())}
        assert classes <= got
        if "steroid" in classes:
            steroid = chart.locator("rect.period[data-class='steroid']").first
            assert "mg" in (steroid.get_attribute("data-detail") or "")
        # keyboard: the first point takes focus and its inputs are shown
        first = chart.locator("circle.point").first
        first.focus()
        assert page.locator("#point-detail").inner_text() == first.get_attribute("data-detail")
        # the text alternative lists every point drawn
        rows = chart.locator("details.text-alternative table.values").first.locator("tbody tr")
        assert rows.count() == chart.locator("circle.point").count()
        if chart_id in ("ra", "pmr"):
            latest = chart.locator("p.latest")
            assert latest.get_attribute("data-stale") == "false"
        page.screenshot(path=str(shots / f"activity-{patient}-{language}.png"), full_page=True)
        assert not errors, errors
    finally:
        page.close()

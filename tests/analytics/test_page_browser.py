"""The analytics page in a real browser (Debian's chromium): the plots render under the page's
strict CSP (no console error, no blocked resource), and a screenshot is taken for
docs/analytics.md ($RHEUM_CDS_SCREENSHOTS, else pytest's temporary folder); printable."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.analytics.conftest import accepted, card_with, overridden, send_feedback, show_cards
from tests.fixtures.browser import serve_app


@pytest.mark.parametrize("storage_url", ["sqlite"], indirect=True)
def test_plots_render_in_chromium_and_print(
    browser: Any,
    make_app: Callable[..., Flask],
    tmp_path: Path,
) -> None:
    app = make_app()
    reasons = ["no-alternative", "specialist-reviewed", "no-alternative", None, "data-outdated"]
    items = []
    for i in range(10):
        cards = show_cards(app)
        if i % 2 == 0:
            code = reasons[i // 2]
            items.append(overridden(card_with(cards, "JAKI-AGE-65"), code))
        else:
            items.append(accepted(card_with(cards, "JAKI-TB-SCREEN"), n=1 + i % 3))
    send_feedback(app, *items)
    server = serve_app(app)
    target = Path(os.environ.get("RHEUM_CDS_SCREENSHOTS") or tmp_path)
    page = browser.new_page(viewport={"width": 1100, "height": 1500})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(r.url))
    try:
        page.goto(f"{server.base_url}/analytics/feedback")
        assert page.locator("svg.plot[data-rule]").count() >= 2
        assert page.locator("svg.plot rect.shown").count() >= 2
        assert page.locator("svg.plot rect.reason").count() == 4  # three codes and no reason
        assert page.locator("svg.plot rect.taken").count() >= 1
        box = page.locator("svg.plot[data-rule='JAKI-AGE-65']").bounding_box()
        assert box is not None and box["width"] > 300  # drawn, not collapsed
        assert not problems, problems
        page.screenshot(path=str(target / "analytics-page.png"))
        page.emulate_media(media="print")
        assert page.locator("form.filters").is_hidden()
        assert page.locator("svg.plot").first.is_visible()
        page.pdf(path=str(tmp_path / "analytics.pdf"))
    finally:
        page.close()
        server.stop()

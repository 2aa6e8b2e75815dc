"""The HTML page a committee member opens: the figures of the JSON report in readable tables,
every value escaped, no clinician comment, nothing fetched from elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

from flask import Flask

from tests.analytics.conftest import accepted, card_with, overridden, send_feedback, show_cards

PAGE = "/analytics/feedback"
COMMENT = "Discussed with Mr John Doe (MRN 99-1234), he prefers to continue"


class Tables(HTMLParser):
    """Text of every table cell, by the heading (h2/h3) above the table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._heading: str | None = None
        self._in_heading = False
        self._current: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("h2", "h3"):
            self._in_heading, self._heading = True, ""
        elif tag == "table":
            self._current = []
            self.tables[self._heading or ""] = self._current
        elif tag == "tr" and self._current is not None:
            self._current.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "h3"):
            self._in_heading = False
        elif tag == "table":
            self._current = None
        elif tag in ("td", "th") and self._cell is not None and self._current is not None:
            self._current[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self._heading = (self._heading or "") + data
        if self._cell is not None:
            self._cell.append(data)


def tables(page: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(page)
    return parser.tables


def row(table: list[list[str]], first_cell_starts: str) -> dict[str, str]:
    header = table[0]
    for cells in table[1:]:
        if cells[0].startswith(first_cell_starts):
            return dict(zip(header, cells, strict=True))
    raise AssertionError(f"no row {first_cell_starts!r} in {[c[0] for c in table[1:]]}")


def test_page_shows_the_figures_per_rule_and_no_comment(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    first, second = show_cards(app), show_cards(app)
    send_feedback(
        app,
        overridden(card_with(first, "JAKI-AGE-65"), "no-alternative", comment=COMMENT),
        overridden(card_with(second, "JAKI-AGE-65"), "specialist-reviewed"),
        accepted(card_with(first, "JAKI-TB-SCREEN"), n=1),
    )
    r = app.test_client().get(PAGE)
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert COMMENT not in page and "John Doe" not in page

    by_rule = tables(page)["By rule"]
    age = row(by_rule, "JAKI-AGE-65")
    assert age["Rule"] == "JAKI-AGE-65 age 65 or over"  # id and its short English name
    assert (age["Shown"], age["Accepted"], age["Overridden"], age["No feedback"]) == (
        "2",
        "0",
        "2",
        "0",
    )
    assert age["Overridden %"] == "100.0 %"
    assert age["Override comments"] == "1"
    offered = {o["code"]: o["display"] for o in card_with(first, "JAKI-AGE-65")["overrideReasons"]}
    assert f"no-alternative {offered['no-alternative']}: 1" in age["Override reasons"]
    assert f"specialist-reviewed {offered['specialist-reviewed']}: 1" in age["Override reasons"]
    tb = row(by_rule, "JAKI-TB-SCREEN")
    assert (tb["Shown"], tb["Accepted"], tb["Accepted %"], tb["Suggestions accepted"]) == (
        "2",
        "1",
        "50.0 %",
        "1",
    )
    warning = row(tables(page)["By card indicator"], "warning")
    assert warning["Overridden"] == "2"
    assert 'href="/docs/rules/JAKI-AGE-65"' in page.replace("'", '"')


def test_page_escapes_what_the_ehr_sent(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    card = card_with(show_cards(app), "JAKI-AGE-65")
    send_feedback(app, overridden(card, "<b>x</b>", display="<script>alert(1)</script>"))
    page = app.test_client().get(PAGE).get_data(as_text=True)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


def test_page_is_self_contained(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    show_cards(app)
    r = app.test_client().get(PAGE + "?since=2026-01-01&service=rheum-order-sign")
    page = r.get_data(as_text=True)
    assert not re.search(r"""(?:src|href|action)\s*=\s*['"]?(?:https?:)?//""", page)
    assert "<script" not in page and "<link" not in page
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Cache-Control"] == "no-store"
    # the filter form keeps the chosen period and service; the export link carries them
    assert "value='2026-01-01'" in page
    assert "<option value='rheum-order-sign' selected>" in page
    assert "/analytics/feedback.json?since=2026-01-01&amp;service=rheum-order-sign" in page


def test_empty_page_says_so(make_app: Callable[..., Flask]) -> None:
    page = make_app().test_client().get(PAGE).get_data(as_text=True)
    assert "None in this period." in page
    assert "Feedback analytics" in page

"""GET /docs/rules/<ID>: the rule and score pages that every card's source link points to."""

from __future__ import annotations

import html
from urllib.parse import quote

from flask import Blueprint, Response, abort, request

from cds_service.knowledge import Knowledge
from cds_service.routes import get_runtime

bp = Blueprint("docs", __name__)


_PAGES: dict[int, dict[str, str]] = {}  # id(knowledge) -> pages; knowledge lives as long as the app


def _pages(knowledge: Knowledge) -> dict[str, str]:
    from cds_service.rule_docs import pages

    key = id(knowledge)
    if key not in _PAGES:
        _PAGES[key] = pages(knowledge)
    return _PAGES[key]


def _also(pages: dict[str, str], value: str | None) -> str:
    """Links to the pages of the other rules and scores on the same card (`?also=ID,ID`).

    Only ids that have a page are linked, each once; anything else in the query is ignored.
    """
    ids = [i for i in dict.fromkeys((value or "").split(",")[:30]) if f"{i}.md" in pages]
    if not ids:
        return ""
    items = "".join(
        f"<li><a href='{html.escape(quote(i))}'>{html.escape(i)}</a>"
        f" — {html.escape(_describe(i))}</li>"
        for i in ids
    )
    return f"<h2>Also on this card</h2><ul>{items}</ul>"


def _describe(rule_id: str) -> str:
    """A rule's concern or a score's name, as the English cards say it."""
    from cards.catalogue import catalogue

    data = catalogue("en").data
    rule = data["rule"].get(rule_id)
    return rule["short"] if isinstance(rule, dict) else str(data["score"].get(rule_id, ""))


def _html(title: str, markdown: str, also: str = "") -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · rheum-cds</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        "<body style='font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto'>"
        f"{also}"
        f"<pre style='white-space:pre-wrap;font-family:inherit'>{html.escape(markdown)}</pre>"
        "</body></html>"
    )


@bp.get("/docs/rules/")
@bp.get("/docs/rules/<rule_id>")
def rule_page(rule_id: str = "README") -> Response:
    knowledge = get_runtime().knowledge
    pages = _pages(knowledge)
    page = pages.get(f"{rule_id.removesuffix('.md')}.md")
    if page is None:
        abort(404)
    also = _also(pages, request.args.get("also"))
    return Response(_html(rule_id, page, also), mimetype="text/html")

"""GET /docs/rules/<ID>: the rule and score pages that every card's source link points to."""

from __future__ import annotations

import html

from flask import Blueprint, Response, abort

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


def _html(title: str, markdown: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · rheum-cds</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        "<body style='font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto'>"
        f"<pre style='white-space:pre-wrap;font-family:inherit'>{html.escape(markdown)}</pre>"
        "</body></html>"
    )


@bp.get("/docs/rules/")
@bp.get("/docs/rules/<rule_id>")
def rule_page(rule_id: str = "README") -> Response:
    knowledge = get_runtime().knowledge
    page = _pages(knowledge).get(f"{rule_id.removesuffix('.md')}.md")
    if page is None:
        abort(404)
    return Response(_html(rule_id, page), mimetype="text/html")

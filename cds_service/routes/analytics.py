"""Feedback analytics for the operator's CDS committee (docs/analytics.md).

`GET /analytics/feedback.json` the report as JSON (cds_service.analytics.feedback_report);
`GET /analytics/feedback` the same figures as a server-rendered HTML page (no script, no
external asset, every value escaped). Query parameters, all optional: `since` and `until`
(dates YYYY-MM-DD, UTC, both days included) and `service` (a CDS service id). A bad value
answers 400 with an OperationOutcome naming the parameter.

Access: these pages are for the operator, not for CDS clients. With `service.analytics_token`
(RHEUM_CDS_ANALYTICS_TOKEN) set, a request needs `Authorization: Bearer <token>` (or HTTP
Basic with the token as password, so that a browser can open the page), compared in constant
time; otherwise 401. With no token, only direct loopback requests are answered (client address
127.0.0.0/8 or ::1, Host a loopback name, no proxy forwarding headers, no cross-site Origin);
anything else gets 403.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import ipaddress
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, Response, current_app, request

from cards.catalogue import catalogue
from cds_service.analytics import feedback_report
from cds_service.analytics_plots import PLOT_STYLE, plots_html, summarise_timeline
from cds_service.config import Config
from cds_service.discovery import SERVICE_HOOKS
from cds_service.routes import json_error, json_response
from cds_service.storage import get_storage

bp = Blueprint("analytics", __name__)

REALM = "rheum-cds analytics"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


class QueryError(ValueError):
    def __init__(self, member: str, message: str) -> None:
        super().__init__(f"{member}: {message}")
        self.member = member


# --------------------------------------------------------------------------- access


def _is_loopback_host(name: str | None) -> bool:
    if not name:
        return False
    name = name.strip("[]").lower().rstrip(".")
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _hostname(authority: str) -> str | None:
    try:
        return urlsplit("//" + authority).hostname
    except ValueError:
        return None


def _loopback_request() -> bool:
    """A request made on this machine straight to the service (not through a proxy)."""
    if not _is_loopback_host(request.remote_addr):
        return False
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False  # a proxy on this host relays someone else's request
    if not _is_loopback_host(_hostname(request.host)):
        return False  # DNS rebinding: a remote page's name resolving to 127.0.0.1
    origin = request.headers.get("Origin")
    if origin is not None and not _is_loopback_host(urlsplit(origin).hostname):
        return False  # a script on another site calling the loopback service
    return request.headers.get("Sec-Fetch-Site", "same-origin") in {
        "same-origin",
        "none",
        "same-site",
    }


def _presented_token() -> bytes | None:
    """The token of a Bearer or Basic (password) Authorization header, as the bytes sent.

    WSGI hands header values over decoded as ISO-8859-1, so encoding them back gives the
    client's bytes (UTF-8 from curl or a browser) to compare with the configured token.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    try:
        raw = value.strip().encode("latin-1")
    except UnicodeEncodeError:
        raw = value.strip().encode("utf-8")
    if scheme.lower() == "bearer":
        return raw
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(raw, validate=True)
        except binascii.Error:
            return None
        return decoded.partition(b":")[2]
    return None


def _refusal(config: Config) -> Response | None:
    """None when the request may read the analytics; otherwise the 401 / 403 answer."""
    token = config.analytics_token
    if token:
        presented = _presented_token()
        if presented is not None and hmac.compare_digest(presented, token.encode("utf-8")):
            return None
        response = json_error(401, "authorization failed")
        response.headers.add("WWW-Authenticate", f'Bearer realm="{REALM}"')
        response.headers.add("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
        return response
    if _loopback_request():
        return None
    return json_error(
        403,
        "analytics are served on loopback only while service.analytics_token "
        "(RHEUM_CDS_ANALYTICS_TOKEN) is empty",
    )


@bp.before_request
def _check_access() -> Response | None:
    return _refusal(current_app.config["RHEUM_CDS"])


@bp.after_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


# --------------------------------------------------------------------------- query


def _date(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not DATE.fullmatch(raw):
        raise QueryError(name, "expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise QueryError(name, "not a valid calendar date") from exc


def parse_query() -> tuple[date | None, date | None, str | None]:
    """The validated `since`, `until` and `service` parameters (raises QueryError)."""
    since, until = _date("since"), _date("until")
    if since and until and until < since:
        raise QueryError("until", "is before since")
    service = request.args.get("service") or None
    if service is not None and service not in SERVICE_HOOKS:
        raise QueryError("service", f"not a CDS service id ({', '.join(SERVICE_HOOKS)})")
    return since, until, service


def _window(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(since, time.min, UTC) if since else None
    end = None
    if until and until < date.max:
        end = datetime.combine(until + timedelta(days=1), time.min, UTC)
    return start, end


def _report() -> dict[str, Any] | Response:
    try:
        since, until, service = parse_query()
    except QueryError as exc:
        return json_error(400, str(exc), exc.member)
    start, end = _window(since, until)
    rows = get_storage().analytics_rows(start, end, service)
    report = feedback_report(rows, since=since, until=until, service=service)
    report["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return report


@bp.get("/analytics/feedback.json")
def feedback_json() -> Response:
    report = _report()
    if isinstance(report, Response):
        return report
    return json_response(report)


@bp.get("/analytics/feedback")
def feedback_page() -> Response:
    report = _report()
    if isinstance(report, Response):
        return report
    since, until, service = parse_query()  # valid: _report parsed them
    start, end = _window(since, until)
    rows = get_storage().analytics_timeline(start, end, service)
    timeline = summarise_timeline(rows, since, until)
    response = Response(render_page(report, plots_html(report, timeline)), mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response


# --------------------------------------------------------------------------- HTML


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f} %"


def _table(
    headers: list[str], rows: list[list[str]], numeric: Iterable[int] = (), narrow: bool = False
) -> str:
    """`rows` hold already escaped HTML cells; `numeric` columns are right-aligned."""
    if not rows:
        return "<p class='none'>None in this period.</p>"
    right = set(numeric)

    def cell(tag: str, i: int, content: str) -> str:
        return f"<{tag}{' class=num' if i in right else ''}>{content}</{tag}>"

    head = "".join(cell("th", i, _e(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    css = " class=narrow" if narrow else ""
    return f"<table{css}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _reason_label(reason: dict[str, Any]) -> str:
    if reason["code"] is None:
        return "<i>no reason given</i>"
    label = f"<code>{_e(reason['code'])}</code>"
    if reason["displays"]:
        label += " " + _e(" / ".join(reason["displays"]))
    return label


def _reasons_cell(reasons: list[dict[str, Any]]) -> str:
    if not reasons:
        return ""
    items = "".join(f"<li>{_reason_label(r)}: {r['count']}</li>" for r in reasons)
    return f"<ul class='reasons'>{items}</ul>"


OUTCOME_HEADERS = [
    "Shown",
    "Accepted",
    "Overridden",
    "No feedback",
    "Accepted %",
    "Overridden %",
    "Suggestions accepted",
    "Override comments",
]


OUTCOME_COLUMNS = range(1, len(OUTCOME_HEADERS) + 1)


def _outcome_cells(group: dict[str, Any]) -> list[str]:
    return [
        _e(group["cards_shown"]),
        _e(group["accepted"]),
        _e(group["overridden"]),
        _e(group["no_feedback"]),
        _e(_pct(group["acceptance_rate"])),
        _e(_pct(group["override_rate"])),
        _e(group["accepted_suggestions"]),
        _e(group["override_comments"]),
    ]


def _rule_cell(rule_id: str | None) -> str:
    if rule_id is None:
        return "<i>no finding</i> (scores, not assessed)"
    link = f"<a href='/docs/rules/{_e(quote(rule_id))}'><code>{_e(rule_id)}</code></a>"
    rules = catalogue("en").data["rule"]
    if rule_id in rules:
        link += f"<br><span class=short>{_e(rules[rule_id]['short'])}</span>"
    return link


def _filter_form(period: dict[str, Any]) -> str:
    options = "<option value=''>all services</option>" + "".join(
        f"<option value='{_e(s)}'{' selected' if period['service'] == s else ''}>{_e(s)}</option>"
        for s in SERVICE_HOOKS
    )
    return (
        "<form method=get action='/analytics/feedback' class=filters>"
        f"<label>From <input type=date name=since value='{_e(period['since'] or '')}'></label>"
        f"<label>to <input type=date name=until value='{_e(period['until'] or '')}'></label>"
        f"<label>Service <select name=service>{options}</select></label>"
        "<button type=submit>Show</button></form>"
    )


STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5rem auto;
max-width:78rem;padding:0 1rem;color:#1b1f24;line-height:1.4}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;
border-bottom:1px solid #ccd;padding-bottom:.2rem}
.period{color:#555;margin-top:0}
.filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:end;margin:1rem 0;
padding:.6rem .8rem;background:#f4f6f8;border-radius:4px}
.filters label{display:flex;flex-direction:column;font-size:.85rem;color:#444}
.tiles{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.tile{border:1px solid #d6dbe0;border-radius:4px;padding:.5rem .9rem;min-width:8.5rem}
.tile b{display:block;font-size:1.5rem}.tile span{font-size:.85rem;color:#555}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border-bottom:1px solid #e1e4e8;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafbfc}
ul.reasons{margin:0;padding-left:1.1rem;text-align:left}
code{font-size:.85rem}.none{color:#666;font-style:italic}
.note{font-size:.85rem;color:#555}h3{font-size:1rem;margin-top:1.2rem}
table.narrow{width:auto;min-width:28rem}td code{white-space:nowrap}
.short{font-size:.8rem;color:#555}
"""


def render_page(report: dict[str, Any], plots: str = "") -> str:
    """The report as a self-contained HTML page (every value escaped); `plots` is the inline
    SVG of cds_service.analytics_plots, shown above the tables (its text alternative)."""
    period = report["period"]
    totals = report["totals"]
    span = f"{period['since'] or 'the beginning'} to {period['until'] or 'today'} (UTC)"
    scope = period["service"] or "all services"
    tiles = [
        (totals["cards_shown"], "cards shown"),
        (totals["accepted"], f"accepted ({_pct(totals['acceptance_rate'])})"),
        (totals["overridden"], f"overridden ({_pct(totals['override_rate'])})"),
        (totals["no_feedback"], "without feedback"),
        (totals["accepted_suggestions"], "suggestions accepted"),
        (totals["override_comments"], "overrides with a comment"),
        (report["unknown_cards"]["feedback_items"], "feedback on unknown cards"),
        (report["hook_calls"]["calls"], "hook calls"),
    ]
    query = {k: v for k, v in period.items() if k in ("since", "until", "service") and v}
    export = "/analytics/feedback.json" + (f"?{urlencode(query)}" if query else "")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width, initial-scale=1'>",
        "<title>Feedback analytics · rheum-cds</title>",
        f"<style>{STYLE}{PLOT_STYLE}</style></head><body>",
        "<h1>Feedback analytics</h1>",
        f"<p class=period>Cards shown from {_e(span)}, {_e(scope)}. "
        f"Generated {_e(report.get('generated_at', ''))}.</p>",
        _filter_form(period),
        "<div class=tiles>"
        + "".join(
            f"<div class=tile><b>{_e(n)}</b><span>{_e(label)}</span></div>" for n, label in tiles
        )
        + "</div>",
        "<p class=note>A card counts in the period it was shown, with its latest feedback; "
        "a card with several findings counts once under each rule. Percentages are of the "
        "cards shown. Comments typed by clinicians are not shown here, only counted. "
        f"<a class=export href='{_e(export)}'>Export as JSON</a>.</p>",
        plots,
        "<h2>By rule</h2>",
        _table(
            ["Rule", *OUTCOME_HEADERS, "Override reasons"],
            [
                [_rule_cell(g["rule_id"]), *_outcome_cells(g), _reasons_cell(g["override_reasons"])]
                for g in report["by_rule"]
            ],
            OUTCOME_COLUMNS,
        ),
        "<h2>By card indicator</h2>",
        _table(
            ["Indicator", *OUTCOME_HEADERS, "Override reasons"],
            [
                [
                    _e(g["indicator"] or "(none)"),
                    *_outcome_cells(g),
                    _reasons_cell(g["override_reasons"]),
                ]
                for g in report["by_indicator"]
            ],
            OUTCOME_COLUMNS,
        ),
        "<h2>By service</h2>",
        _table(
            ["Service", *OUTCOME_HEADERS],
            [[_e(g["service_id"]), *_outcome_cells(g)] for g in report["by_service"]],
            OUTCOME_COLUMNS,
        ),
        "<h2>Override reasons (all cards)</h2>",
        _table(
            ["Reason", "System", "Overrides", "Share of overrides"],
            [
                [
                    _reason_label(r),
                    _e(r["system"] or ""),
                    _e(r["count"]),
                    _e(_pct(r["share_of_overrides"])),
                ]
                for r in totals["override_reasons"]
            ],
            (2, 3),
        ),
        _unknown_section(report["unknown_cards"]),
        _calls_section(report["hook_calls"]),
        "</body></html>",
    ]
    return "".join(parts)


def _unknown_section(unknown: dict[str, Any]) -> str:
    return (
        "<h2>Feedback on cards this service never issued</h2>"
        "<p class=note>Counted by the feedback's outcome time. Usually late reports after a "
        "database move, or a client sending feedback to the wrong service.</p>"
        + _table(
            ["Service", "Feedback items", "Cards", "Accepted", "Overridden"],
            [
                [
                    _e(s["service_id"]),
                    _e(s["feedback_items"]),
                    _e(s["cards"]),
                    _e(s["accepted"]),
                    _e(s["overridden"]),
                ]
                for s in unknown["by_service"]
            ],
            (1, 2, 3, 4),
            narrow=True,
        )
    )


def _calls_section(calls: dict[str, Any]) -> str:
    return "".join(
        [
            "<h2>Hook calls (audit trail)</h2>",
            _table(
                ["Service", "Calls", "Answered with cards"],
                [
                    [_e(s["service_id"]), _e(s["calls"]), _e(s["with_cards"])]
                    for s in calls["by_service"]
                ],
                (1, 2),
                narrow=True,
            ),
            "<h3>HTTP status</h3>",
            _table(
                ["Status", "Calls"],
                [[_e(s["status"]), _e(s["calls"])] for s in calls["by_status"]],
                (1,),
                narrow=True,
            ),
            "<h3>Rules fired (calls)</h3>",
            _table(
                ["Rule", "Calls"],
                [[_rule_cell(r["rule_id"]), _e(r["calls"])] for r in calls["rules_fired"]],
                (1,),
                narrow=True,
            ),
            "<h3>Patient data that could not be retrieved</h3>",
            _table(
                ["Data", "Calls"],
                [[f"<code>{_e(u['key'])}</code>", _e(u["calls"])] for u in calls["unavailable"]],
                (1,),
                narrow=True,
            ),
            "<h3>Card language</h3>",
            _table(
                ["Language", "Calls"],
                [[_e(u["language"]), _e(u["calls"])] for u in calls["languages"]],
                (1,),
                narrow=True,
            ),
        ]
    )

"""Plots of the feedback analytics page: inline SVG a CDS committee reads at a glance.

`summarise_timeline(rows, since, until)` buckets the per-day rows of
`Storage.analytics_timeline` into weeks (a period of up to 120 days) or calendar months, per
rule: cards shown, overridden, accepted, suggestions accepted. `plots_html(report, timeline)`
draws, without any external asset or script (the page's CSP allows none):

- per rule (the most shown first), cards shown per period as bars and the override rate as a
  line on a 0-100 % axis;
- override reasons (all cards) as horizontal bars with their share of overrides;
- suggestions taken, per rule, as horizontal bars.

Every plot has a <title> and an aria-label; the tables of the page are its text alternative.
Pure: no I/O.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

WEEKLY_UP_TO_DAYS = 120
MAX_RULE_PANELS = 8
NO_RULE = "(no finding)"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _rules(raw: Any) -> list[str]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    return sorted({v for v in value if isinstance(v, str)}) if isinstance(value, list) else []


def _bucket_starts(first: date, last: date) -> tuple[list[date], str]:
    if (last - first).days <= WEEKLY_UP_TO_DAYS:
        start = first - timedelta(days=first.weekday())  # Mondays
        out = []
        while start <= last:
            out.append(start)
            start += timedelta(days=7)
        return out, "week"
    out = []
    month = date(first.year, first.month, 1)
    while month <= last:
        out.append(month)
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return out, "month"


def summarise_timeline(
    rows: Iterable[Mapping[str, Any]], since: date | None = None, until: date | None = None
) -> dict[str, Any]:
    """Per rule and period: cards shown, accepted, overridden, suggestions accepted."""
    parsed = [(d, r) for r in rows if (d := _day(r["day"])) is not None]
    if not parsed:
        return {"unit": "week", "periods": [], "rules": {}}
    first = since or min(d for d, _ in parsed)
    last = until or max(d for d, _ in parsed)
    starts, unit = _bucket_starts(first, max(first, last))
    empty = {"shown": 0, "accepted": 0, "overridden": 0, "suggestions": 0}
    counts: dict[str, list[dict[str, int]]] = defaultdict(lambda: [dict(empty) for _ in starts])
    for day, row in parsed:
        index = max(0, sum(1 for s in starts if s <= day) - 1)
        n = int(row["cards"])
        for rule in _rules(row["rule_ids"]) or [NO_RULE]:
            cell = counts[rule][index]
            cell["shown"] += n
            if row["outcome"] in ("accepted", "overridden"):
                cell[row["outcome"]] += n
            if row["outcome"] == "accepted":
                cell["suggestions"] += int(row["suggestions"] or 0)
    ordered = sorted(
        counts.items(), key=lambda kv: (kv[0] == NO_RULE, -sum(c["shown"] for c in kv[1]), kv[0])
    )
    return {
        "unit": unit,
        "periods": [s.isoformat() for s in starts],
        "rules": dict(ordered),
    }


def _label(unit: str, start: str) -> str:
    return start[:7] if unit == "month" else start[5:]


def _rule_panel(rule: str, periods: list[str], unit: str, cells: list[dict[str, int]]) -> str:
    w, h, left, right, top, bottom = 430, 150, 40, 44, 26, 26
    inner_w, inner_h = w - left - right, h - top - bottom
    peak = max(1, max(c["shown"] for c in cells))
    n = len(periods)
    slot = inner_w / max(n, 1)
    bar_w = min(36.0, max(2.0, slot * 0.6))
    parts = [
        f"<text class=pt x={left} y=16>{_e(rule)}</text>",
        f"<line class=ax x1={left} x2={left + inner_w} y1={top + inner_h} y2={top + inner_h} />",
        f"<text class=tk x={left - 4} y={top + 4} text-anchor=end>{peak}</text>",
        f"<text class=tk x={left - 4} y={top + inner_h + 4} text-anchor=end>0</text>",
        f"<text class=tk x={left + inner_w + 4} y={top + 4}>100%</text>",
        f"<text class=tk x={left + inner_w + 4} y={top + inner_h + 4}>0%</text>",
    ]
    points = []
    for i, (start, c) in enumerate(zip(periods, cells, strict=True)):
        x = left + slot * i + (slot - bar_w) / 2
        bh = inner_h * c["shown"] / peak
        rate = c["overridden"] / c["shown"] if c["shown"] else None
        tip = (
            f"{rule}, {unit} of {start}: {c['shown']} shown, {c['overridden']} overridden"
            + (f" ({rate * 100:.0f} %)" if rate is not None else "")
            + f", {c['accepted']} accepted, {c['suggestions']} suggestions taken"
        )
        parts.append(
            f"<rect class=shown data-period='{_e(start)}' data-shown={c['shown']} "
            f"x={x:.1f} y={top + inner_h - bh:.1f} width={bar_w:.1f} height={bh:.1f}>"
            f"<title>{_e(tip)}</title></rect>"
        )
        if rate is not None:
            points.append((x + bar_w / 2, top + inner_h * (1 - rate), rate, start))
        if n <= 14 or i % max(1, n // 7) == 0:
            parts.append(
                f"<text class=tk x={x + bar_w / 2:.1f} y={h - 8} text-anchor=middle>"
                f"{_e(_label(unit, start))}</text>"
            )
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
        parts.append(f"<polyline class=rate points='{path}' />")
    for x, y, rate, start in points:
        parts.append(
            f"<circle class=rate data-period='{_e(start)}' data-rate='{rate:.4f}' cx={x:.1f} "
            f"cy={y:.1f} r=3.5><title>{_e(f'{rule}: override rate {rate * 100:.0f} %')}</title>"
            "</circle>"
        )
    total = sum(c["shown"] for c in cells)
    over = sum(c["overridden"] for c in cells)
    label = f"{rule}: {total} cards shown, {over} overridden, per {unit}"
    return (
        f"<svg class=plot data-rule='{_e(rule)}' role=img aria-label='{_e(label)}' "
        f"viewBox='0 0 {w} {h}' width={w} height={h} xmlns='http://www.w3.org/2000/svg'>"
        f"<title>{_e(label)}</title>{''.join(parts)}</svg>"
    )


def _hbars(kind: str, title: str, items: list[tuple[str, int, str]]) -> str:
    """Horizontal bars: (label, count, note) per item."""
    if not items:
        return "<p class=none>None in this period.</p>"
    w, row, left = 720, 24, 300
    peak = max(1, max(c for _, c, _ in items))
    h = row * len(items) + 8
    parts = []
    for i, (label, count, note) in enumerate(items):
        y = 4 + i * row
        bw = (w - left - 150) * count / peak
        short = label if len(label) <= 46 else label[:45] + "…"
        parts.append(
            f"<text class=lb x={left - 8} y={y + 15} text-anchor=end>{_e(short)}</text>"
            f"<rect class={kind} data-label='{_e(label)}' data-count={count} x={left} y={y + 3} "
            f"width={max(bw, 1):.1f} height={row - 8}><title>{_e(f'{label}: {count} {note}')}"
            "</title></rect>"
            f"<text class=tk x={left + bw + 6:.1f} y={y + 15}>{count} {_e(note)}</text>"
        )
    return (
        f"<svg class='plot wide' role=img aria-label='{_e(title)}' viewBox='0 0 {w} {h}' "
        f"width={w} height={h} xmlns='http://www.w3.org/2000/svg'><title>{_e(title)}</title>"
        f"{''.join(parts)}</svg>"
    )


def _reason_name(reason: Mapping[str, Any]) -> str:
    if reason.get("code") is None:
        return "(no reason given)"
    displays = reason.get("displays") or []
    return str(displays[0]) if displays else str(reason["code"])


PLOT_STYLE = """
.plots{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem}
svg.plot{border:1px solid #e1e4e8;border-radius:4px;background:#fff;max-width:100%;height:auto}
svg.plot text{font:11px system-ui,sans-serif;fill:#333}svg.plot .pt{font-weight:600;font-size:12px}
svg.plot .tk{fill:#555}svg.plot .ax{stroke:#999}
svg.plot rect.shown{fill:#8fb3d9}svg.plot polyline.rate{fill:none;stroke:#b42318;stroke-width:2}
svg.plot circle.rate{fill:#b42318}svg.plot rect.reason{fill:#c77700}
svg.plot rect.taken{fill:#2e7d32}.legend{font-size:.85rem;color:#444}
.legend i{display:inline-block;width:.9rem;height:.6rem;margin:0 .3rem 0 .8rem}
.legend .k1{background:#8fb3d9}.legend .k2{background:#b42318;height:.2rem}
@media print{form.filters,.export{display:none}body{margin:0;max-width:none}
svg.plot{break-inside:avoid}h2{break-after:avoid}table{break-inside:auto}
tr{break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def plots_html(report: Mapping[str, Any], timeline: Mapping[str, Any]) -> str:
    """The three plot sections of the page (see the module docstring)."""
    unit = timeline.get("unit", "week")
    periods = list(timeline.get("periods", []))
    rules = list(timeline.get("rules", {}).items())[:MAX_RULE_PANELS]
    panels = "".join(_rule_panel(rule, periods, unit, cells) for rule, cells in rules)
    per_rule = (
        "<h2>Cards shown and override rate over time</h2>"
        f"<p class=legend>Per {unit}, the {len(rules)} rules shown most:"
        "<i class=k1></i>cards shown<i class=k2></i>override rate (0-100 %, right axis)</p>"
        + (
            f"<div class=plots>{panels}</div>"
            if panels
            else "<p class=none>None in this period.</p>"
        )
    )
    reasons = [
        (
            _reason_name(r),
            int(r["count"]),
            f"({(r['share_of_overrides'] or 0) * 100:.0f} % of overrides)",
        )
        for r in report["totals"]["override_reasons"]
    ]
    taken = [
        (str(g["rule_id"] or NO_RULE), int(g["accepted_suggestions"]), "taken")
        for g in report["by_rule"]
        if g["accepted_suggestions"]
    ]
    return (
        per_rule
        + "<h2>Override reasons at a glance</h2>"
        + _hbars("reason", "Override reasons, all cards", reasons)
        + "<h2>Suggestions taken, per rule</h2>"
        + _hbars("taken", "Suggestions taken per rule", taken)
    )

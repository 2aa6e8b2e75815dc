"""Render: the trend app's charts as inline SVG plus a table (its text alternative).

`render_trends(trends, language, knowledge)` returns an HTML fragment: per chart (RA, PMR,
myositis) a figure with one panel per score (its values over time on the category bands of
knowledge/scores.toml) or lab, the treatment periods underneath on the same time axis, the
latest score with its age (and whether it is stale), and a table of every value drawn with
its inputs and of every treatment period.

Every point is focusable (tabindex) and carries its date, value, category and inputs in a
<title> and in data attributes (the app shows them on focus, hover or tap). No inline style
and no script: the page's style sheet colours the classes, so the strict CSP holds.
Texts come from cards/templates/<language>.toml ([chart]); this module holds no clinical text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from cards.catalogue import Catalogue, catalogue, format_number
from cards.language import LANGUAGES, match_language
from cds_service.assess import scores as sc
from cds_service.assess.trends import Chart, Period, Trends, settings
from cds_service.knowledge import Knowledge
from cds_service.model import Observed, Score

WIDTH = 880
LEFT = 190  # lane labels and y ticks
RIGHT = 24
PANEL_H = 150
PANEL_GAP = 26
LANE_H = 22
AXIS_H = 30
TICK_GAP = 11  # px a tick or band label needs
MARGIN_DAYS = 21
DERIVED = frozenset({"crp_mg_dl", "ptga_0_10", "prga_0_10", "patient_pain_0_10"})


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass(frozen=True)
class _Axis:
    start: date
    end: date

    def x(self, day: date) -> float:
        span = max((self.end - self.start).days, 1)
        return LEFT + (WIDTH - LEFT - RIGHT) * (day - self.start).days / span

    def clip(self, day: date) -> date:
        return min(max(day, self.start), self.end)


def _axis(trends: Trends, chart: Chart, min_span: int) -> _Axis:
    days = [s.when for v in chart.scores.values() for s in v if s.when]
    days += [o.when for v in chart.labs.values() for o in v]
    first = min(days, default=trends.today)
    start = min(first, trends.today - timedelta(days=min_span)) - timedelta(days=MARGIN_DAYS)
    return _Axis(start, trends.today + timedelta(days=MARGIN_DAYS))


def _months(axis: _Axis) -> list[date]:
    out = []
    day = date(axis.start.year, axis.start.month, 1)
    while day <= axis.end:
        if day >= axis.start:
            out.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    step = max(1, len(out) // 8)  # at most about eight labels
    return out[::step]


def _input_text(cat: Catalogue, knowledge: Knowledge, score: Score) -> str:
    colon = cat.get("meta", "colon")
    units = knowledge.concepts.get("observation", {})
    parts = []
    for key, value in score.inputs.items():
        if key in DERIVED or isinstance(value, dict):
            continue
        label = cat.data["concept"].get(key) or cat.data["input"].get(key) or key
        unit = units.get(key, {}).get("unit", "") if isinstance(units.get(key), dict) else ""
        shown = f"{cat.value(value)} {cat.unit(unit)}".strip()
        parts.append(f"{label}{colon}{shown}")
    return "; ".join(parts)


def _category(cat: Catalogue, category: str | None) -> str:
    return cat.data["category"].get(category or "unknown", category or "")


def _score_name(cat: Catalogue, score_id: str) -> str:
    return cat.data["score"].get(score_id, score_id)


def _bands(score_id: str, specs: sc.ScoreSpecs) -> list[tuple[str, float, float | None]]:
    """(category, lower, upper) of each band; the last is open (upper None)."""
    out = []
    lower = 0.0
    for band in specs.bands[score_id]:
        out.append((band.category, lower, band.upper))
        if band.upper is not None:
            lower = band.upper
    return out


def _nice_max(value: float) -> float:
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        top = step * 5
        if value <= top:
            return float(top if value > top * 0.6 else max(step * 3, value * 1.15))
    return value * 1.15


def _score_panel(
    cat: Catalogue,
    knowledge: Knowledge,
    specs: sc.ScoreSpecs,
    axis: _Axis,
    score_id: str,
    values: list[Score],
    top: float,
) -> list[str]:
    bands = _bands(score_id, specs)
    last_upper = max(b[2] for b in bands if b[2] is not None)
    ymax = max(last_upper * 1.45, max(s.value or 0 for s in values) * 1.12)

    def y(v: float) -> float:
        return top + PANEL_H - PANEL_H * min(v, ymax) / ymax

    name = _score_name(cat, score_id)
    out = [
        f"<g class='panel' data-score='{_e(score_id)}'>",
        f"<text class='panel-title' x='{LEFT}' y='{top - 8:.1f}'>{_e(name)}</text>",
    ]
    out.append(f"<text class='tick' x='{LEFT - 6}' y='{y(0) + 4:.1f}' text-anchor='end'>0</text>")
    last_tick = y(0)
    for category, lower, upper in bands:
        y1 = y(upper if upper is not None else ymax)
        y0 = y(lower)
        out.append(
            f"<rect class='band band-{_e(category)}' data-band='{_e(category)}' "
            f"x='{LEFT}' y='{y1:.1f}' width='{WIDTH - LEFT - RIGHT}' height='{y0 - y1:.1f}'>"
            f"<title>{_e(_category(cat, category))}</title></rect>"
        )
        if y0 - y1 >= TICK_GAP:  # a thin band is named in its title only
            out.append(
                f"<text class='band-label' x='{WIDTH - RIGHT - 6}' y='{(y0 + y1) / 2 + 4:.1f}' "
                f"text-anchor='end'>{_e(_category(cat, category))}</text>"
            )
        # the cut-off on the axis when there is room to read it
        if upper is not None and last_tick - y(upper) >= TICK_GAP:
            last_tick = y(upper)
            out.append(
                f"<text class='tick' x='{LEFT - 6}' y='{y(upper) + 4:.1f}' text-anchor='end'>"
                f"{_e(format_number(upper))}</text>"
            )
    points = [(axis.x(s.when), y(s.value)) for s in values if s.when and s.value is not None]
    if len(points) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(f"<polyline class='series' points='{path}'/>")
    for s, (px, py) in zip(values, points, strict=True):
        assert s.when is not None and s.value is not None
        category = _category(cat, s.category)
        inputs = _input_text(cat, knowledge, s)
        detail = f"{name} {format_number(s.value)}{cat.get('meta', 'list_separator')}"
        detail += f"{category} · {s.when.isoformat()}"
        if inputs:
            detail += f" · {inputs}"
        out.append(
            f"<circle class='point point-{_e(s.category or 'unknown')}' tabindex='0' "
            f"role='img' aria-label='{_e(detail)}' data-detail='{_e(detail)}' "
            f"data-score='{_e(score_id)}' data-value='{_e(s.value)}' "
            f"data-date='{s.when.isoformat()}' data-category='{_e(s.category or '')}' "
            f"cx='{px:.1f}' cy='{py:.1f}' r='6'><title>{_e(detail)}</title></circle>"
        )
    out.append("</g>")
    return out


def _lab_panel(
    cat: Catalogue, axis: _Axis, concept: str, values: list[Observed], top: float
) -> list[str]:
    ymax = _nice_max(max(o.value or 0 for o in values))

    def y(v: float) -> float:
        return top + PANEL_H - PANEL_H * min(v, ymax) / ymax

    unit = cat.unit(values[-1].unit)
    name = cat.label(concept)
    out = [
        f"<g class='panel panel-lab' data-lab='{_e(concept)}'>",
        f"<text class='panel-title' x='{LEFT}' y='{top - 8:.1f}'>{_e(name)} ({_e(unit)})</text>",
        f"<rect class='lab-bg' x='{LEFT}' y='{top}' width='{WIDTH - LEFT - RIGHT}' "
        f"height='{PANEL_H}'/>",
    ]
    for tick in (0.0, ymax / 2, ymax):
        out.append(
            f"<line class='grid' x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y(tick):.1f}' "
            f"y2='{y(tick):.1f}'/>"
            f"<text class='tick' x='{LEFT - 6}' y='{y(tick) + 4:.1f}' text-anchor='end'>"
            f"{_e(format_number(round(tick, 1)))}</text>"
        )
    points = [(axis.x(o.when), y(o.value or 0)) for o in values]
    if len(points) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(f"<polyline class='series series-lab' points='{path}'/>")
    for o, (px, py) in zip(values, points, strict=True):
        detail = f"{name} {format_number(o.value or 0)} {unit} · {o.when.isoformat()}"
        out.append(
            f"<circle class='point point-lab' tabindex='0' role='img' "
            f"aria-label='{_e(detail)}' data-detail='{_e(detail)}' data-lab='{_e(concept)}' "
            f"data-value='{_e(o.value)}' data-date='{o.when.isoformat()}' "
            f"cx='{px:.1f}' cy='{py:.1f}' r='6'><title>{_e(detail)}</title></circle>"
        )
    out.append("</g>")
    return out


def _period_text(cat: Catalogue, p: Period) -> str:
    name = cat.drug(p.drug, p.display)
    klass = cat.get("chart", f"class_{p.drug_class}")
    if p.end is not None:
        when = cat.fill("chart", "period", start=p.start.isoformat(), end=p.end.isoformat())
    elif p.ongoing:
        when = cat.fill("chart", "since", start=p.start.isoformat())
    else:
        when = cat.fill("chart", "end_unknown", start=p.start.isoformat())
    text = f"{name} ({klass}) · {when}"
    if p.mg_per_day is not None:
        text += " · " + cat.fill("chart", "dose_per_day", dose=format_number(p.mg_per_day))
    return text


def _lanes(cat: Catalogue, axis: _Axis, periods: list[Period], top: float) -> list[str]:
    lanes: dict[tuple[str, str], list[Period]] = {}
    for p in periods:
        lanes.setdefault((p.drug_class, p.drug), []).append(p)
    out = [
        f"<text class='panel-title' x='{LEFT}' y='{top - 8:.1f}'>"
        f"{_e(cat.get('chart', 'treatments'))}</text>"
    ]
    for i, ((drug_class, drug), items) in enumerate(lanes.items()):
        y = top + i * LANE_H
        label = f"{cat.drug(drug, items[0].display)}"
        out.append(
            f"<text class='lane-label' x='{LEFT - 6}' y='{y + LANE_H * 0.68:.1f}' "
            f"text-anchor='end'>{_e(label)}</text>"
        )
        for p in items:
            end = p.end or (axis.end if p.ongoing else p.start)
            if end < axis.start:
                continue
            x0 = axis.x(axis.clip(p.start))
            x1 = max(axis.x(axis.clip(end)), x0 + 4)
            text = _period_text(cat, p)
            out.append(
                f"<rect class='period period-{_e(drug_class)}' tabindex='0' role='img' "
                f"aria-label='{_e(text)}' data-detail='{_e(text)}' data-class='{_e(drug_class)}' "
                f"data-drug='{_e(drug)}' x='{x0:.1f}' y='{y + 3}' width='{x1 - x0:.1f}' "
                f"height='{LANE_H - 6}' rx='3'><title>{_e(text)}</title></rect>"
            )
            if p.mg_per_day is not None and x1 - x0 > 70:
                dose = cat.fill("chart", "dose_per_day", dose=format_number(p.mg_per_day))
                out.append(
                    f"<text class='period-label' x='{x0 + 6:.1f}' y='{y + LANE_H * 0.68:.1f}'>"
                    f"{_e(dose)}</text>"
                )
    return out


def _time_axis(cat: Catalogue, axis: _Axis, top: float, bottom: float) -> list[str]:
    out = []
    for month in _months(axis):
        x = axis.x(month)
        out.append(
            f"<line class='grid grid-x' x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{bottom}'/>"
            f"<text class='tick' x='{x:.1f}' y='{bottom + 16:.1f}' text-anchor='middle'>"
            f"{month.isoformat()[:7]}</text>"
        )
    today_x = axis.x(axis.end - timedelta(days=MARGIN_DAYS))
    out.append(
        f"<line class='today' x1='{today_x:.1f}' x2='{today_x:.1f}' y1='{top}' y2='{bottom}'/>"
        f"<text class='tick today-label' x='{today_x:.1f}' y='{top - 2:.1f}' "
        f"text-anchor='middle'>{_e(cat.get('chart', 'today'))}</text>"
    )
    return out


def _latest_line(cat: Catalogue, trends: Trends, chart: Chart) -> str:
    latest: Score | None = None
    for values in chart.scores.values():
        last = values[-1]
        if latest is None or (last.when or date.min) > (latest.when or date.min):
            latest = last
    if latest is None or latest.when is None or latest.value is None:
        return _latest_lab_line(cat, trends, chart)
    days = (trends.today - latest.when).days
    text = cat.fill(
        "chart",
        "latest",
        score=_score_name(cat, latest.id),
        value=format_number(latest.value),
        category=_category(cat, latest.category),
        date=latest.when.isoformat(),
        days=days,
    )
    stale = days > trends.stale_days
    mark = (
        f" <strong class='stale'>⚠ {_e(cat.fill('chart', 'stale', days=trends.stale_days))}"
        "</strong>"
        if stale
        else ""
    )
    return (
        f"<p class='latest' data-stale='{str(stale).lower()}' data-age-days='{days}'>"
        f"{_e(text)}{mark}</p>"
    )


def _latest_lab_line(cat: Catalogue, trends: Trends, chart: Chart) -> str:
    """A chart of results only: the newest result of its first measure and its age."""
    for concept, values in chart.labs.items():
        last = values[-1]
        days = (trends.today - last.when).days
        value = f"{format_number(last.value or 0)} {cat.unit(last.unit)}".strip()
        text = cat.fill(
            "chart",
            "latest_lab",
            measure=cat.label(concept),
            value=value,
            date=last.when.isoformat(),
            days=days,
        )
        return f"<p class='latest' data-age-days='{days}'>{_e(text)}</p>"
    return ""


def _table(cat: Catalogue, knowledge: Knowledge, chart: Chart, periods: list[Period]) -> str:
    rows = []
    for score_id, values in chart.scores.items():
        for s in values:
            rows.append(
                (
                    s.when.isoformat() if s.when else "",
                    _score_name(cat, score_id),
                    format_number(s.value) if s.value is not None else "",
                    _category(cat, s.category),
                    _input_text(cat, knowledge, s),
                )
            )
    for concept, obs in chart.labs.items():
        for o in obs:
            value = f"{format_number(o.value or 0)} {cat.unit(o.unit)}".strip()
            rows.append((o.when.isoformat(), cat.label(concept), value, "", ""))
    rows.sort(key=lambda r: (r[0], r[1]))
    head = "".join(
        f"<th scope='col'>{_e(cat.get('chart', k))}</th>"
        for k in ("col_date", "col_measure", "col_value", "col_category", "col_inputs")
    )
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    tx_head = "".join(
        f"<th scope='col'>{_e(cat.get('chart', k))}</th>" for k in ("col_treatment", "col_period")
    )
    tx_body = "".join(
        f"<tr><td>{_e(cat.drug(p.drug, p.display))}</td><td>{_e(_period_text(cat, p))}</td></tr>"
        for p in periods
    )
    tx = (
        f"<table class='values'><caption>{_e(cat.get('chart', 'treatments'))}</caption>"
        f"<thead><tr>{tx_head}</tr></thead><tbody>{tx_body}</tbody></table>"
        if periods
        else ""
    )
    return (
        f"<details class='text-alternative'><summary>{_e(cat.get('chart', 'table'))}</summary>"
        f"<table class='values'><caption>{_e(cat.get('chart', f'chart_{chart.id}'))}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{tx}</details>"
    )


def _chart(
    cat: Catalogue, knowledge: Knowledge, specs: sc.ScoreSpecs, trends: Trends, chart: Chart
) -> str:
    axis = _axis(trends, chart, settings().min_span_days)
    periods = [
        p for p in trends.periods if (p.end or (axis.end if p.ongoing else p.start)) >= axis.start
    ]
    title = cat.get("chart", f"chart_{chart.id}")
    svg: list[str] = []
    top = 30.0
    for score_id, values in chart.scores.items():
        svg += _score_panel(cat, knowledge, specs, axis, score_id, values, top)
        top += PANEL_H + PANEL_GAP
    for concept, obs in chart.labs.items():
        svg += _lab_panel(cat, axis, concept, obs, top)
        top += PANEL_H + PANEL_GAP
    panels_bottom = top - PANEL_GAP
    if periods:
        lanes_top = top + 4
        svg += _lanes(cat, axis, periods, lanes_top)
        lane_count = len({(p.drug_class, p.drug) for p in periods})
        top = lanes_top + lane_count * LANE_H
    else:
        top = panels_bottom
    bottom = top + 4
    if not chart.scores and not chart.labs:
        body = f"<p class='empty'>{_e(cat.get('chart', 'no_values'))}</p>"
    else:
        body = ""
    svg = _time_axis(cat, axis, 22.0, bottom) + svg
    height = bottom + AXIS_H
    chart_id = f"chart-{chart.id}"
    figure = (
        f"<figure class='chart' data-chart='{_e(chart.id)}'>"
        f"<svg xmlns='http://www.w3.org/2000/svg' role='group' aria-labelledby='{chart_id}-t' "
        f"viewBox='0 0 {WIDTH} {height:.0f}' width='{WIDTH}' height='{height:.0f}'>"
        f"<title id='{chart_id}-t'>{_e(title)}</title>{''.join(svg)}</svg>"
        f"<figcaption>{_e(cat.get('chart', 'caption'))}</figcaption></figure>"
    )
    return (
        f"<section class='disease' id='{chart_id}' aria-labelledby='{chart_id}-h'>"
        f"<h2 id='{chart_id}-h'>{_e(title)}</h2>{_latest_line(cat, trends, chart)}{body}"
        f"{figure}{_table(cat, knowledge, chart, periods)}</section>"
    )


def render_trends(trends: Trends, language: str, knowledge: Knowledge) -> str:
    """The charts of `trends` as an HTML fragment in `language` (see the module docstring)."""
    if language not in LANGUAGES:
        language = match_language(language) or "en"
    cat = catalogue(language)
    specs = sc.score_specs(knowledge)
    if not trends.charts:
        return f"<p class='empty' data-charts='0'>{_e(cat.get('chart', 'no_charts'))}</p>"
    parts: Iterable[str] = (_chart(cat, knowledge, specs, trends, c) for c in trends.charts)
    return f"<div class='charts' data-charts='{len(trends.charts)}'>{''.join(parts)}</div>"

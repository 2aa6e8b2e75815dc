"""Stage 6, render: an Assessment becomes at most three CDS Hooks cards per order.

Grouping (SPEC.md §7, issue 6):
- **safety**, one card per target order: its safety findings, highest severity first; the
  card's indicator is the highest severity; dose updates and cancelling the draft are offered
  here (they exclude each other: selectionBehavior "at-most-one" when there are several).
- **disease activity**, one card per request (scores are the patient's, not the order's):
  scores with inputs, date, category, the last three values, stale or missing stated, and the
  activity findings. Not shown on order-select, which asks for fewer, earlier cards.
- **missing screening and labs**, one card per request: screening findings, every "not
  assessed" entry and data that could not be retrieved, with one-click orders for the tests
  and the zoster vaccine (deduplicated across orders, so nothing is ordered twice).
patient-view gets one disease-activity summary card, without an order.

Texts come from cards/templates/<language>.toml; this module holds no clinical text.
"""

from __future__ import annotations

import math
import re
import string
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from cards.catalogue import Catalogue, catalogue, format_number
from cards.language import LANGUAGES, match_language
from cards.suggestions import build_suggestion, fhir_codes
from cds_service.assess.scores import SCORE_IDS
from cds_service.gather import VERSION_REASON
from cds_service.knowledge import Knowledge
from cds_service.model import (
    SEVERITY_RANK,
    Assessment,
    Evidence,
    Finding,
    NotAssessed,
    Order,
    Score,
    Suggestion,
    Unavailable,
)
from cds_service.normalise.dosage import PROBLEMS as DOSE_PROBLEMS

SUMMARY_MAX = 139  # CDS Hooks: "fewer than 140 characters"
MODIFYING = frozenset({"dose-update", "stop-order"})  # act on the draft order itself
SCORE_ORDER = SCORE_IDS  # the order scores are shown in: that of SPEC.md §1
TREND_LENGTH = 3
# Scores whose meaning is the category (the value is a change or the score it judged): shown
# category first, never as the headline number.
CATEGORY_SCORES = frozenset({"EULAR-RESPONSE", "PMR-FLARE"})


# ----------------------------------------------------------------------------- small helpers


def fit_summary(text: str, limit: int = SUMMARY_MAX) -> str:
    """One line of at most `limit` characters, cut at a word boundary when there is one."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:、，；") + "…"


def _max_severity(severities: Iterable[str], default: str = "info") -> str:
    best = default
    for sev in severities:
        if SEVERITY_RANK.get(sev, 0) > SEVERITY_RANK[best]:
            best = sev
    return best


def _by_severity(findings: list[Finding]) -> list[Finding]:
    """Highest severity first; within a severity, findings that change the order lead."""

    def key(f: Finding) -> tuple[int, int]:
        acts = any(s.kind in MODIFYING for s in f.suggestions)
        return -SEVERITY_RANK.get(f.severity, 0), 0 if acts else 1

    return sorted(findings, key=key)


def _json_safe(value: Any) -> Any:
    """Plain JSON: dates as ISO strings, no NaN or infinity (JSON has neither)."""
    kind = type(value)
    if kind is str or value is None or kind is int or kind is bool:  # the usual, first
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "id": f.rule_id,
        "severity": f.severity,
        "evidence": [_json_safe(e.as_json()) for e in f.evidence],
        "source": f.source,
    }


def _score_json(s: Score) -> dict[str, Any]:
    return {
        "id": s.id,
        "value": _json_safe(s.value),
        "category": s.category,
        "date": s.when.isoformat() if s.when else None,
        "inputs": _json_safe(s.inputs),
    }


def _na_json(n: NotAssessed) -> dict[str, Any]:
    return {"id": n.rule_id, "missing": n.missing}


def _dedupe_findings(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for f in findings:
        key = (f.rule_id, f.severity, tuple(e.ref for e in f.evidence))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def _dedupe_na(items: Iterable[NotAssessed]) -> list[NotAssessed]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for n in items:
        key = (n.rule_id, n.missing)
        if key not in seen:
            seen.add(key)
            out.append(n)
    return out


# ----------------------------------------------------------------------------- text pieces


@dataclass(frozen=True)
class _Ctx:
    cat: Catalogue
    knowledge: Knowledge
    docs: str  # docs base URL without trailing slash

    def rule_url(self, rule_id: str) -> str:
        return f"{self.docs}/rules/{rule_id}"

    def concept_unit(self, concept: str) -> str | None:
        entry = self.knowledge.concepts.get("observation", {}).get(concept)
        return entry.get("unit") if isinstance(entry, dict) else None


def _evidence_text(ctx: _Ctx, e: Evidence) -> str:
    cat = ctx.cat
    parts = [cat.label(e.label)]
    if e.value is not None:
        value = cat.value(e.value)
        unit = cat.unit(e.unit)
        parts.append(f"{value} {unit}".strip())
    text = cat.get("meta", "colon").join(parts) if len(parts) == 2 else parts[0]
    if e.when:
        text += f" ({e.when.isoformat()})"
    return text


def _finding_lines(ctx: _Ctx, f: Finding) -> list[str]:
    cat = ctx.cat
    severity = cat.data["severity"].get(f.severity, f.severity)
    head = (
        f"- **{severity}** · {cat.rule_text(f.rule_id, f.params)} "
        f"([{f.rule_id}]({ctx.rule_url(f.rule_id)}))"
    )
    lines = [head]
    if f.evidence:
        joined = "; ".join(_evidence_text(ctx, e) for e in f.evidence)
        lines.append(f"  - {cat.get('card', 'evidence')}{cat.get('meta', 'colon')}{joined}")
    if f.source:
        lines.append(f"  - {cat.get('card', 'source')}{cat.get('meta', 'colon')}{f.source}")
    return lines


class _Blank(dict[str, str]):
    """Fields a case phrase may name but this rule's text did not carry read as empty."""

    def __missing__(self, key: str) -> str:
        return ""


@cache
def _template_pattern(template: str) -> re.Pattern[str]:
    """A regex that reads the {fields} back out of a text made from `template`."""
    out, seen = [], set()
    for literal, name, _, _ in string.Formatter().parse(template):
        out.append(re.escape(literal))
        if name:
            out.append(f"(?P<{name}>.*?)" if name not in seen else ".*?")
            seen.add(name)
    return re.compile("".join(out))


def _missing_case(knowledge: Knowledge, n: NotAssessed) -> tuple[str, dict[str, str]] | None:
    """Which `missing.<case>` of the rule's knowledge table produced this entry, and its fields."""
    cases = knowledge.rules.get(n.rule_id, {}).get("missing", {})
    for case, spec in cases.items() if isinstance(cases, dict) else ():
        text = spec.get("text") if isinstance(spec, dict) else None
        if isinstance(text, str):
            found = _template_pattern(text).fullmatch(n.missing)
            if found:
                return case, found.groupdict()
    return None


def _na_sentence(ctx: _Ctx, n: NotAssessed) -> str:
    """ "Not assessed: no X on file since D" in the card language; never reads as no risk.

    Entries whose reason is not missing data (data that could not be retrieved, an unreadable
    dose, a label rule not configured for the region...) get their own phrase, found from the
    rule's `missing.<case>` table; the rest name the missing concepts and the date.
    """
    cat = ctx.cat
    matched = _missing_case(ctx.knowledge, n)
    phrases = cat.data["not_assessed_case"]
    if matched and matched[0] in phrases:
        case, fields = matched
        if case == "dose" and "reason" in fields:
            fields = {**fields, "reason": _dose_reason(cat, fields["reason"])}
        what = phrases[case].format_map(_Blank(fields))
        return cat.fill("card", "not_assessed_because", what=what)
    if n.concepts:
        what = cat.get("meta", "or").join(cat.label(c) for c in n.concepts)
        if n.since:
            return cat.fill("card", "not_assessed", what=what, since=n.since.isoformat())
        return cat.fill("card", "not_assessed_ever", what=what)
    if cat.language == "en" and n.missing:
        return cat.fill("card", "not_assessed_because", what=n.missing)
    return cat.get("card", "not_assessed_generic")


def _dose_reason(cat: Catalogue, reason: str) -> str:
    """Why the ordered dose could not be read, in the card language (the normalise stage
    gives one of its DOSE_PROBLEMS phrases in English)."""
    texts = cat.data.get("dose_problem", {})
    for key, template in DOSE_PROBLEMS.items():
        found = _template_pattern(template).fullmatch(reason)
        if found and key in texts:
            return texts[key].format_map(_Blank(found.groupdict()))
    return reason if cat.language == "en" else texts.get("other", reason)


def _na_line(ctx: _Ctx, n: NotAssessed) -> str:
    return (
        f"- **{ctx.cat.rule_short(n.rule_id)}** ([{n.rule_id}]({ctx.rule_url(n.rule_id)})): "
        f"{_na_sentence(ctx, n)}"
    )


def _unavailable_line(cat: Catalogue, u: Unavailable) -> str:
    what = cat.data["data"].get(u.key, u.key)
    return "- " + cat.fill("card", "unavailable", what=what, reason=_unavailable_reason(cat, u))


def _unavailable_reason(cat: Catalogue, u: Unavailable) -> str:
    """The reason, in the card language where it says which FHIR versions the service reads."""
    found = _template_pattern(VERSION_REASON).fullmatch(u.reason)
    if found:
        return cat.fill("card", "fhir_version_refused", **found.groupdict())
    return u.reason


def _score_name(cat: Catalogue, score_id: str) -> str:
    return cat.data["score"].get(score_id, score_id)


def _category(cat: Catalogue, category: str | None) -> str:
    return cat.data["category"].get(category or "unknown", category or "")


def _score_groups(scores: list[Score]) -> list[list[Score]]:
    """Scores per id (newest first, at most TREND_LENGTH), ids in a fixed display order."""
    groups: dict[str, list[Score]] = {}
    for s in scores:
        groups.setdefault(s.id, [])
        if len(groups[s.id]) < TREND_LENGTH:
            groups[s.id].append(s)
    for values in groups.values():
        values.sort(key=lambda s: s.when or date.min, reverse=True)
    rank = {sid: i for i, sid in enumerate(SCORE_ORDER)}
    return sorted(groups.values(), key=lambda g: rank.get(g[0].id, len(rank)))


_OUT_OF_RANGE = re.compile(r"(?P<component>[a-z0-9_]+) must be (?P<limit>[<>=]+ ?[0-9.eE+-]+)")


def _problem_text(cat: Catalogue, problem: str | None) -> str:
    """Why a score was not computed; an out-of-range input is said in the card language."""
    if not problem:
        return cat.get("meta", "none")
    found = _OUT_OF_RANGE.fullmatch(problem)
    if found:
        component = _input_label(cat, found["component"])
        limit = found["limit"].replace("<=", "≤").replace(">=", "≥")
        return cat.fill("card", "out_of_range", component=component, limit=limit)
    return problem


def _input_label(cat: Catalogue, key: str) -> str:
    """A score input: a concept (tjc28, crp...) or a derived part ([input] of the catalogue)."""
    return cat.data["concept"].get(key) or cat.data["input"].get(key) or key


def _headline(groups: list[list[Score]]) -> Score | None:
    """The newest computed score (display order breaks ties)."""
    best: Score | None = None
    for group in groups:
        latest = group[0]
        if latest.value is None or latest.id in CATEGORY_SCORES:
            continue
        if best is None or (latest.when or date.min) > (best.when or date.min):
            best = latest
    return best


def _score_lines(ctx: _Ctx, group: list[Score]) -> list[str]:
    cat = ctx.cat
    latest = group[0]
    name = _score_name(cat, latest.id)
    when = latest.when.isoformat() if latest.when else "?"
    if latest.value is None:
        problem = _problem_text(cat, latest.problem)
        colon = cat.get("meta", "colon")
        return [f"- **{name}**{colon}{cat.fill('card', 'not_computed', problem=problem)} ({when})"]
    sep = cat.get("meta", "list_separator")
    category = _category(cat, latest.category)
    if latest.id in CATEGORY_SCORES:
        head = f"- **{name}**{cat.get('meta', 'colon')}{category} ({when})"
    else:
        head = f"- **{name} {format_number(latest.value)}**{sep}{category} ({when})"
    if latest.stale:
        head += f" · ⚠ {cat.get('card', 'stale')}"
    lines = [head]
    if latest.inputs:
        items = []
        for key, value in latest.inputs.items():
            unit = cat.unit(ctx.concept_unit(key))
            shown = cat.value(value) if not isinstance(value, dict) else str(value)
            items.append(f"{_input_label(cat, key)} {shown}{(' ' + unit) if unit else ''}")
        lines.append(
            f"  - {cat.get('card', 'inputs')}{cat.get('meta', 'colon')}" + "; ".join(items)
        )
    if latest.mismatch and latest.recorded_total is not None:
        recorded = format_number(latest.recorded_total)
        lines.append("  - ⚠ " + cat.fill("card", "mismatch", recorded=recorded))
    if len(group) > 1:
        trend = " ← ".join(
            f"{format_number(s.value) if s.value is not None else '–'}"
            f" ({s.when.isoformat() if s.when else '?'})"
            for s in group
        )
        lines.append(f"  - {cat.get('card', 'trend')}{cat.get('meta', 'colon')}{trend}")
    return lines


def _override_reasons(cat: Catalogue, kind: str) -> list[dict[str, str]]:
    codes = fhir_codes()["override_reason"]
    return [
        {"system": codes["system"], "code": code, "display": cat.get("override", code)}
        for code in codes["by_card"][kind]
    ]


def _links(ctx: _Ctx, ids: Iterable[str]) -> list[dict[str, str]]:
    out, seen = [], set()
    for rid in ids:
        if rid in seen:
            continue
        seen.add(rid)
        label = f"{rid}: {ctx.cat.rule_short(rid)}" if rid in ctx.cat.data["rule"] else rid
        out.append({"label": label, "url": ctx.rule_url(rid), "type": "absolute"})
    return out


def _card(
    ctx: _Ctx,
    *,
    kind: str,
    summary: str,
    indicator: str,
    detail: list[str],
    source_id: str,
    findings: list[Finding],
    nas: list[NotAssessed],
    scores: list[Score],
    suggestions: list[dict[str, Any]],
    exclusive: bool = False,
) -> dict[str, Any]:
    cat = ctx.cat
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": fit_summary(summary),
        "indicator": indicator,
        "detail": "\n".join(detail),
        "source": {
            # no rule (only data that could not be retrieved): the index of the rule pages
            "label": cat.fill("card", "source_label", rule=source_id) if source_id else "rheum-cds",
            "url": ctx.rule_url(source_id),
        },
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one" if exclusive else "any"
    if indicator in ("warning", "critical"):
        card["overrideReasons"] = _override_reasons(cat, kind)
    ids = [f.rule_id for f in findings] + [n.rule_id for n in nas] + [s.id for s in scores]
    links = _links(ctx, ids)
    if links:
        card["links"] = links
    card["extension"] = {
        "org.rheum-cds": {
            "findings": [_finding_json(f) for f in findings],
            "scores": [_score_json(s) for s in scores],
            "notAssessed": [_na_json(n) for n in nas],
            "language": cat.language,
        }
    }
    return card


# ----------------------------------------------------------------------------- grouping


@dataclass
class _OrderItems:
    order: Order
    safety: list[Finding] = field(default_factory=list)
    modifying: list[tuple[Suggestion, str]] = field(default_factory=list)  # with its rule id


@dataclass
class _Groups:
    per_order: list[_OrderItems]
    activity: list[Finding] = field(default_factory=list)
    activity_na: list[NotAssessed] = field(default_factory=list)
    screening: list[Finding] = field(default_factory=list)
    screening_na: list[NotAssessed] = field(default_factory=list)
    creates: list[tuple[Suggestion, Order]] = field(default_factory=list)


def _order_index(orders: list[Order], ref: str | None, drug: str | None) -> int:
    for i, o in enumerate(orders):
        if ref is not None and o.ref == ref:
            return i
    for i, o in enumerate(orders):
        if drug is not None and o.drug == drug:
            return i
    return 0  # patient-level: shown with the first order


def _group(assessment: Assessment) -> _Groups:
    orders = assessment.orders
    groups = _Groups(per_order=[_OrderItems(o) for o in orders])
    for f in assessment.findings:
        items = groups.per_order[_order_index(orders, f.order_ref, f.drug)]
        if f.category == "activity":
            groups.activity.append(f)
        elif f.category == "safety":
            items.safety.append(f)
        else:
            groups.screening.append(f)
        for s in f.suggestions:
            if s.kind in MODIFYING:
                items.modifying.append((s, f.rule_id))
            else:
                groups.creates.append((s, items.order))
    for n in assessment.not_assessed:
        items = groups.per_order[_order_index(orders, n.order_ref, n.drug)]
        if n.category == "activity":
            groups.activity_na.append(n)
        else:
            groups.screening_na.append(n)
        for s in n.suggestions:
            if s.kind not in MODIFYING:
                groups.creates.append((s, items.order))
    return groups


def _suggestion_key(s: Suggestion) -> tuple[str, tuple[tuple[str, str], ...]]:
    return s.kind, tuple(sorted((k, repr(v)) for k, v in s.params.items()))


def _build_suggestions(
    ctx: _Ctx, pairs: Iterable[tuple[Suggestion, Order]]
) -> list[dict[str, Any]]:
    out, seen = [], set()
    for s, order in pairs:
        key = _suggestion_key(s)
        if key in seen:
            continue
        seen.add(key)
        built = build_suggestion(s.kind, s.params, order, ctx.cat, ctx.knowledge)
        if built is not None:
            out.append(built)
    return out


def _drugs(cat: Catalogue, orders: Iterable[Order]) -> str:
    names: list[str] = []
    for o in orders:
        name = cat.drug(o.drug, o.display)
        if name not in names:
            names.append(name)
    return cat.get("meta", "list_separator").join(names)


# ----------------------------------------------------------------------------- the cards


def _safety_card(ctx: _Ctx, items: _OrderItems) -> dict[str, Any] | None:
    cat = ctx.cat
    findings = _by_severity(_dedupe_findings(items.safety))
    suggestions = _build_suggestions(ctx, ((s, items.order) for s, _ in items.modifying))
    if not findings and not suggestions:
        return None
    drug = cat.drug(items.order.drug, items.order.display)
    if findings:
        top = findings[0]
        concern = cat.rule_short(top.rule_id)
        summary = (
            cat.fill("card", "safety_summary", drug=drug, concern=concern)
            if len(findings) == 1
            else cat.fill(
                "card",
                "safety_summary_more",
                drug=drug,
                concern=concern,
                more=cat.fill("meta", "and_more", count=len(findings) - 1),
            )
        )
    else:
        summary = cat.fill("card", "safety_summary", drug=drug, concern=cat.get("meta", "none"))
    detail = [f"**{cat.fill('card', 'safety_title', drug=drug)}**", ""]
    if items.order.display:
        detail += [cat.fill("card", "order_line", display=items.order.display), ""]
    for f in findings:
        detail += _finding_lines(ctx, f)
    if suggestions:
        detail += ["", cat.get("card", "actions_below")]
    return _card(
        ctx,
        kind="safety",
        summary=summary,
        indicator=_max_severity(f.severity for f in findings),
        detail=detail,
        source_id=findings[0].rule_id if findings else items.modifying[0][1],
        findings=findings,
        nas=[],
        scores=[],
        suggestions=suggestions,
        exclusive=len(suggestions) > 1,
    )


def _activity_body(
    ctx: _Ctx, findings: list[Finding], nas: list[NotAssessed], scores: list[Score]
) -> tuple[list[str], Score | None, list[Score]]:
    """Detail lines, the headline score and the scores shown (for the extension)."""
    groups = _score_groups(scores)
    lines: list[str] = []
    shown: list[Score] = []
    for group in groups:
        lines += _score_lines(ctx, group)
        shown += group
    if not groups:
        lines.append(ctx.cat.get("card", "no_scores"))
    for f in findings:
        lines += _finding_lines(ctx, f)
    for n in nas:
        lines.append(_na_line(ctx, n))
    return lines, _headline(groups), shown


def _score_summary_values(cat: Catalogue, score: Score) -> dict[str, str]:
    category = _category(cat, score.category)
    if score.stale:
        category = f"{category}, {cat.get('card', 'stale_short')}"
    return {
        "score": _score_name(cat, score.id),
        "value": format_number(score.value) if score.value is not None else "?",
        "category": category,
        "date": score.when.isoformat() if score.when else "?",
    }


def _activity_card(ctx: _Ctx, orders: list[Order], groups: _Groups, scores: list[Score]):
    cat = ctx.cat
    findings = _by_severity(_dedupe_findings(groups.activity))
    nas = _dedupe_na(groups.activity_na)
    if not findings and not nas and not scores:
        return None
    drug = _drugs(cat, orders)
    lines, headline, shown = _activity_body(ctx, findings, nas, scores)
    indicator = _max_severity(f.severity for f in findings)
    if findings and indicator != "info":
        summary = cat.fill(
            "card", "safety_summary", drug=drug, concern=cat.rule_short(findings[0].rule_id)
        )
    elif headline is not None:
        summary = cat.fill(
            "card", "activity_summary", drug=drug, **_score_summary_values(cat, headline)
        )
    else:
        summary = cat.fill("card", "activity_summary_none", drug=drug)
    detail = [f"**{cat.fill('card', 'activity_title', drug=drug)}**", "", *lines]
    source_id = findings[0].rule_id if findings else (nas[0].rule_id if nas else shown[0].id)
    return _card(
        ctx,
        kind="activity",
        summary=summary,
        indicator=indicator,
        detail=detail,
        source_id=source_id,
        findings=findings,
        nas=nas,
        scores=shown,
        suggestions=[],
    )


def _screening_card(
    ctx: _Ctx, orders: list[Order], groups: _Groups, unavailable: list[Unavailable]
):
    cat = ctx.cat
    findings = _by_severity(_dedupe_findings(groups.screening))
    nas = _dedupe_na(groups.screening_na)
    suggestions = _build_suggestions(ctx, groups.creates)
    if not findings and not nas and not unavailable and not suggestions:
        return None
    drug = _drugs(cat, orders)
    firsts = [cat.rule_short(f.rule_id) for f in findings] + [
        cat.rule_short(n.rule_id) for n in nas
    ]
    firsts += [cat.data["data"].get(u.key, u.key) for u in unavailable]
    count = len(firsts)
    first = firsts[0] if firsts else cat.get("meta", "none")
    if count == 1:
        summary = cat.fill("card", "screening_summary_one", drug=drug, first=first)
    else:
        summary = cat.fill("card", "screening_summary", drug=drug, count=count, first=first)
    detail = [f"**{cat.fill('card', 'screening_title', drug=drug)}**", ""]
    for f in findings:
        detail += _finding_lines(ctx, f)
    detail += [_na_line(ctx, n) for n in nas]
    detail += [_unavailable_line(cat, u) for u in unavailable]
    if suggestions:
        detail += ["", cat.get("card", "actions_below")]
    # Missing safety data is itself a required action (SPEC.md §3 severity: "warning = ... a
    # required action is missing"); missing context data (category "activity") stays info.
    indicator = _max_severity(
        [f.severity for f in findings]
        + ["warning" for n in nas if n.category != "activity"]
        + ["warning" for _ in unavailable]
    )
    source_id = findings[0].rule_id if findings else (nas[0].rule_id if nas else "")
    return _card(
        ctx,
        kind="screening",
        summary=summary,
        indicator=indicator,
        detail=detail,
        source_id=source_id,
        findings=findings,
        nas=nas,
        scores=[],
        suggestions=suggestions,
    )


def _patient_card(ctx: _Ctx, assessment: Assessment) -> dict[str, Any] | None:
    cat = ctx.cat
    findings = _by_severity(_dedupe_findings(assessment.findings))
    nas = _dedupe_na(assessment.not_assessed)
    if not findings and not nas and not assessment.scores:
        return None
    lines, headline, shown = _activity_body(ctx, findings, nas, assessment.scores)
    lines += [_unavailable_line(cat, u) for u in assessment.unavailable]
    indicator = _max_severity(f.severity for f in findings)
    if findings and indicator != "info":
        summary = cat.fill(
            "card", "patient_summary_finding", concern=cat.rule_short(findings[0].rule_id)
        )
    elif headline is not None:
        summary = cat.fill("card", "patient_summary", **_score_summary_values(cat, headline))
    else:
        summary = cat.get("card", "patient_summary_none")
    detail = [f"**{cat.get('card', 'patient_title')}**", "", *lines]
    source_id = findings[0].rule_id if findings else (nas[0].rule_id if nas else shown[0].id)
    return _card(
        ctx,
        kind="patient",
        summary=summary,
        indicator=indicator,
        detail=detail,
        source_id=source_id,
        findings=findings,
        nas=nas,
        scores=shown,
        suggestions=[],
    )


def render_cards(
    assessment: Assessment,
    language: str,
    knowledge: Knowledge,
    docs_base_url: str,
    hook: str,
) -> list[dict[str, Any]]:
    """CDS Hooks cards for one assessment, in `language` (en | zh-TW | zh-CN | ja).

    order-sign: per order a safety card; one disease-activity card; one missing-screening card.
    order-select: the same without the disease-activity card. patient-view: one summary card.
    No recognised target order on an order hook: no cards.
    """
    if language not in LANGUAGES:  # a raw tag such as "zh-Hant-HK" or "ja-JP"
        language = match_language(language) or "en"
    ctx = _Ctx(catalogue(language), knowledge, docs_base_url.rstrip("/"))
    if hook == "patient-view":
        card = _patient_card(ctx, assessment)
        return [card] if card else []
    if not assessment.orders:
        return []
    groups = _group(assessment)
    safety = [c for c in (_safety_card(ctx, items) for items in groups.per_order) if c]
    safety.sort(key=lambda c: -SEVERITY_RANK[c["indicator"]])
    cards = safety
    if hook != "order-select":
        activity = _activity_card(ctx, assessment.orders, groups, assessment.scores)
        if activity:
            cards.append(activity)
    screening = _screening_card(ctx, assessment.orders, groups, assessment.unavailable)
    if screening:
        cards.append(screening)
    return cards

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from cards.catalogue import Catalogue, catalogue, format_number
from cards.ids import UuidDraw
from cards.language import LANGUAGES, match_language
from cards.suggestions import build_suggestion, fhir_codes, forget_references
from cds_service.assess.scores import SCORE_IDS, score_specs
from cds_service.knowledge import Knowledge
from cds_service.knowledge.citations import MAX_CARD_SOURCES, card_sources, markdown_link
from cds_service.model import (
    FHIR_SERVER_NOT_ALLOWED,
    PREFETCH_FAILED,
    SEVERITY_RANK,
    VERSION_REASON,
    Assessment,
    Evidence,
    Finding,
    NotAssessed,
    Order,
    Score,
    Suggestion,
    Unavailable,
    is_unitless,
    split_sent,
)
from cds_service.normalise.construct import fast_positional
from cds_service.normalise.dosage import PROBLEMS as DOSE_PROBLEMS

SUMMARY_MAX = 139  # CDS Hooks: "fewer than 140 characters"
MODIFYING = frozenset({"dose-update", "stop-order"})  # act on the draft order itself
SCORE_ORDER = SCORE_IDS  # the order scores are shown in: that of SPEC.md §1
TREND_LENGTH = 3
# Scores whose meaning is the category (the value is a change or the score it judged): shown
# category first, never as the headline number.
CATEGORY_SCORES = frozenset({"EULAR-RESPONSE", "PMR-FLARE"})
# Not-assessed cases (`missing.<case>` of the knowledge rules) that are the service's own
# limits, not patient data a clinician can complete (a dose or result it could not read, codes it
# could not classify; a dose labelled for one of several indications on file when the order
# names none): one info line at the end of a card, never a warning. Cases named
# "<data>_unavailable" (data not retrieved) are limits too.
LIMIT_CASES = frozenset(
    {"dose", "bound", "implausible", "conditions_unclassified", "indication_unstated"}
)
# Cases never shown on a card: a label figure not confirmed for the region is off, and an off
# rule appears only on its rule page (docs/rules/).
HIDDEN_CASES = frozenset({"region"})
# Record data that could not be retrieved -> the not-assessed case that already says so.
UNAVAILABLE_CASE = {
    "observations": "observations_unavailable",
    "conditions": "conditions_unavailable",
    "medication_requests": "medications_unavailable",
    "medication_statements": "medications_unavailable",
    "medications": "medications_unavailable",
    "immunizations": "immunizations_unavailable",
}
# Derived score inputs that repeat a chart value in a second unit (CRP mg/L -> mg/dL, 0-100 mm
# -> 0-10): the card shows the value as the chart sent it, once.
DERIVED_INPUTS = frozenset({"crp_mg_dl", "ptga_0_10", "prga_0_10", "patient_pain_0_10"})
MAX_FINDING_LINES = 6  # findings shown in full on a card; the rest are named on one line
MAX_EVIDENCE_ITEMS = 4  # evidence items on a finding's one evidence line
APP_CARDS = frozenset({"activity", "patient"})  # cards that link the trend app


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
        suggestions = f.suggestions  # most findings have none
        acts = bool(suggestions) and any(s.kind in MODIFYING for s in suggestions)
        return -SEVERITY_RANK.get(f.severity, 0), 0 if acts else 1

    return sorted(findings, key=key)


# Finding(...) without the frozen-dataclass __init__ (normalise/construct.py): the scores'
# sources are passed to the sources line as findings that carry only a source
_source_only = fast_positional(
    Finding,
    *("rule_id", "severity", "category", "order_ref", "drug"),
    *("evidence", "source", "params", "suggestions"),
)
_PLAIN = frozenset({str, int, bool, type(None)})  # JSON as they are
_INF = math.inf


def _json_safe(value: Any) -> Any:
    """Plain JSON: dates as ISO strings, no NaN or infinity (JSON has neither)."""
    kind = type(value)
    if kind in _PLAIN:  # the usual, first
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:  # members that are plain already (finite floats too) are taken as they are
        return {
            k if type(k) is str else str(k): v
            if (t := type(v)) in _PLAIN or (t is float and -_INF < v < _INF)
            else _json_safe(v)
            for k, v in value.items()
        }
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


_TEXT = frozenset({str, type(None)})


class _Iso(dict[date, str]):
    """Dates as ISO text, each formatted once per response (`iso[d]`): a response shows the
    same few dates many times (scores, their trend, evidence), and date.isoformat is slow."""

    def __missing__(self, when: date) -> str:
        text = self[when] = when.isoformat()
        return text


def _evidence_json(e: Evidence, iso: _Iso) -> dict[str, Any]:
    """`_json_safe(e.as_json())` in one pass for the usual item (text fields, a plain or
    finite value, no derived inputs); anything else takes that path."""
    value = e.value
    kind = type(value)
    unit = e.unit
    sent = e.sent
    if (
        e.derived_from
        or not (kind in _PLAIN or (kind is float and -_INF < value < _INF))  # type: ignore[operator]
        or type(e.ref) is not str
        or type(e.label) is not str
        or type(unit) not in _TEXT
        or type(sent) not in _TEXT
    ):
        return _json_safe(e.as_json())  # type: ignore[no-any-return]
    when = e.when
    if value is not None and unit and when and not sent and not e.by_name:  # the usual item
        return {"ref": e.ref, "label": e.label, "value": value, "unit": unit, "date": iso[when]}
    out: dict[str, Any] = {"ref": e.ref, "label": e.label}
    if value is not None:
        out["value"] = value
    if unit:
        out["unit"] = unit
    if when:
        out["date"] = iso[when]
    if sent:
        out["sent"] = sent
    if e.by_name:
        out["recognisedBy"] = "name"
    return out


_KEYS = frozenset({str})
_NUMBERS = frozenset({int, float, bool})


def _plain_dict(value: dict[str, Any]) -> dict[str, Any]:
    """`_json_safe` of a dict; a copy when it is plain JSON already (text keys; values plain,
    or numbers whose sum is finite, hence each of them), checked without a Python loop."""
    if type(value) is dict:
        values = value.values()
        kinds = set(map(type, values))
        if (
            kinds <= _PLAIN or (kinds <= _NUMBERS and -_INF < sum(values) < _INF)
        ) and _KEYS.issuperset(map(type, value)):
            return value.copy()
    return _json_safe(value)  # type: ignore[no-any-return]


def _score_json(s: Score, iso: _Iso) -> dict[str, Any]:
    value = s.value
    kind = type(value)
    when = s.when
    return {
        "id": s.id,
        "value": value
        if kind in _PLAIN or (kind is float and -_INF < value < _INF)  # type: ignore[operator]
        else _json_safe(value),
        "category": s.category,
        "date": iso[when] if when else None,
        "inputs": _plain_dict(s.inputs),
    }


def _na_json(n: NotAssessed) -> dict[str, Any]:
    return {"id": n.rule_id, "missing": n.missing}


def _dedupe_findings(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for f in findings:
        key = (f.rule_id, f.severity, tuple([e.ref for e in f.evidence]))
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
    app: str | None = None  # the trend app's URL (SMART launch), None: no app link
    # rule texts of this response's findings by id(finding), with the finding (held, so that
    # its id is not reused): a card's lead finding gives the card's action and its own bullet
    texts: dict[int, tuple[Finding, str]] = field(default_factory=dict)
    iso: _Iso = field(default_factory=_Iso)  # dates as text, each made once per response
    dated: dict[date, str] = field(default_factory=dict)  # " (2026-04-27)": `meta.paren` of iso
    uuid: UuidDraw = field(default_factory=UuidDraw)  # the response's card and suggestion ids

    def rule_text(self, f: Finding) -> str:
        """`cat.rule_text` of a finding, made once per response."""
        found = self.texts.get(id(f))
        if found is None or found[0] is not f:
            found = self.texts[id(f)] = (f, self.cat.rule_text(f.rule_id, f.params))
        return found[1]

    def rule_url(self, rule_id: str) -> str:
        return f"{self.docs}/rules/{rule_id}"

    def concept_unit(self, concept: str) -> str | None:
        entry = self.knowledge.concepts.get("observation", {}).get(concept)
        return entry.get("unit") if isinstance(entry, dict) else None


def _evidence_text(ctx: _Ctx, e: Evidence) -> str:
    cat = ctx.cat
    meta = cat.data["meta"]
    text = cat.label(e.label)
    sent = e.sent
    if sent:  # the chart's own unit
        text = f"{text}{meta['colon']}{_sent(cat, sent)}"
    elif (value := e.value) is not None:
        kind = type(value)  # `cat.value`, the usual kinds first
        shown = format_number(value) if kind is float or kind is int else cat.value(value)
        unit = e.unit
        shown = (f"{shown} {cat.unit(unit)}" if unit else shown).strip()
        text = f"{text}{meta['colon']}{shown}"
    when = e.when
    if when:
        dated = ctx.dated.get(when)
        if dated is None:
            dated = ctx.dated[when] = meta["paren"].format(text=ctx.iso[when])
        text += dated
    if e.derived_from:
        text += meta["paren"].format(text=_derived_text(cat, e))
    if e.by_name:
        text += meta["by_name"]
    return text


def _derived_text(cat: Catalogue, e: Evidence) -> str:
    """ "derived: WBC 2 10*3/µL × 40 %" in the card language."""
    parts = []
    for label, value, unit in e.derived_from:
        amount = f"{cat.value(value)} {cat.unit(unit)}".strip()
        parts.append(amount if label == "percent" else f"{cat.label(label)} {amount}")
    return cat.fill("card", "derived", inputs=" × ".join(parts))


def _sent(cat: Catalogue, sent: str) -> str:
    """ "3.1 mg/dL" as sent by the chart, its unit in the card language; a number sent without
    unit says so ("50 (no unit)")."""
    value, unit = split_sent(sent)
    if is_unitless(unit):
        return cat.fill("card", "unitless", value=value)
    return f"{value} {cat.unit(unit)}".strip()


def _evidence_line(ctx: _Ctx, evidence: list[Evidence], skip: frozenset[str]) -> str | None:
    """At most one line of evidence: value, unit, date per item; `skip`: labels shown already."""
    # each text once, in order (a dict: a finding may carry dozens of items on a long chart)
    items = list(dict.fromkeys([_evidence_text(ctx, e) for e in evidence if e.label not in skip]))
    if not items:
        return None
    cat = ctx.cat
    shown = items[:MAX_EVIDENCE_ITEMS]
    if len(items) > len(shown):
        shown.append(cat.fill("meta", "and_more", count=len(items) - len(shown)))
    return f"  - {'; '.join(shown)}"


def _finding_lines(
    ctx: _Ctx, f: Finding, *, lead: bool = False, skip: frozenset[str] = frozenset()
) -> list[str]:
    """One bullet per finding (severity, concern, facts and what to do) and one evidence line.

    The lead finding's "what to do" opens the card already: its bullet gives the facts only.
    """
    cat = ctx.cat
    data = cat.data
    severity = data["severity"].get(f.severity, f.severity)
    colon = data["meta"]["colon"]
    text = ctx.rule_text(f)
    if lead:
        facts = _rule_facts(cat, f, text)
        text = facts if facts is not None else ""
    entry = data["rule"].get(f.rule_id)
    head = f"- **{severity}** · {entry['short'] if entry else f.rule_id}"  # cat.rule_short
    lines = [f"{head}{colon}{text}" if text else head]
    evidence = _evidence_line(ctx, f.evidence, skip)
    if evidence:
        lines.append(evidence)
    return lines


def _rule_facts(cat: Catalogue, f: Finding, full: str | None = None) -> str | None:
    """The finding's `facts` sentence alone (None when the phrase has none or lacks a value).
    `full`: the finding's rule text when the caller has it already."""
    entry = cat.data["rule"].get(f.rule_id)
    if not entry or not entry.get("facts"):
        return None
    if full is None:
        full = cat.rule_text(f.rule_id, f.params)
    text = entry["text"]
    facts = full.split(text, 1)[0].strip() if text in full else ""
    return facts or None


def _action(ctx: _Ctx, f: Finding) -> str:
    """What to do about a finding: its rule's `text` (plus the topical note when there is one)."""
    full = ctx.rule_text(f)
    facts = _rule_facts(ctx.cat, f, full)
    return full[len(facts) :].strip() if facts and full.startswith(facts) else full


def _findings_block(
    ctx: _Ctx, findings: list[Finding], skip: frozenset[str] = frozenset(), lead: bool = True
) -> list[str]:
    """Finding bullets, at most MAX_FINDING_LINES in full; the others named on one line."""
    lines: list[str] = []
    for i, f in enumerate(findings[:MAX_FINDING_LINES]):
        lines += _finding_lines(ctx, f, lead=lead and i == 0, skip=skip)
    rest = findings[MAX_FINDING_LINES:]
    if rest:
        cat = ctx.cat
        names = cat.get("meta", "list_separator").join(cat.rule_short(f.rule_id) for f in rest)
        lines.append("- " + cat.fill("card", "more_findings", items=names))
    return lines


def _sources_line(ctx: _Ctx, findings: Iterable[Finding]) -> list[str]:
    """The sources of the card's findings once, on one line, each a link on its reference text
    (cds_service/knowledge/citations.py card_sources): the first four (each finding's main
    source first), then how many more the card's rule page lists."""
    cited = card_sources(ctx.knowledge.files, findings, ctx.cat.get("meta", "language"))
    if not cited:
        return []
    cat = ctx.cat
    shown = "; ".join(markdown_link(text, link) for text, link in cited[:MAX_CARD_SOURCES])
    if len(cited) > MAX_CARD_SOURCES:
        shown += "; " + cat.fill("meta", "and_more", count=len(cited) - MAX_CARD_SOURCES)
    return [f"*{cat.get('card', 'source')}{cat.get('meta', 'colon')}{shown}*"]


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


# _missing_case answers by (rule table, rule id, text): an entry is read several times per
# response (its kind, its sentence, the limits line) and its text recurs from call to call
_CASES: dict[tuple[int, str, str], tuple[Any, tuple[str, dict[str, str]] | None]] = {}
CASES_KEPT = 4096  # then the memo starts again


def _missing_case(knowledge: Knowledge, n: NotAssessed) -> tuple[str, dict[str, str]] | None:
    """Which `missing.<case>` of the rule's knowledge table produced this entry, and its fields."""
    found = _missing_found(knowledge, n)
    return None if found is None else (found[0], dict(found[1]))


def _missing_case_name(knowledge: Knowledge, n: NotAssessed) -> str | None:
    """`_missing_case`'s case alone (no copy of its fields)."""
    found = _missing_found(knowledge, n)
    return None if found is None else found[0]


def _missing_found(knowledge: Knowledge, n: NotAssessed) -> tuple[str, dict[str, str]] | None:
    rules = knowledge.rules
    key = (id(rules), n.rule_id, n.missing)
    hit = _CASES.get(key)
    if hit is None or hit[0] is not rules:
        if len(_CASES) >= CASES_KEPT:
            _CASES.clear()
        hit = _CASES[key] = (rules, _find_case(rules, n))
    return hit[1]  # shared: callers copy the fields before handing them on


def _find_case(rules: dict[str, Any], n: NotAssessed) -> tuple[str, dict[str, str]] | None:
    cases = rules.get(n.rule_id, {}).get("missing", {})
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
        what = _case_phrase(cat, *matched)
        return cat.fill("card", "not_assessed_because", what=what)
    if n.concepts:
        what = cat.get("meta", "or").join(cat.label(c) for c in n.concepts)
        if n.since:
            return cat.fill("card", "not_assessed", what=what, since=n.since.isoformat())
        return cat.fill("card", "not_assessed_ever", what=what)
    if cat.language == "en" and n.missing:
        return cat.fill("card", "not_assessed_because", what=n.missing)
    return cat.get("card", "not_assessed_generic")


def _case_phrase(cat: Catalogue, case: str, fields: dict[str, str]) -> str:
    """The phrase of a `missing.<case>`, its {reason} in the card language."""
    if case == "dose" and "reason" in fields:
        fields = {**fields, "reason": _dose_reason(cat, fields["reason"])}
    elif case.endswith("_unavailable") and "reason" in fields:
        fields = {**fields, "reason": _reason_text(cat, fields["reason"])}
    return cat.data["not_assessed_case"][case].format_map(_Blank(fields))


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
    colon = ctx.cat.get("meta", "colon")
    return f"- **{ctx.cat.rule_short(n.rule_id)}**{colon}{_na_sentence(ctx, n)}"


def na_kind(knowledge: Knowledge, n: NotAssessed) -> str:
    """ "data" (patient data a clinician can complete), "limit" (the service could not check)
    or "hidden" (a rule that is off here: only on its rule page)."""
    case = _missing_case_name(knowledge, n)
    if case in HIDDEN_CASES:
        return "hidden"
    if case is not None and (case in LIMIT_CASES or case.endswith("_unavailable")):
        return "limit"
    return "data"


def _limits_line(ctx: _Ctx, nas: list[NotAssessed], unavailable: list[Unavailable]) -> str | None:
    """ONE info line: what the service itself could not check, grouped by reason."""
    cat = ctx.cat
    phrases = cat.data["not_assessed_case"]
    groups: dict[str, list[str]] = {}
    said: dict[str, str] = {}  # not-assessed case -> the phrase of the data not retrieved
    for u in unavailable:
        what = cat.data["data"].get(u.key, u.key)
        phrase = cat.fill("card", "unavailable_item", what=what, reason=_unavailable_reason(cat, u))
        groups.setdefault(phrase, [])
        said.setdefault(UNAVAILABLE_CASE.get(u.key, u.key), phrase)
    for n in nas:
        matched = _missing_case(ctx.knowledge, n)
        if matched and matched[0] in said:
            reason = said[matched[0]]  # the retrieval failure is said once, with its rules
        elif matched and matched[0] in phrases:
            reason = _case_phrase(cat, *matched)
        else:
            reason = _na_sentence(ctx, n)
        shorts = groups.setdefault(reason, [])
        if cat.rule_short(n.rule_id) not in shorts:
            shorts.append(cat.rule_short(n.rule_id))
    if not groups:
        return None
    sep = cat.get("meta", "list_separator")
    items = [
        reason + (cat.fill("meta", "paren", text=sep.join(shorts)) if shorts else "")
        for reason, shorts in groups.items()
    ]
    return "*" + cat.fill("card", "not_checked", items="; ".join(items)) + "*"


# Unavailable reasons that are the service's settings, said in the card language
# (templates [fetch_reason]); other reasons are technical and shown as they are.
_FETCH_REASONS = {
    FHIR_SERVER_NOT_ALLOWED: "fhir_server_not_allowed",
    PREFETCH_FAILED: "prefetch_failed",
}


_KIND_UNAVAILABLE = re.compile(r"[a-z]+ unavailable \((?P<inner>.*)\)")


def _reason_text(cat: Catalogue, reason: str) -> str:
    """A gather reason ("prefetch failed; FHIR server not allowed", also as the assess
    stage wraps it: "observations unavailable (...)") in the card language."""
    table = cat.data["fetch_reason"]
    wrapped = _KIND_UNAVAILABLE.fullmatch(reason)
    if wrapped:  # the template of the case says already which data could not be retrieved
        reason = wrapped["inner"]
    parts = [part.strip() for part in reason.split(";")]
    return "; ".join(table[_FETCH_REASONS[p]] if p in _FETCH_REASONS else p for p in parts)


def _unavailable_reason(cat: Catalogue, u: Unavailable) -> str:
    """The reason in the card language: which FHIR versions the service reads, or one of the
    service's settings ([fetch_reason]); other reasons are technical and shown as they are."""
    found = _template_pattern(VERSION_REASON).fullmatch(u.reason)
    if found:
        return cat.fill("card", "fhir_version_refused", **found.groupdict())
    return _reason_text(cat, u.reason)


def _score_name(cat: Catalogue, score_id: str) -> str:
    return cat.data["score"].get(score_id, score_id)


def _category(cat: Catalogue, category: str | None) -> str:
    return cat.data["category"].get(category or "unknown", category or "")


_SCORE_RANK = {sid: i for i, sid in enumerate(SCORE_ORDER)}


def _score_groups(scores: list[Score]) -> list[list[Score]]:
    """Scores per id (newest first, at most TREND_LENGTH), ids in a fixed display order."""
    groups: dict[str, list[Score]] = {}
    for s in scores:
        groups.setdefault(s.id, [])
        if len(groups[s.id]) < TREND_LENGTH:
            groups[s.id].append(s)
    for values in groups.values():
        values.sort(key=lambda s: s.when or date.min, reverse=True)
    return sorted(groups.values(), key=lambda g: _SCORE_RANK.get(g[0].id, len(_SCORE_RANK)))


_OUT_OF_RANGE = re.compile(r"(?P<component>[a-z0-9_]+) must be (?P<limit>[<>=]+ ?[0-9.eE+-]+)")


def _problem_text(ctx: _Ctx, score: Score) -> str:
    """Why a score was not computed; an out-of-range input is said in the card language, with
    the value and unit the chart sent when that unit is not the one the limits are in."""
    cat, problem = ctx.cat, score.problem
    if not problem:
        return cat.get("meta", "none")
    found = _OUT_OF_RANGE.fullmatch(problem)
    if found:
        component = _input_label(cat, found["component"])
        sent = _sent_range(ctx, score, found["component"])
        if sent is not None:
            value, low, high = sent
            return cat.fill(
                "card", "out_of_range_sent", component=component, value=value, low=low, high=high
            )
        limit = found["limit"].replace("<=", "≤").replace(">=", "≥")
        return cat.fill("card", "out_of_range", component=component, limit=limit)
    return problem


def _sent_range(ctx: _Ctx, score: Score, component: str) -> tuple[str, str, str] | None:
    """The rejected input as the chart sent it and its limits in that unit ("50 (no unit)",
    "0", "10" for a patient global of 50 on the 0-10 code, read as 500 mm against 0-100 mm);
    None when the chart sent the limits' own unit."""
    e = next((e for e in score.evidence if e.label == component and e.sent), None)
    limit = score_specs(ctx.knowledge).limits.get(component)
    if e is None or limit is None or isinstance(e.value, bool):
        return None
    try:
        sent = float(split_sent(e.sent or "")[0].lstrip("<>=≤≥").replace(",", "."))
    except ValueError:
        return None
    if not isinstance(e.value, int | float) or not sent or not e.value:
        return None
    per_sent = e.value / sent  # limits' unit per unit sent
    low, high = format_number(limit.low / per_sent), format_number(limit.high / per_sent)
    return _sent(ctx.cat, e.sent or ""), low, high


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
    iso = ctx.iso
    when = iso[latest.when] if latest.when else "?"
    if latest.value is None:
        problem = _problem_text(ctx, latest)
        colon = cat.get("meta", "colon")
        return [f"- **{name}**{colon}{cat.fill('card', 'not_computed', problem=problem)} ({when})"]
    meta, card = cat.data["meta"], cat.data["card"]
    category = _category(cat, latest.category)
    value = format_number(latest.value)
    if latest.id in CATEGORY_SCORES:
        head = f"- **{name}**{meta['colon']}{category} ({when})"
    else:
        head = f"- **{name} {value}**{meta['list_separator']}{category} ({when})"
    if latest.stale:
        head += f" · ⚠ {card['stale']}"
    if len(group) > 1:
        # the latest value is in the head already: the earlier ones with their dates
        earlier = [
            f"{format_number(s.value) if s.value is not None else '–'}"
            f" ({iso[s.when] if s.when else '?'})"
            for s in group[1:]
        ]
        trend = " ← ".join([value, *earlier])
        head += f" · {card['trend']}{meta['colon']}{trend}"
    lines = [head]
    if latest.id in CATEGORY_SCORES and latest.inputs:
        # what the category judged (baseline and current, previous and delta): one line
        colon = cat.get("meta", "colon")
        items = "; ".join(
            f"{_input_label(cat, key)} {cat.value(value)}"
            for key, value in latest.inputs.items()
            if not isinstance(value, dict)
        )
        lines.append(f"  - {cat.get('card', 'inputs')}{colon}{items}")
    if latest.mismatch and latest.recorded_total is not None:
        recorded = format_number(latest.recorded_total)
        lines.append("  - ⚠ " + cat.fill("card", "mismatch", recorded=recorded))
    return lines


@cache
def _override_table(language: str, kind: str) -> tuple[dict[str, str], ...]:
    """The override reasons of a kind of card in a language (made once: a dozen in all)."""
    cat, codes = catalogue(language), fhir_codes()["override_reason"]
    return tuple(
        {"system": codes["system"], "code": code, "display": cat.get("override", code)}
        for code in codes["by_card"][kind]
    )


def _override_reasons(cat: Catalogue, kind: str) -> list[dict[str, str]]:
    """Copies: a card shares no member with another answer."""
    return [reason.copy() for reason in _override_table(cat.language, kind)]


def card_url(ctx: _Ctx, ids: Iterable[str]) -> str:
    """The card's one link: the rule page of its lead rule, listing the pages of the others."""
    unique = dict.fromkeys(ids)  # each once, in order; without empty ids
    unique.pop("", None)
    unique.pop(None, None)  # type: ignore[call-overload]
    if not unique:
        return ctx.rule_url("")
    first, *rest = unique
    url = ctx.rule_url(first)
    return f"{url}?also={','.join(rest)}" if rest else url


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
    iso = ctx.iso
    url = card_url(
        ctx,
        [
            source_id,
            *[f.rule_id for f in findings],
            *[n.rule_id for n in nas],
            *[s.id for s in scores],
        ],
    )
    card: dict[str, Any] = {
        "uuid": ctx.uuid(),
        "summary": fit_summary(summary),
        "indicator": indicator,
        "detail": "\n".join(detail),
        "source": {
            # no rule (only data that could not be retrieved): the index of the rule pages
            "label": (
                cat.fill("card", "source_label", rule=cat.rule_short(source_id))
                if source_id
                else "rheum-cds"
            ),
            "url": url,
        },
    }
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one" if exclusive else "any"
    if indicator in ("warning", "critical"):
        card["overrideReasons"] = _override_reasons(cat, kind)
    card["links"] = [{"label": cat.get("card", "rule_page"), "url": url, "type": "absolute"}]
    if ctx.app and kind in APP_CARDS:
        # the trend app, launched by the EHR in the patient's context (SMART App Launch)
        card["links"].append(
            {
                "label": cat.get("card", "trend_app"),
                "url": f"{ctx.app}?lang={cat.language}",
                "type": "smart",
            }
        )
    card["extension"] = {
        "org.rheum-cds": {
            "findings": [
                {
                    "id": f.rule_id,
                    "severity": f.severity,
                    "evidence": [_evidence_json(e, iso) for e in f.evidence],
                    "source": f.source,
                }
                for f in findings
            ],
            "scores": [_score_json(s, iso) for s in scores],
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
    limits: list[NotAssessed] = field(default_factory=list)  # what the service could not check
    creates: list[tuple[Suggestion, Order]] = field(default_factory=list)


def _order_index(orders: list[Order], ref: str | None, drug: str | None) -> int:
    for i, o in enumerate(orders):
        if ref is not None and o.ref == ref:
            return i
    for i, o in enumerate(orders):
        if drug is not None and o.drug == drug:
            return i
    return 0  # patient-level: shown with the first order


def _group(assessment: Assessment, knowledge: Knowledge) -> _Groups:
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
        kind = na_kind(knowledge, n)
        if kind != "data":
            if kind == "limit":
                groups.limits.append(n)
            continue  # neither counted toward a card's severity nor offering orders
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
    params = s.params
    if len(params) == 1:  # the usual (a test, a vaccine): nothing to sort
        ((k, v),) = params.items()
        return s.kind, ((k, repr(v)),)
    return s.kind, tuple(sorted([(k, repr(v)) for k, v in params.items()]))


def _build_suggestions(
    ctx: _Ctx, pairs: Iterable[tuple[Suggestion, Order]]
) -> list[dict[str, Any]]:
    out, seen = [], set()
    for s, order in pairs:
        key = _suggestion_key(s)
        if key in seen:
            continue
        seen.add(key)
        built = build_suggestion(s.kind, s.params, order, ctx.cat, ctx.knowledge, ctx.uuid)
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


def _title(cat: Catalogue, key: str, drug: str, display: str | None = None) -> str:
    title = f"**{cat.fill('card', key, drug=drug)}**"
    return f"{title} · {cat.fill('card', 'order_line', display=display)}" if display else title


def _opening(cat: Catalogue, action: str | None, suggestions: list[dict[str, Any]]) -> list[str]:
    """The action the card asks for, first (and that the orders are offered on the card)."""
    parts = [f"**{action}**"] if action else []
    if suggestions:
        parts.append(cat.get("card", "actions_below"))
    return ["", " ".join(parts)] if parts else []


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
    detail = [_title(cat, "safety_title", drug, items.order.display)]
    detail += _opening(cat, _action(ctx, findings[0]) if findings else None, suggestions)
    if findings:
        detail += ["", *_findings_block(ctx, findings)]
    sources = _sources_line(ctx, findings)
    if sources:
        detail += ["", *sources]
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


def _inputs_line(ctx: _Ctx, groups: list[list[Score]]) -> tuple[str | None, frozenset[str]]:
    """The chart values the latest scores used, each once, in the chart's unit; and their keys."""
    cat = ctx.cat
    items: dict[str, str] = {}
    for group in groups:
        latest = group[0]
        if latest.id in CATEGORY_SCORES:
            continue
        sent = {e.label: e.sent for e in latest.evidence if e.sent}
        for key, value in latest.inputs.items():
            if key in DERIVED_INPUTS or key in items or isinstance(value, dict):
                continue
            if key in sent:  # in the unit the chart sent
                items[key] = f"{_input_label(cat, key)} {_sent(cat, str(sent[key]))}"
                continue
            unit = cat.unit(ctx.concept_unit(key))
            items[key] = (
                f"{_input_label(cat, key)} {cat.value(value)}{(' ' + unit) if unit else ''}"
            )
    if not items:
        return None, frozenset()
    colon = cat.get("meta", "colon")
    return f"- {cat.get('card', 'inputs')}{colon}{'; '.join(items.values())}", frozenset(items)


def _restates_scores(cat: Catalogue, f: Finding, inputs: frozenset[str]) -> bool:
    entry = cat.data["rule"].get(f.rule_id, {})
    return (
        f.severity == "info"
        and not entry.get("facts")
        and bool(inputs)
        and all(e.label in inputs for e in f.evidence)
    )


def _score_sources(ctx: _Ctx, scores: list[Score]) -> list[str]:
    table = ctx.knowledge.files.get("scores", {})
    out: list[str] = []
    for score_id in dict.fromkeys([s.id for s in scores]):  # each id once (trend: 3 of each)
        entry = table.get(score_id)
        source = entry.get("source") if isinstance(entry, dict) else None
        if isinstance(source, str) and source not in out:
            out.append(source)
    return out


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
    inputs, keys = _inputs_line(ctx, groups)
    if inputs:
        lines.append(inputs)
    # an info finding that only restates the scores above (no facts, evidence all inputs)
    # stays in the extension, not as a line
    shown_findings = [f for f in findings if not _restates_scores(ctx.cat, f, keys)]
    lines += _findings_block(ctx, shown_findings, skip=keys, lead=False)
    for n in nas:
        lines.append(_na_line(ctx, n))
    # the scores' sources (in the order shown) before the findings', each score on its own
    scored = [
        _source_only("", "info", "activity", None, None, [], source, {}, [])
        for source in _score_sources(ctx, shown)
    ]
    sources = _sources_line(ctx, [*scored, *findings])
    if sources:
        lines += ["", *sources]
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


def _activity_card(ctx: _Ctx, drug: str, groups: _Groups, scores: list[Score]):
    cat = ctx.cat
    findings = _by_severity(_dedupe_findings(groups.activity))
    nas = _dedupe_na(groups.activity_na)
    if not findings and not nas and not scores:
        return None
    lines, headline, shown = _activity_body(ctx, findings, nas, scores)
    indicator = _max_severity(f.severity for f in findings)
    action = None
    if findings and indicator != "info":
        summary = cat.fill(
            "card", "safety_summary", drug=drug, concern=cat.rule_short(findings[0].rule_id)
        )
        action = _action(ctx, findings[0])
    elif headline is not None:
        summary = cat.fill(
            "card", "activity_summary", drug=drug, **_score_summary_values(cat, headline)
        )
    else:
        summary = cat.fill("card", "activity_summary_none", drug=drug)
    detail = [_title(cat, "activity_title", drug), *_opening(cat, action, []), "", *lines]
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


def _screening_card(ctx: _Ctx, drug: str, groups: _Groups):
    cat = ctx.cat
    findings = _by_severity(_dedupe_findings(groups.screening))
    nas = _dedupe_na(groups.screening_na)
    suggestions = _build_suggestions(ctx, groups.creates)
    if not findings and not nas and not suggestions:
        return None
    firsts = [cat.rule_short(f.rule_id) for f in findings] + [
        cat.rule_short(n.rule_id) for n in nas
    ]
    count = len(firsts)
    first = firsts[0] if firsts else cat.get("meta", "none")
    if count == 1:
        summary = cat.fill("card", "screening_summary_one", drug=drug, first=first)
    else:
        summary = cat.fill("card", "screening_summary", drug=drug, count=count, first=first)
    action = (
        _action(ctx, findings[0]) if findings else cat.fill("card", "screening_action", drug=drug)
    )
    detail = [_title(cat, "screening_title", drug), *_opening(cat, action, suggestions), ""]
    detail += _findings_block(ctx, findings)
    detail += [_na_line(ctx, n) for n in nas]
    sources = _sources_line(ctx, findings)
    if sources:
        detail += ["", *sources]
    # Missing safety data is itself a required action (SPEC.md §3 severity: "warning = ... a
    # required action is missing"); missing context data (category "activity") stays info.
    indicator = _max_severity(
        [f.severity for f in findings] + ["warning" for n in nas if n.category != "activity"]
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


def _add_limits(
    ctx: _Ctx,
    cards: list[dict[str, Any]],
    limits: list[NotAssessed],
    unavailable: list[Unavailable],
    drug: str,
) -> list[dict[str, Any]]:
    """What the service could not check: one info line at the end of the last card (an info
    card of its own only when there is no other card). Never raises a card's severity."""
    limits = _dedupe_na(limits)
    line = _limits_line(ctx, limits, unavailable)
    if line is None:
        return cards
    if cards:
        last = cards[-1]
        last["detail"] = f"{last['detail']}\n\n{line}"
        last["extension"]["org.rheum-cds"]["notAssessed"] += [_na_json(n) for n in limits]
        return cards
    cat = ctx.cat
    card = _card(
        ctx,
        kind="screening",
        summary=cat.fill("card", "limits_summary", drug=drug),
        indicator="info",
        detail=[f"**{cat.fill('card', 'limits_title', drug=drug)}**", "", line],
        source_id=limits[0].rule_id if limits else "",
        findings=[],
        nas=limits,
        scores=[],
        suggestions=[],
    )
    return [card]


def _patient_card(ctx: _Ctx, assessment: Assessment) -> dict[str, Any] | None:
    cat = ctx.cat
    findings = _by_severity(_dedupe_findings(assessment.findings))
    kinds = [(n, na_kind(ctx.knowledge, n)) for n in _dedupe_na(assessment.not_assessed)]
    nas = [n for n, kind in kinds if kind == "data"]
    limits = [n for n, kind in kinds if kind == "limit"]
    if not findings and not nas and not assessment.scores and not limits:
        if not assessment.unavailable:
            return None
    lines, headline, shown = _activity_body(ctx, findings, nas, assessment.scores)
    indicator = _max_severity(f.severity for f in findings)
    action = None
    if findings and indicator != "info":
        summary = cat.fill(
            "card", "patient_summary_finding", concern=cat.rule_short(findings[0].rule_id)
        )
        action = _action(ctx, findings[0])
    elif headline is not None:
        summary = cat.fill("card", "patient_summary", **_score_summary_values(cat, headline))
    else:
        summary = cat.get("card", "patient_summary_none")
    detail = [f"**{cat.get('card', 'patient_title')}**", *_opening(cat, action, []), "", *lines]
    limits_line = _limits_line(ctx, limits, assessment.unavailable)
    if limits_line:
        detail += ["", limits_line]
    first = findings[0].rule_id if findings else (nas[0].rule_id if nas else "")
    source_id = first or (shown[0].id if shown else (limits[0].rule_id if limits else ""))
    return _card(
        ctx,
        kind="patient",
        summary=summary,
        indicator=indicator,
        detail=detail,
        source_id=source_id,
        findings=findings,
        nas=nas + limits,
        scores=shown,
        suggestions=[],
    )


def render_cards(
    assessment: Assessment,
    language: str,
    knowledge: Knowledge,
    docs_base_url: str,
    hook: str,
    app_url: str | None = None,
) -> list[dict[str, Any]]:
    """CDS Hooks cards for one assessment, in `language` (en | zh-TW | zh-CN | ja).

    order-sign: per order a safety card; one disease-activity card; one missing-screening card.
    order-select: the same without the disease-activity card. patient-view: one summary card.
    What the service could not check is one info line at the end of the last card.
    No recognised target order on an order hook: no cards. With `app_url` (the trend app), the
    disease-activity and patient-view cards also link it as a SMART app.
    """
    forget_references()  # the patient of the previous call is not kept for this one
    if language not in LANGUAGES:  # a raw tag such as "zh-Hant-HK" or "ja-JP"
        language = match_language(language) or "en"
    ctx = _Ctx(catalogue(language), knowledge, docs_base_url.rstrip("/"), app_url)
    if hook == "patient-view":
        card = _patient_card(ctx, assessment)
        return [card] if card else []
    if not assessment.orders:
        return []
    groups = _group(assessment, knowledge)
    safety = [c for c in (_safety_card(ctx, items) for items in groups.per_order) if c]
    safety.sort(key=lambda c: -SEVERITY_RANK[c["indicator"]])
    cards = safety
    drug = _drugs(ctx.cat, assessment.orders)  # the target drugs, named once
    if hook != "order-select":
        activity = _activity_card(ctx, drug, groups, assessment.scores)
        if activity:
            cards.append(activity)
    screening = _screening_card(ctx, drug, groups)
    if screening:
        cards.append(screening)
    return _add_limits(ctx, cards, groups.limits, assessment.unavailable, drug)

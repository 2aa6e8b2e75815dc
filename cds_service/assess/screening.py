"""Pure screening checks shared by the JAK-inhibitor and infliximab rules: TB, HBV, HCV.

Sources: clinical/SPEC.md §3 (JAKI-TB-ACTIVE, JAKI-TB-SCREEN, JAKI-HBV, JAKI-HCV) and §5
(IFX-SCREEN "as JAKI-TB-SCREEN / JAKI-HBV"); seed 000 (screen for HBV, HCV, active and latent TB
before a JAK inhibitor); labels (test for latent TB before starting, treat it first; do not start
in active TB). Thresholds, windows and texts are the rule tables of knowledge/rules_jaki.toml.

Every check takes the Facts, the parameters of the rule table it follows (e.g.
`knowledge.rule("JAKI-TB-SCREEN")`), the rule id to report under and the order, and returns
Findings and NotAssessed entries. Another rule reuses a check by passing its own id, e.g.

    tb_screen(ctx.facts, ctx.params("JAKI-TB-SCREEN"), rule_id="IFX-SCREEN", order=ctx.order)

and may replace "source" in the parameters with its own citation. No I/O here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any

from cds_service.model import (
    Evidence,
    Facts,
    Finding,
    Medication,
    NotAssessed,
    Observed,
    Order,
    Problem,
    Suggestion,
    sent_as,
)
from cds_service.normalise.construct import fast_positional

Result = Finding | NotAssessed
_WHEN = attrgetter("when")

# Evidence(ref, label, value, unit, when, derived_from, by_name, sent) without the frozen
# dataclass __init__ (the same object; evidence items are built by the dozen per request)
make_evidence = fast_positional(
    Evidence, "ref", "label", "value", "unit", "when", "derived_from", "by_name", "sent"
)
# Finding and NotAssessed with every field, the same way (a few dozen per request)
_make_finding = fast_positional(
    Finding,
    *("rule_id", "severity", "category", "order_ref", "drug"),
    *("evidence", "source", "params", "suggestions"),
)
_make_not_assessed = fast_positional(
    NotAssessed,
    *("rule_id", "missing", "category", "order_ref", "drug"),
    *("since", "concepts", "suggestions"),
)

# Facts.unavailable keys are prefetch keys or data kinds; these fragments name the kind.
_KIND_FRAGMENTS: dict[str, tuple[str, ...]] = {
    "observations": ("observation", "lab", "vital", "social"),
    "conditions": ("condition", "problem"),
    "medications": ("medication",),
    "immunizations": ("immuniz", "immunis", "vaccin"),
    "patient": ("patient",),
}


# --------------------------------------------------------------------------- primitives


@lru_cache(maxsize=512)  # a request asks for the same few windows of one day many times
def since(today: date, days: int) -> date:
    """Start of a look-back window of `days` days ending today."""
    return today - timedelta(days=int(days))


def optional_since(today: date, days: int) -> date:
    """Like `since`, where 0 days means "any time" (date.min)."""
    return since(today, days) if days else date.min


def unavailable(facts: Facts, kinds: Iterable[str]) -> str | None:
    """PHI-free reason when data of one of `kinds` could not be gathered, else None."""
    for item in facts.unavailable:
        key = item.key.lower()
        for kind in kinds:
            if any(fragment in key for fragment in _KIND_FRAGMENTS.get(kind, (kind,))):
                return f"{kind} unavailable ({item.reason})"
    return None


def _since_start(values: list[Observed], start: date | None) -> list[Observed]:
    """The results of one concept (newest first, as Facts keeps them) on or after `start`: a
    prefix of the list, found without reading the older results."""
    if start is None or not values or values[-1].when >= start:
        return list(values)
    i = 0
    while values[i].when >= start:  # stops at the last one at the latest (it is older)
        i += 1
    return values[:i]


def observed(facts: Facts, concepts: Iterable[str], start: date | None = None) -> list[Observed]:
    """Results of any of `concepts` on or after `start` (all when None), newest first."""
    found = [
        hits
        for concept in concepts
        if (hits := _since_start(facts.observations.get(concept, []), start))
    ]
    if len(found) == 1:
        return found[0]  # one concept's results are in order already
    out = [o for hits in found for o in hits]
    out.sort(key=_WHEN, reverse=True)
    return out


def newest(
    facts: Facts,
    concepts: Iterable[str],
    start: date | None = None,
    where: Callable[[Observed], Any] | None = None,
) -> Observed | None:
    """The first of `observed(facts, concepts, start)` that meets `where` (any when None): the
    newest such result (on a tie, of the concept named first), found by reading each concept's
    results newest first only until one qualifies or is older than `start`."""
    best: Observed | None = None
    for concept in concepts:
        for o in facts.observations.get(concept, ()):
            if start is not None and o.when < start:
                break
            if where is None or where(o):
                if best is None or o.when > best.when:
                    best = o
                break
    return best


def any_observed(facts: Facts, concepts: Iterable[str], start: date | None = None) -> bool:
    """`bool(observed(facts, concepts, start))`, reading one result per concept at most."""
    for concept in concepts:
        values = facts.observations.get(concept)
        if values and (start is None or values[0].when >= start):
            return True
    return False


# Index of Facts.problems by concept (all, and active ones) and the count of active
# unclassified conditions, for the Facts object seen last (one request is assessed by many
# rules; rebuilt when another Facts object comes). Identity-checked, so a stale entry is never
# used; a race between threads only costs a rebuild.
_Positions = dict[str, list[tuple[int, Problem]]]
_problem_index: tuple[Facts | None, _Positions, _Positions, int] = (None, {}, {}, 0)


def _by_concept(facts: Facts) -> tuple[_Positions, _Positions, int]:
    global _problem_index
    cached = _problem_index
    if cached[0] is facts:
        return cached[1:]  # type: ignore[return-value]
    index: _Positions = {}
    active: _Positions = {}
    get = index.get
    get_active = active.get
    for entry in enumerate(facts.problems):
        p = entry[1]
        for concept in p.concepts:
            hits = get(concept)
            if hits is None:
                index[concept] = [entry]
            else:
                hits.append(entry)
            if p.active:
                hits = get_active(concept)
                if hits is None:
                    active[concept] = [entry]
                else:
                    hits.append(entry)
    active_unclassified = len([u for u in facts.unclassified_conditions if u.active])
    _problem_index = (facts, index, active, active_unclassified)
    return index, active, active_unclassified


def release(facts: Facts) -> None:
    """Drop the index of `facts` once its request is assessed: the Facts object is then freed
    with its request, not kept alive until the next request's first look-up frees it there."""
    global _problem_index
    if _problem_index[0] is facts:
        _problem_index = (None, {}, {}, 0)


def problems(facts: Facts, concepts: Iterable[str], *, active_only: bool = False) -> list[Problem]:
    """Problems carrying any of `concepts` (each once, in Facts order); active ones only if
    asked."""
    cached = _problem_index  # read once: another thread may replace it
    if cached[0] is not facts:
        cached = (facts, *_by_concept(facts))
    index = cached[2] if active_only else cached[1]
    found = None
    more = None
    for concept in concepts:
        hits = index.get(concept)
        if hits:
            if found is None:
                found = hits
            elif more is None:
                more = [found, hits]
            else:
                more.append(hits)
    if found is None:
        return []
    if more is None:  # one concept's problems: in order, each once already
        return [p for _, p in found]
    merged = {position: p for positions in more for position, p in positions}
    return [merged[position] for position in sorted(merged)]


def first_problems(
    facts: Facts, concepts: Iterable[str], *, active_only: bool = False
) -> list[tuple[str, Problem]]:
    """Each of `concepts` (in the order given) that a problem carries, with the first problem
    (in Facts order) carrying it; active ones only if asked. The same as looking each concept
    up in `problems(facts, concepts)`, without merging the concepts' problems into one list."""
    cached = _problem_index  # read once: another thread may replace it
    if cached[0] is not facts:
        cached = (facts, *_by_concept(facts))
    index = cached[2] if active_only else cached[1]
    out = []
    for concept in concepts:
        hits = index.get(concept)
        if hits:
            out.append((concept, hits[0][1]))
    return out


def unclassified(facts: Facts, *, active_only: bool = True) -> int:
    """How many Conditions normalise could not classify (active ones only if asked): a rule
    that would conclude from the absence of a condition says this count instead."""
    return _by_concept(facts)[2] if active_only else len(facts.unclassified_conditions)


_CURRENT = frozenset({"active", "on-hold", "draft", "intended"})


def medications(facts: Facts, classes: Iterable[str]) -> list[Medication]:
    """Active (or status-less) medications of the patient in any of `classes`."""
    wanted = frozenset(classes)
    return [
        m
        for m in facts.medications
        if (not wanted.isdisjoint(m.classes) or (m.drug is not None and m.drug in wanted))
        and (m.status or "active") in _CURRENT
    ]


def bounds(o: Observed) -> tuple[float, float] | None:
    """Interval the true value lies in: exact value, or a bound ("<0.5", ">60"); None when the
    result has no number in the concept's canonical unit."""
    if o.value is None or not o.comparable:
        return None
    comparator = o.comparator
    if comparator in {"<", "<="}:
        return (-math.inf, o.value)
    if comparator in {">", ">="}:
        return (o.value, math.inf)
    return (o.value, o.value)


def is_below(o: Observed, threshold: float) -> bool | None:
    """True / False when the result is surely below / not below `threshold`, None if unknown
    (no comparable number, or a bound on both sides of the threshold)."""
    interval = bounds(o)
    if interval is None:
        return None
    low, high = interval
    strict = o.comparator == "<"
    if high < threshold or (strict and high <= threshold):
        return True
    if low >= threshold:
        return False
    return None


def is_at_least(o: Observed, threshold: float) -> bool | None:
    below = is_below(o, threshold)
    return None if below is None else not below


def plausible(o: Observed, limits: Iterable[float]) -> bool:
    """The number lies within [low, high] of the concept's plausible range (bounds included)."""
    low, high = limits
    return o.value is not None and low <= o.value <= high


def detectable(o: Observed) -> bool:
    """A viral load (HBV DNA, HCV RNA) that is positive or a number above zero (a "<x" result is
    read as undetectable / below the limit)."""
    if is_positive(o):
        return True
    if is_negative(o) or o.value is None:
        return False
    return o.comparator not in {"<", "<="} and o.value > 0


def is_positive(o: Observed) -> bool:
    return o.interpretation == "positive"


def is_negative(o: Observed) -> bool:
    return o.interpretation == "negative"


def obs_evidence(o: Observed) -> Evidence:
    value: Any = o.value if o.value is not None else (o.interpretation or o.original)
    unit = o.unit if o.value is not None else None
    sent = sent_as(o.original, o.value, o.unit) if o.comparable and not o.derived_from else None
    return make_evidence(o.ref, o.concept, value, unit, o.when, o.derived_from, o.by_name, sent)


def problem_evidence(p: Problem, concept: str) -> Evidence:
    when = p.onset or p.recorded
    return make_evidence(p.ref, f"condition:{concept}", p.display, None, when, (), p.by_name, None)


def med_evidence(m: Medication, label: str) -> Evidence:
    value = m.display or m.drug
    return make_evidence(m.ref, f"medication:{label}", value, None, m.authored, (), False, None)


def finding(
    rule_id: str,
    severity: str,
    params: Mapping[str, Any],
    order: Order | None,
    *,
    evidence: list[Evidence] | None = None,
    phrase: Mapping[str, Any] | None = None,
    suggestions: list[Suggestion] | None = None,
    category: str | None = None,
) -> Finding:
    """Build a Finding; category and source come from the rule's parameters."""
    return _make_finding(
        rule_id,
        severity,
        category or str(params.get("category", "safety")),
        order.ref if order else None,
        order.drug if order else None,
        list(evidence or []),
        str(params.get("source", "")),
        dict(phrase or {}),
        list(suggestions or []),
    )


_make_suggestion = fast_positional(Suggestion, "kind", "params")


def order_tests(tests: Iterable[str]) -> list[Suggestion]:
    return [_make_suggestion("order-test", {"test": t}) for t in tests]


def not_assessed(
    rule_id: str,
    params: Mapping[str, Any],
    case: str,
    order: Order | None,
    *,
    start: date | None = None,
    reason: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> NotAssessed:
    """A NotAssessed entry for one `missing.<case>` of the rule's parameters.

    The case table holds `text` (a template with {since}, {reason} and any `extra` keys),
    `concepts` (what was missing) and `tests` (test ids to suggest ordering).
    """
    spec = params.get("missing", {}).get(case)
    if spec is None:
        raise KeyError(f"{rule_id}: no missing.{case} in knowledge")
    fields = {"since": start.isoformat() if start else "", "reason": reason or "", **(extra or {})}
    return _make_not_assessed(
        rule_id,
        str(spec["text"]).format(**fields),
        str(spec.get("category", params.get("category", "screening"))),
        order.ref if order else None,
        order.drug if order else None,
        start,
        tuple(spec.get("concepts", ())),
        order_tests(spec.get("tests", ())),
    )


def _since(start: date) -> dict[str, str]:
    return {} if start == date.min else {"since": start.isoformat()}


# --------------------------------------------------------------------------- tuberculosis


def tb_active(
    facts: Facts, params: Mapping[str, Any], *, rule_id: str, order: Order | None
) -> list[Result]:
    """Active tuberculosis on the problem list: do not start (labels)."""
    found = problems(facts, params["concepts"], active_only=True)
    if found:
        ev = [problem_evidence(p, "tb_active") for p in found]
        return [finding(rule_id, params["severity"], params, order, evidence=ev)]
    reason = unavailable(facts, ("conditions",))
    if reason:
        return [not_assessed(rule_id, params, "conditions_unavailable", order, reason=reason)]
    count = unclassified(facts)
    if count and "conditions_unclassified" in params.get("missing", {}):
        extra = {"count": count}
        return [not_assessed(rule_id, params, "conditions_unclassified", order, extra=extra)]
    return []


def _tst_positive(o: Observed, params: Mapping[str, Any]) -> bool | None:
    if o.interpretation in {"positive", "negative"}:
        return o.interpretation == "positive"
    if o.value is not None and o.unit == "mm":
        return o.value >= float(params["tst_positive_mm"])
    return None


def _tb_result(o: Observed, params: Mapping[str, Any]) -> str:
    """'positive' | 'negative' | 'indeterminate' for one IGRA or TST result."""
    positive = (
        _tst_positive(o, params)
        if o.concept == "tst"
        else (True if is_positive(o) else False if is_negative(o) else None)
    )
    return "indeterminate" if positive is None else "positive" if positive else "negative"


def _tb_treatment(facts: Facts, params: Mapping[str, Any]) -> list[Medication]:
    """Latent-TB regimen drugs on record (active, planned or completed courses)."""
    wanted = frozenset(params.get("treated_classes", ()))
    statuses = frozenset(params.get("treated_statuses", ()))
    return [
        m
        for m in facts.medications
        if m.classes & wanted and (m.status is None or m.status in statuses)
    ]


def tb_screen(
    facts: Facts, params: Mapping[str, Any], *, rule_id: str, order: Order | None
) -> list[Result]:
    """IGRA/TST within the window, and no positive result or latent TB left untreated.

    A positive result stays relevant at any age (IGRA and TST stay positive after infection):
    a positive result or an active latent-TB condition without a latent-TB-treated condition
    fires "treat latent TB first". No negative result in the window fires "order IGRA".
    """
    start = since(facts.today, params["window_days"])
    tests = params["tests"]
    results = observed(facts, tests)
    treated: list[Any] = list(problems(facts, params["treated_concepts"]))
    treated += _tb_treatment(facts, params)
    latent = problems(facts, params["latent_concepts"], active_only=True)
    positives = [o for o in results if _tb_result(o, params) == "positive"]
    if (positives or latent) and not treated:
        ev = [obs_evidence(o) for o in positives[:2]]
        ev += [problem_evidence(p, "tb_latent") for p in latent]
        return [
            finding(
                rule_id,
                params["severity_untreated"],
                params,
                order,
                evidence=ev,
                phrase={"status": "positive_untreated"},
                category="safety",
            )
        ]
    in_window = [o for o in results if o.when >= start]
    if any(_tb_result(o, params) == "negative" for o in in_window) or treated:
        return []
    reason = unavailable(facts, ("observations",))
    if reason:
        return [not_assessed(rule_id, params, "observations_unavailable", order, reason=reason)]
    latest = results[0] if results else None
    status = "indeterminate" if in_window else "stale" if latest is not None else "none"
    phrase: dict[str, Any] = {"status": status, "since": start.isoformat()}
    if latest is not None:
        phrase["last_date"] = latest.when.isoformat()
    return [
        finding(
            rule_id,
            params["severity_missing"],
            params,
            order,
            evidence=[obs_evidence(latest)] if latest is not None else [],
            phrase=phrase,
            suggestions=order_tests(params["suggest_tests"]),
            category="screening",
        )
    ]


# --------------------------------------------------------------------------- hepatitis B / C


def hbv_screen(
    facts: Facts, params: Mapping[str, Any], *, rule_id: str, order: Order | None
) -> list[Result]:
    """HBsAg+ or chronic hepatitis B (critical); anti-HBc+ without HBV DNA or prophylaxis,
    or no HBsAg/anti-HBc on file within the window (warning)."""
    start = optional_since(facts.today, params["window_days"])
    hbsag = observed(facts, ["hbsag"])
    chronic = problems(facts, params["chronic_concepts"], active_only=True)
    hbsag_pos = [o for o in hbsag if is_positive(o)]
    if (hbsag and is_positive(hbsag[0])) or chronic:
        ev = [obs_evidence(o) for o in hbsag_pos[:1]]
        ev += [problem_evidence(p, "hbv_chronic") for p in chronic]
        return [
            finding(
                rule_id,
                params["severity_hbsag_positive"],
                params,
                order,
                evidence=ev,
                phrase={"status": "hbsag_positive"},
                category="safety",
            )
        ]
    anti_hbc = observed(facts, ["anti_hbc"])
    if anti_hbc and is_positive(anti_hbc[0]):
        dna = observed(facts, ["hbv_dna"], since(facts.today, params["dna_window_days"]))
        prophylaxis = medications(facts, params["prophylaxis_classes"])
        positive_dna = [o for o in dna if detectable(o)]
        if positive_dna:
            ev = [obs_evidence(anti_hbc[0]), obs_evidence(positive_dna[0])]
            return [
                finding(
                    rule_id,
                    params["severity_hbsag_positive"],
                    params,
                    order,
                    evidence=ev,
                    phrase={"status": "hbv_dna_detectable"},
                    category="safety",
                )
            ]
        if not dna and not prophylaxis:
            return [
                finding(
                    rule_id,
                    params["severity_core_positive"],
                    params,
                    order,
                    evidence=[obs_evidence(anti_hbc[0])],
                    phrase={"status": "anti_hbc_positive_no_plan"},
                    suggestions=order_tests(params.get("suggest_tests_core_positive", ())),
                    category="safety",
                )
            ]
        return []
    recent_hbsag = [o for o in hbsag if o.when >= start and is_negative(o)]
    recent_core = [o for o in anti_hbc if o.when >= start and is_negative(o)]
    if recent_hbsag and recent_core:
        return []
    reason = unavailable(facts, ("observations",))
    if reason:
        return [not_assessed(rule_id, params, "observations_unavailable", order, reason=reason)]
    pairs = (("hbsag", recent_hbsag), ("anti_hbc", recent_core))
    missing = [name for name, got in pairs if not got]
    ev = [obs_evidence(o) for o in (hbsag[:1] + anti_hbc[:1])]
    return [
        finding(
            rule_id,
            params["severity_missing"],
            params,
            order,
            evidence=ev,
            phrase={"status": "serology_missing", "missing": missing, **_since(start)},
            suggestions=order_tests(params["suggest_tests"]),
            category="screening",
        )
    ]


def hcv_screen(
    facts: Facts, params: Mapping[str, Any], *, rule_id: str, order: Order | None
) -> list[Result]:
    """HCV RNA detectable or hepatitis C on the problem list; HCV Ab+ without an RNA result;
    or no HCV antibody result within the window (all warning, SPEC §3 JAKI-HCV)."""
    start = optional_since(facts.today, params["window_days"])
    rna = observed(facts, ["hcv_rna"])
    infection = problems(facts, params["infection_concepts"], active_only=True)
    rna_pos = [o for o in rna[:1] if detectable(o)]
    if rna_pos or infection:
        ev = [obs_evidence(o) for o in rna_pos] + [
            problem_evidence(p, "hcv_infection") for p in infection
        ]
        return [
            finding(
                rule_id,
                params["severity"],
                params,
                order,
                evidence=ev,
                phrase={"status": "hcv_active"},
                category="safety",
            )
        ]
    antibody = observed(facts, ["hcv_ab"])
    if antibody and is_positive(antibody[0]):
        if rna and rna[0].when >= antibody[0].when:
            return []
        return [
            finding(
                rule_id,
                params["severity"],
                params,
                order,
                evidence=[obs_evidence(antibody[0])],
                phrase={"status": "antibody_positive_no_rna"},
                suggestions=order_tests(params.get("suggest_tests_antibody_positive", ())),
                category="safety",
            )
        ]
    if any(o.when >= start and is_negative(o) for o in antibody):
        return []
    reason = unavailable(facts, ("observations",))
    if reason:
        return [not_assessed(rule_id, params, "observations_unavailable", order, reason=reason)]
    return [
        finding(
            rule_id,
            params["severity"],
            params,
            order,
            evidence=[obs_evidence(antibody[0])] if antibody else [],
            phrase={"status": "antibody_missing", **_since(start)},
            suggestions=order_tests(params["suggest_tests"]),
            category="screening",
        )
    ]

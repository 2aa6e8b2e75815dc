"""JAKI-MALIGNANCY: malignancy other than non-melanoma skin cancer, active or within the last
five years, or lymphoma at any time (clinical/SPEC.md §3).

Sources: EMA PRAC 2022 Art. 20; ORAL Surveillance (malignancy excluding NMSC HR 1.48 vs TNF
inhibitors, seed 000); Sotyktu USPI 5.4 for TYK2. A past cancer without any date is counted
(timing "unknown"): an undated record is not read as "more than five years ago".
"""

from __future__ import annotations

from datetime import date

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    conditions_not_found,
    found,
    jaki_rule,
)
from cds_service.model import Problem

MALIGNANCY = "JAKI-MALIGNANCY"


def _timing(p: Problem, start: date, any_time: set[str]) -> str | None:
    """'active' | 'recent' | 'any_time' | 'unknown' when the record counts, else None."""
    if p.active and p.abatement is None:
        return "active"
    last = max((d for d in (p.abatement, p.onset, p.recorded) if d is not None), default=None)
    if last is not None and last >= start:
        return "recent"
    if p.concepts & any_time:
        return "any_time"
    return "unknown" if last is None else None


@jaki_rule(MALIGNANCY, applies_to=("jaki", "tyk2"))
def malignancy(ctx: RuleContext) -> RuleResult:
    """Cancer other than NMSC active or within `within_years`; lymphoma at any time."""
    p = ctx.params(MALIGNANCY)
    start = s.since(ctx.facts.today, round(365.25 * p["within_years"]))
    any_time = set(p["any_time_concepts"])
    excluded = set(p["excluded_concepts"])
    hits: list[tuple[Problem, str]] = []
    for problem in s.problems(ctx.facts, p["concepts"]):
        if problem.concepts & excluded and not problem.concepts & any_time:
            continue
        timing = _timing(problem, start, any_time)
        if timing:
            hits.append((problem, timing))
    if not hits:
        return conditions_not_found(ctx, MALIGNANCY, active_only=False)
    names = sorted({c for x, _ in hits for c in x.concepts if c in p["concepts"]})
    order = ("active", "recent", "any_time", "unknown")
    timing = min((t for _, t in hits), key=order.index)
    evidence = [
        s.problem_evidence(x, "lymphoma" if "lymphoma" in x.concepts else "malignancy")
        for x, _ in hits
    ]
    phrase = {"cancers": names, "timing": timing, "within_years": p["within_years"]}
    return [found(ctx, MALIGNANCY, p["severity"], evidence=evidence, phrase=phrase)]

"""JAK-inhibitor rules on pregnancy, lactation and contraception (clinical/SPEC.md §3).

Sources: seed 000 (EULAR: JAK inhibitors are to be avoided in pregnancy and lactation and
stopped >= 2 months before conception); labels (contraception during treatment and for the
label's washout after the last dose; verify pregnancy status before starting).
"""

from __future__ import annotations

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    age_evidence,
    conditions_unavailable,
    found,
    jaki_rule,
    missing,
)
from cds_service.model import Evidence

PREGNANCY = "JAKI-PREGNANCY"
CONTRACEPTION = "JAKI-CONTRACEPTION"


@jaki_rule(PREGNANCY, applies_to=("jaki",))
def pregnancy(ctx: RuleContext) -> RuleResult:
    """Pregnant or lactating (condition), or positive hCG / pregnancy status within the window."""
    p = ctx.params(PREGNANCY)
    facts = ctx.facts
    if facts.sex == "male":
        return []
    evidence: list[Evidence] = []
    status: list[str] = []
    for name, first in s.first_problems(facts, p["concepts"], active_only=True):
        status.append(name)
        evidence.append(s.problem_evidence(first, name))
    start = s.since(facts.today, p["hcg_within_days"])
    for concept in ("hcg", "pregnancy_status"):
        latest = s.newest(facts, [concept], start)
        if latest is not None and s.is_positive(latest):
            if "pregnancy" not in status:
                status.append("pregnancy")
            evidence.append(s.obs_evidence(latest))
    if not evidence:
        return conditions_unavailable(ctx, PREGNANCY)
    drug = ctx.order.drug if ctx.order else None
    phrase = {
        "status": status,
        "washout_weeks": p["washout_weeks"].get(drug) if drug else None,
        "eular_stop_months": p["eular_stop_months"],
    }
    return [found(ctx, PREGNANCY, p["severity"], evidence=evidence, phrase=phrase)]


@jaki_rule(CONTRACEPTION, applies_to=("jaki",))
def contraception(ctx: RuleContext) -> RuleResult:
    """Female of child-bearing age (configurable band) without a recent pregnancy test."""
    p = ctx.params(CONTRACEPTION)
    facts = ctx.facts
    if facts.sex == "male":
        return []
    if facts.sex != "female":
        return [missing(ctx, CONTRACEPTION, "sex")]
    if facts.age is None:
        return [missing(ctx, CONTRACEPTION, "age")]
    if not p["min_age"] <= facts.age <= p["max_age"]:
        return []
    if s.problems(facts, ctx.params(PREGNANCY)["concepts"], active_only=True):
        return []  # JAKI-PREGNANCY speaks
    start = s.since(facts.today, p["test_within_days"])
    if s.any_observed(facts, ["hcg", "pregnancy_status"], start):
        return []
    return [
        found(
            ctx,
            CONTRACEPTION,
            p["severity"],
            evidence=[age_evidence(ctx)],
            phrase={"age": facts.age, "since": start.isoformat()},
            suggestions=s.order_tests(["pregnancy_test"]),
        )
    ]

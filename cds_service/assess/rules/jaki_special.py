"""Special JAK-inhibitor rules: topical use, paradoxical rosacea, filgotinib and fertility.

Sources: seed 001 (topical ruxolitinib 1.5 % cream has little systemic absorption; rosacea
fulminans and granulomatous rosacea-like eruptions reported under JAK and TYK2 inhibitors);
seed 000 (filgotinib: impaired spermatogenesis in rats and dogs at 7.3x and 5.1x the human
exposure; human relevance unknown).
"""

from __future__ import annotations

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    conditions_unavailable,
    found,
    is_topical,
    jaki_rule,
    missing,
)
from cds_service.model import Evidence

TOPICAL = "JAKI-TOPICAL"
ROSACEA = "JAKI-PARADOXICAL-ROSACEA"
FERTILITY = "JAKI-FILGOTINIB-FERTILITY"


@jaki_rule(TOPICAL, applies_to=("jaki",))
def topical(ctx: RuleContext) -> RuleResult:
    """Topical JAK inhibitor: systemic-risk rules are shown at lower severity (stated)."""
    p = ctx.params(TOPICAL)
    order = ctx.order
    if order is None:
        return []
    if is_topical(ctx):
        evidence = [Evidence(order.ref, "order", order.display or order.drug, None, None)]
        phrase = {"drug": order.drug, "route": order.route or "topical"}
        return [found(ctx, TOPICAL, p["severity"], evidence=evidence, phrase=phrase)]
    if order.drug in p["route_dependent_drugs"] and order.route is None:
        return [missing(ctx, TOPICAL, "route")]
    return []


@jaki_rule(ROSACEA, applies_to=("jaki", "tyk2"))
def paradoxical_rosacea(ctx: RuleContext) -> RuleResult:
    """Rosacea on the problem list and the order is for another indication."""
    p = ctx.params(ROSACEA)
    order = ctx.order
    if order is None:
        return []
    rosacea = s.problems(ctx.facts, p["concepts"], active_only=True)
    if not rosacea:
        return conditions_unavailable(ctx, ROSACEA)
    if order.indication is None:
        return [missing(ctx, ROSACEA, "indication")]
    if order.indication in p["concepts"]:
        return []
    evidence = [s.problem_evidence(x, "rosacea") for x in rosacea]
    phrase = {"indication": order.indication}
    return [found(ctx, ROSACEA, p["severity"], evidence=evidence, phrase=phrase)]


@jaki_rule(FERTILITY, applies_to=("filgotinib",))
def filgotinib_fertility(ctx: RuleContext) -> RuleResult:
    """Filgotinib ordered for a male patient: discuss the animal fertility data."""
    p = ctx.params(FERTILITY)
    sex = ctx.facts.sex
    if sex == "male":
        evidence = [Evidence("Patient", "sex", sex)]
        return [found(ctx, FERTILITY, p["severity"], evidence=evidence)]
    if sex == "female":
        return []
    return [missing(ctx, FERTILITY, "sex")]

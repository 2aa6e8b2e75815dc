"""Rosacea context rule (clinical/SPEC.md §4): ROSACEA-OFF-LABEL.
Parameters and source: knowledge/rules_context.toml."""

from __future__ import annotations

from cds_service.assess import context as q
from cds_service.assess.registry import RuleContext, RuleResult, rule


@rule("ROSACEA-OFF-LABEL", applies_to=("jaki",))
def rosacea_off_label(ctx: RuleContext) -> RuleResult:
    """A JAK inhibitor (oral or topical) for rosacea is off-label; the evidence is case reports
    and case series (seed 001)."""
    p = ctx.params("ROSACEA-OFF-LABEL")
    topical = ctx.order.topical if ctx.order else False
    params = {"evidence_level": p["evidence_level"], "topical": topical}
    return q.off_label_use("ROSACEA-OFF-LABEL", p, ctx.order, ctx.facts, "rosacea", params)

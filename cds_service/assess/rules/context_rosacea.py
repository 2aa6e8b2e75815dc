"""Rosacea context rule (clinical/SPEC.md §4): ROSACEA-OFF-LABEL.
Parameters and source: knowledge/rules_context.toml."""

from __future__ import annotations

from cds_service.assess import context as q
from cds_service.assess.registry import RuleContext, RuleResult, rule
from cds_service.model import Evidence, Finding, NotAssessed


@rule("ROSACEA-OFF-LABEL", applies_to=("jaki",))
def rosacea_off_label(ctx: RuleContext) -> RuleResult:
    """A JAK inhibitor (oral or topical) for rosacea is off-label; the evidence is case reports
    and case series (seed 001)."""
    p = ctx.params("ROSACEA-OFF-LABEL")
    order = ctx.order
    if order is None:
        return []
    if order.indication is None and q.has_condition(ctx.facts, p["indications"]):
        return [
            NotAssessed(
                "ROSACEA-OFF-LABEL",
                "indication of the order (the patient has rosacea)",
                category="activity",
                order_ref=order.ref,
                drug=order.drug,
            )
        ]
    if order.indication not in p["indications"]:
        return []
    return [
        Finding(
            rule_id="ROSACEA-OFF-LABEL",
            severity=p["severity"],
            category=p["category"],
            order_ref=order.ref,
            drug=order.drug,
            evidence=[Evidence(ref=order.ref, label="order:indication", value=order.indication)],
            source=p["source"],
            params={"evidence_level": p["evidence_level"], "topical": order.topical},
        )
    ]

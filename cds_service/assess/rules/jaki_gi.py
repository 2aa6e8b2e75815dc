"""JAKI-GI-PERFORATION: diverticulitis history, or prednisone-equivalent > 7.5 mg/day together
with an NSAID (clinical/SPEC.md §3).

Sources: seed 000 (Xie et al.: older age, diverticulitis or other bowel disease, and
glucocorticoids above prednisolone 7.5 mg/day raise the risk of lower GI perforation; NSAIDs
among the factors to weigh); labels (use with caution in patients at risk).
"""

from __future__ import annotations

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    conditions_unavailable,
    found,
    jaki_rule,
    missing,
)
from cds_service.model import Evidence

GI = "JAKI-GI-PERFORATION"


@jaki_rule(GI, applies_to=("jaki",))
def gi_perforation(ctx: RuleContext) -> RuleResult:
    """Diverticulitis at any time, or high-dose glucocorticoid with an NSAID."""
    p = ctx.params(GI)
    facts = ctx.facts
    reasons: list[str] = []
    evidence: list[Evidence] = []
    diverticulitis = s.problems(facts, p["concepts"])
    if diverticulitis:
        reasons.append("diverticulitis")
        evidence += [s.problem_evidence(x, "diverticulitis") for x in diverticulitis]
    prednisone = facts.prednisone_mg_day
    nsaids = s.medications(facts, p["nsaid_classes"])
    if prednisone is not None and prednisone > p["prednisone_above_mg_day"] and nsaids:
        reasons.append("steroid_with_nsaid")
        evidence.append(
            s.make_evidence(
                "MedicationRequest", "prednisone_mg_day", prednisone, "mg/d", None, (), False, None
            )
        )
        evidence += [s.med_evidence(m, "nsaid") for m in nsaids]
    if reasons:
        phrase = {"reasons": reasons, "prednisone_mg_day": prednisone}
        return [found(ctx, GI, p["severity"], evidence=evidence, phrase=phrase)]
    unavailable = conditions_unavailable(ctx, GI)
    if unavailable:
        return unavailable
    reason = s.unavailable(facts, ("medications",))
    return [missing(ctx, GI, "medications_unavailable", reason=reason)] if reason else []

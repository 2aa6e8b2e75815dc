"""Polymyalgia rheumatica context rules (clinical/SPEC.md §4): PMR-ACTIVITY, PMR-OFF-LABEL,
PMR-GCA-SIGNS. Parameters and sources: knowledge/rules_context.toml."""

from __future__ import annotations

from typing import Any

from cds_service.assess import context as q
from cds_service.assess.registry import RuleContext, RuleResult, rule
from cds_service.model import Evidence, Finding, NotAssessed, Score

PMR_COMPONENTS = (
    "crp",
    "patient_pain_mm",
    "prga_mm",
    "morning_stiffness_min",
    "elevation_upper_limbs",
)


def _refs(ctx: RuleContext) -> dict[str, Any]:
    order = ctx.order
    return {"order_ref": order.ref if order else None, "drug": order.drug if order else None}


def _is_pmr(ctx: RuleContext, indications: list[str]) -> bool:
    """An order for PMR, a patient with PMR (order of unknown indication), or patient-view."""
    if ctx.order is None:
        return q.patient_level_only(ctx.facts) and q.has_condition(ctx.facts, indications)
    if ctx.order.indication in indications:
        return True
    return ctx.order.indication is None and q.has_condition(ctx.facts, indications)


@rule("PMR-ACTIVITY", applies_to=("jaki", "tyk2", "biologic", "patient"))
def pmr_activity(ctx: RuleContext) -> RuleResult:
    """Latest PMR-AS (CRP; ESR when enabled), its category and flare status (seed 004)."""
    p = ctx.params("PMR-ACTIVITY")
    if not _is_pmr(ctx, p["indications"]):
        return []
    mine = [s for s in ctx.scores if s.id in p["scores"]]
    scores = [s for s in mine if s.id != "PMR-FLARE"]
    if not scores:
        return [
            NotAssessed(
                "PMR-ACTIVITY",
                "no PMR activity score components on file (CRP, pain VAS, physician VAS, morning "
                "stiffness, elevation of the upper limbs)",
                category="activity",
                concepts=PMR_COMPONENTS,
                **_refs(ctx),
            )
        ]
    latest: dict[str, Score] = {}
    trend: dict[str, list[dict[str, Any]]] = {}
    for s in scores:
        latest.setdefault(s.id, s)
        trend.setdefault(s.id, []).append(
            {
                "value": s.value,
                "category": s.category,
                "date": s.when.isoformat() if s.when else None,
            }
        )
    flare = next((s for s in mine if s.id == "PMR-FLARE"), None)
    evidence: list[Evidence] = []
    for s in latest.values():
        evidence.extend(e for e in s.evidence if e not in evidence)
    return [
        Finding(
            rule_id="PMR-ACTIVITY",
            severity=p["severity"],
            category=p["category"],
            evidence=evidence,
            source=p["source"],
            params={
                "latest": [q.score_summary(s) for s in latest.values()],
                "trend": trend,
                "flare": flare.category if flare else None,
                "flare_delta": flare.inputs.get("delta") if flare else None,
            },
            **_refs(ctx),
        )
    ]


@rule("PMR-OFF-LABEL", applies_to=("jaki",))
def pmr_off_label(ctx: RuleContext) -> RuleResult:
    """A JAK inhibitor for PMR is off-label; the evidence is BACHELOR (seed 004)."""
    p = ctx.params("PMR-OFF-LABEL")
    params = {"trial": p["trial"], "regimen": p["regimen"], "result": p["result"]}
    return q.off_label_use(
        "PMR-OFF-LABEL", p, ctx.order, ctx.facts, "polymyalgia rheumatica", params
    )


@rule("PMR-GCA-SIGNS", applies_to=("jaki", "tyk2", "biologic", "patient"))
def pmr_gca_signs(ctx: RuleContext) -> RuleResult:
    """PMR with headache, jaw claudication, visual disturbance or a GCA diagnosis (seed 004:
    exclusion criteria of BACHELOR) — giant cell arteritis must be ruled out."""
    p = ctx.params("PMR-GCA-SIGNS")
    order = ctx.order
    has_pmr = q.has_condition(ctx.facts, p["indications"])
    if order is None and not (q.patient_level_only(ctx.facts) and has_pmr):
        return []
    if order is not None and not (has_pmr or order.indication in p["indications"]):
        return []  # a patient with PMR matters whatever the order is for
    if q.unavailable(ctx.facts, q.CONDITION_KEYS):
        return [
            NotAssessed(
                "PMR-GCA-SIGNS",
                "conditions could not be read (headache, jaw claudication, visual signs, GCA)",
                category="safety",
                concepts=tuple(p["signs"]),
                **_refs(ctx),
            )
        ]
    found = q.active_problems(ctx.facts, p["signs"])
    if not found:
        return []
    signs = sorted({c for prob in found for c in prob.concepts if c in p["signs"]})
    return [
        Finding(
            rule_id="PMR-GCA-SIGNS",
            severity=p["severity"],
            category=p["category"],
            evidence=[
                q.problem_evidence(prob, "+".join(sorted(prob.concepts & set(signs))))
                for prob in found
            ],
            source=p["source"],
            params={"signs": signs},
            **_refs(ctx),
        )
    ]

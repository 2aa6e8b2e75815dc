"""Idiopathic inflammatory myopathy context rules (clinical/SPEC.md §4): MYO-MDA5-ILD-RISK,
MYO-CK-TREND, MYO-PJP-PROPHYLAXIS. Parameters and sources: knowledge/rules_context.toml."""

from __future__ import annotations

from typing import Any

from cds_service.assess import context as q
from cds_service.assess.registry import RuleContext, RuleResult, rule
from cds_service.model import Evidence, Finding, NotAssessed, Observed

_APPLIES = ("jaki", "tyk2", "biologic", "patient")


def _refs(ctx: RuleContext) -> dict[str, Any]:
    order = ctx.order
    return {"order_ref": order.ref if order else None, "drug": order.drug if order else None}


def _is_myositis(ctx: RuleContext, concepts: list[str]) -> bool:
    if ctx.order is None:
        return q.patient_level_only(ctx.facts) and q.has_condition(ctx.facts, concepts)
    return ctx.order.indication in concepts or q.has_condition(ctx.facts, concepts)


def _numeric(obs: list[Observed]) -> list[Observed]:
    return [o for o in obs if o.value is not None]


@rule("MYO-MDA5-ILD-RISK", applies_to=_APPLIES)
def mda5_ild_risk(ctx: RuleContext) -> RuleResult:
    """Anti-MDA5-positive myositis with ILD and >= 1 of age > 60, SpO2 < 95 %, CRP > 1 mg/dL,
    ferritin > 500 ng/mL, KL-6 > 1000 U/mL: high risk of rapidly progressive ILD (seed 003)."""
    p = ctx.params("MYO-MDA5-ILD-RISK")
    facts = ctx.facts
    if not _is_myositis(ctx, p["myositis"]):
        return []
    has_ild = q.has_condition(facts, ["ild"])
    mda5 = next((o for o in facts.observations.get("anti_mda5", []) if o.interpretation), None)
    if mda5 is None:
        if not has_ild:
            return []
        return [
            NotAssessed(
                "MYO-MDA5-ILD-RISK",
                "anti-MDA5 antibody result (myositis with ILD)",
                category="safety",
                concepts=("anti_mda5",),
                **_refs(ctx),
            )
        ]
    if mda5.interpretation != "positive" or not has_ild:
        return []
    days = int(p["lab_max_age_days"])
    start = q.since(facts, days)
    evidence: list[Evidence] = [q.evidence_of(mda5)]
    evidence += [q.problem_evidence(pr, "ild") for pr in q.active_problems(facts, ["ild"])]
    present: list[str] = []
    missing: list[str] = []
    if facts.age is None:
        missing.append("age")
    elif facts.age > p["age_over"]:
        present.append("age")
        evidence.append(Evidence(ref="Patient", label="age", value=facts.age, unit="a"))
    checks = (
        ("spo2", "spo2", lambda v: v < p["spo2_below"]),
        ("crp", "crp", lambda v: v > p["crp_over_mg_l"]),
        ("ferritin", "ferritin", lambda v: v > p["ferritin_over"]),
        ("kl6", "kl6", lambda v: v > p["kl6_over"]),
    )
    for name, concept, test in checks:
        recent = _numeric(q.observed_since(facts, concept, days))
        if not recent:
            missing.append(name)
        elif test(recent[0].value):
            present.append(name)
            evidence.append(q.evidence_of(recent[0]))
    if present:
        return [
            Finding(
                rule_id="MYO-MDA5-ILD-RISK",
                severity=p["severity"],
                category=p["category"],
                evidence=evidence,
                source=p["source"],
                params={"factors": present, "missing": missing, "count": len(present)},
                **_refs(ctx),
            )
        ]
    if missing:
        return [
            NotAssessed(
                "MYO-MDA5-ILD-RISK",
                f"{', '.join(missing)} since {start.isoformat()} (anti-MDA5 positive ILD)",
                category="safety",
                since=start,
                concepts=tuple(m for m in missing if m != "age"),
                **_refs(ctx),
            )
        ]
    return []


@rule("MYO-CK-TREND", applies_to=_APPLIES)
def ck_trend(ctx: RuleContext) -> RuleResult:
    """CK over the last three results: rising, falling or stable (seed 003: CK falls after
    4-6 weeks of glucocorticoid; taper once CK falls and strength returns)."""
    p = ctx.params("MYO-CK-TREND")
    if not _is_myositis(ctx, p["myositis"]):
        return []
    start = q.since(ctx.facts, int(p["lookback_days"]))
    values = _numeric(q.observed_since(ctx.facts, "ck", int(p["lookback_days"])))[
        : int(p["results"])
    ]
    if not values:
        return [
            NotAssessed(
                "MYO-CK-TREND",
                f"no CK result since {start.isoformat()}",
                category="activity",
                since=start,
                concepts=("ck",),
                **_refs(ctx),
            )
        ]
    direction = None
    if len(values) >= 2:
        newest, oldest = values[0].value, values[-1].value
        assert newest is not None and oldest is not None
        change = float(p["relative_change"])
        if newest > oldest * (1 + change):
            direction = "rising"
        elif newest < oldest * (1 - change):
            direction = "falling"
        else:
            direction = "stable"
    return [
        Finding(
            rule_id="MYO-CK-TREND",
            severity=p["severity"],
            category=p["category"],
            evidence=[q.evidence_of(o) for o in values],
            source=p["source"],
            params={
                "values": [
                    {"value": o.value, "unit": o.unit, "date": o.when.isoformat()} for o in values
                ],
                "direction": direction,
            },
            **_refs(ctx),
        )
    ]


@rule("MYO-PJP-PROPHYLAXIS", applies_to=_APPLIES)
def pjp_prophylaxis(ctx: RuleContext) -> RuleResult:
    """High-dose glucocorticoid plus >= 1 other immunosuppressant (the order included) without
    trimethoprim-sulfamethoxazole: consider PJP prophylaxis (seed 003)."""
    p = ctx.params("MYO-PJP-PROPHYLAXIS")
    facts = ctx.facts
    if not _is_myositis(ctx, p["myositis"]):
        return []
    if q.unavailable(facts, q.MEDICATION_KEYS):
        return [
            NotAssessed(
                "MYO-PJP-PROPHYLAXIS",
                "medications could not be read",
                category="safety",
                **_refs(ctx),
            )
        ]
    meds = q.active_medications(facts)
    steroids = [m for m in meds if "steroid" in m.classes]
    if not steroids:
        return []
    if facts.prednisone_mg_day is None:
        return [
            NotAssessed(
                "MYO-PJP-PROPHYLAXIS",
                "prednisone-equivalent dose of the active glucocorticoid",
                category="safety",
                **_refs(ctx),
            )
        ]
    if facts.prednisone_mg_day < float(p["high_dose_prednisone_mg"]):
        return []
    agent_classes = set(p["agent_classes"])
    agents = [m for m in meds if m.classes & agent_classes]
    names = {m.drug or m.display or m.ref for m in agents}
    order = ctx.order
    if order is not None and order.drug_class in agent_classes:
        names.add(order.drug)
    if not names:
        return []
    if any(p["prophylaxis_class"] in m.classes for m in meds):
        return []
    evidence = [
        Evidence(
            ref=m.ref,
            label=f"medication:{m.drug or 'unknown'}",
            value=m.dose_mg,
            unit="mg",
            when=m.authored,
        )
        for m in [*steroids, *agents]
    ]
    return [
        Finding(
            rule_id="MYO-PJP-PROPHYLAXIS",
            severity=p["severity"],
            category=p["category"],
            evidence=evidence,
            source=p["source"],
            params={"prednisone_mg_day": facts.prednisone_mg_day, "agents": sorted(names)},
            **_refs(ctx),
        )
    ]

"""Infliximab therapeutic drug monitoring (clinical/SPEC.md §5): IFX-TDM-LOW, IFX-ADA,
IFX-TDM-NONE, IFX-INTERVAL, IFX-MTX, IFX-SCREEN. Parameters and sources:
knowledge/rules_context.toml. Trough in ug/mL (= mg/L), antibodies in ug/L (concepts.toml)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

from cds_service.assess import context as q
from cds_service.assess import screening
from cds_service.assess.registry import RuleContext, RuleResult, rule
from cds_service.model import Evidence, Finding, NotAssessed, Observed, Suggestion

_BELOW = re.compile(r"^\s*(?:<|&lt;|≤|<=)\s*([0-9]+(?:[.,][0-9]+)?)")


def _refs(ctx: RuleContext) -> dict[str, Any]:
    order = ctx.order
    return {"order_ref": order.ref if order else None, "drug": order.drug if order else None}


def _order_test(test: str) -> list[Suggestion]:
    return [Suggestion("order-test", {"test": test})]


def trough_value(o: Observed) -> float | None:
    """Numeric trough, or the limit of a "<0.4"-style result (read as at most that value)."""
    if o.value is not None:
        return o.value
    match = _BELOW.match(o.original or "")
    return float(match.group(1).replace(",", ".")) if match else None


def _troughs(ctx: RuleContext, days: int | None) -> list[Observed]:
    """Troughs in the canonical unit (normalise converts; anything else is not read)."""
    canonical = ctx.knowledge.concepts.get("observation", {}).get("ifx_trough", {}).get("unit")
    obs = ctx.facts.observations.get("ifx_trough", [])
    start = q.since(ctx.facts, days) if days is not None else date.min
    return [
        o
        for o in obs
        if o.when >= start and o.unit in (None, canonical) and trough_value(o) is not None
    ]


def antibody_level(o: Observed, mass_unit: str) -> float | None:
    """Antibody level in the mass unit, or None when the result is in another unit (U/mL,
    AU/mL: assay-specific, not convertible) or only coded."""
    if o.value is not None and o.unit == mass_unit:
        return o.value
    return None


@rule("IFX-TDM-LOW", applies_to=("infliximab",))
def tdm_low(ctx: RuleContext) -> RuleResult:
    """Newest trough within 6 months below 1 ug/mL (St Clair 2002; NOR-DRUM target 3-8 mg/L)."""
    p = ctx.params("IFX-TDM-LOW")
    days = int(p["lookback_days"])
    troughs = _troughs(ctx, days)
    if not troughs:
        start = q.since(ctx.facts, days)
        return [
            NotAssessed(
                "IFX-TDM-LOW",
                f"no infliximab trough on file since {start.isoformat()}",
                category="activity",
                since=start,
                concepts=("ifx_trough",),
                suggestions=_order_test("ifx_trough"),
                **_refs(ctx),
            )
        ]
    newest = troughs[0]
    value = trough_value(newest)
    assert value is not None
    if value >= float(p["low_ug_ml"]):
        return []
    return [
        Finding(
            rule_id="IFX-TDM-LOW",
            severity=p["severity"],
            category=p["category"],
            evidence=[q.evidence_of(newest)],
            source=p["source"],
            params={
                "trough": newest.value if newest.value is not None else newest.original,
                "date": newest.when.isoformat(),
                "low_ug_ml": p["low_ug_ml"],
                "target": f"{p['target_low_ug_ml']:g}-{p['target_high_ug_ml']:g}",
            },
            **_refs(ctx),
        )
    ]


@rule("IFX-ADA", applies_to=("infliximab",))
def anti_drug_antibodies(ctx: RuleContext) -> RuleResult:
    """Anti-infliximab antibodies >= 50 ug/L (NOR-DRUM). Results in other units are shown in the
    not-assessed entry, never judged against the mass threshold."""
    p = ctx.params("IFX-ADA")
    days = int(p["lookback_days"])
    start = q.since(ctx.facts, days)
    results = q.observed_since(ctx.facts, "ifx_antibody", days)
    if not results:
        return [
            NotAssessed(
                "IFX-ADA",
                f"no anti-infliximab antibody result since {start.isoformat()}",
                category="activity",
                since=start,
                concepts=("ifx_antibody",),
                suggestions=_order_test("ifx_antibody"),
                **_refs(ctx),
            )
        ]
    newest = results[0]
    level = antibody_level(newest, p["mass_unit"])
    if level is None:
        shown = newest.original or newest.interpretation or (newest.unit or "unknown unit")
        return [
            NotAssessed(
                "IFX-ADA",
                f"anti-infliximab antibody in a mass unit: the result of {newest.when.isoformat()} "
                f"({shown}) is not in {p['mass_unit']} and is not compared with "
                f"{p['threshold_ug_l']:g} {p['mass_unit']}",
                category="activity",
                since=start,
                concepts=("ifx_antibody",),
                **_refs(ctx),
            )
        ]
    if level < float(p["threshold_ug_l"]):
        return []
    return [
        Finding(
            rule_id="IFX-ADA",
            severity=p["severity"],
            category=p["category"],
            evidence=[q.evidence_of(newest)],
            source=p["source"],
            params={
                "antibody": level,
                "date": newest.when.isoformat(),
                "threshold_ug_l": p["threshold_ug_l"],
            },
            **_refs(ctx),
        )
    ]


@rule("IFX-TDM-NONE", applies_to=("infliximab",))
def tdm_none(ctx: RuleContext) -> RuleResult:
    """Maintenance infliximab (first dose on record >= 14 weeks ago) without any trough on file."""
    p = ctx.params("IFX-TDM-NONE")
    facts = ctx.facts
    if q.unavailable(facts, q.MEDICATION_KEYS):
        return [
            NotAssessed(
                "IFX-TDM-NONE",
                "medications could not be read (start of infliximab)",
                category="screening",
                concepts=("ifx_trough",),
                **_refs(ctx),
            )
        ]
    prior = [m for m in facts.medications if m.drug == "infliximab"]
    if not prior:
        return []  # first infliximab order: induction, no trough expected yet
    dated = [m.authored for m in prior if m.authored is not None]
    if not dated:
        return [
            NotAssessed(
                "IFX-TDM-NONE",
                "date of the first infliximab on record",
                category="screening",
                concepts=("ifx_trough",),
                **_refs(ctx),
            )
        ]
    first = min(dated)
    if (facts.today - first).days < int(p["maintenance_after_days"]):
        return []
    if _troughs(ctx, None):
        return []
    return [
        Finding(
            rule_id="IFX-TDM-NONE",
            severity=p["severity"],
            category=p["category"],
            evidence=[
                Evidence(ref=m.ref, label="medication:infliximab", value=m.display, when=m.authored)
                for m in prior
                if m.authored == first
            ],
            source=p["source"],
            params={"since": first.isoformat()},
            suggestions=_order_test("ifx_trough"),
            **_refs(ctx),
        )
    ]


@rule("IFX-INTERVAL", applies_to=("infliximab",))
def interval(ctx: RuleContext) -> RuleResult:
    """Low trough without anti-drug antibodies: shortening the interval raised trough more
    than adding 100 mg (St Clair 2002, seed 002)."""
    p = ctx.params("IFX-INTERVAL")
    ada = ctx.params("IFX-ADA")
    troughs = _troughs(ctx, int(p["lookback_days"]))
    if not troughs:
        return []  # a missing trough is reported by IFX-TDM-LOW
    newest = troughs[0]
    value = trough_value(newest)
    assert value is not None
    if value >= float(p["below_ug_ml"]):
        return []
    days = int(p["antibody_lookback_days"])
    start = q.since(ctx.facts, days)
    antibodies = q.observed_since(ctx.facts, "ifx_antibody", days)
    if not antibodies:
        return [
            NotAssessed(
                "IFX-INTERVAL",
                f"no anti-infliximab antibody result since {start.isoformat()} (trough is low)",
                category="activity",
                since=start,
                concepts=("ifx_antibody",),
                suggestions=_order_test("ifx_antibody"),
                **_refs(ctx),
            )
        ]
    latest = antibodies[0]
    level = antibody_level(latest, ada["mass_unit"])
    if latest.interpretation == "positive" or (
        level is not None and level >= float(ada["threshold_ug_l"])
    ):
        return []  # antibody-mediated: IFX-ADA speaks
    if level is None and latest.interpretation != "negative":
        return [
            NotAssessed(
                "IFX-INTERVAL",
                f"anti-infliximab antibody result in {ada['mass_unit']} or as negative/positive "
                f"(result of {latest.when.isoformat()} cannot be read)",
                category="activity",
                since=start,
                concepts=("ifx_antibody",),
                **_refs(ctx),
            )
        ]
    return [
        Finding(
            rule_id="IFX-INTERVAL",
            severity=p["severity"],
            category=p["category"],
            evidence=[q.evidence_of(newest), q.evidence_of(latest)],
            source=p["source"],
            params={
                "trough": newest.value if newest.value is not None else newest.original,
                "date": newest.when.isoformat(),
                "below_ug_ml": p["below_ug_ml"],
            },
            **_refs(ctx),
        )
    ]


@rule("IFX-MTX", applies_to=("infliximab",))
def methotrexate(ctx: RuleContext) -> RuleResult:
    """Infliximab for RA without concomitant methotrexate (seed 002: required by the Japanese
    label; the pivotal trials combined both)."""
    p = ctx.params("IFX-MTX")
    order = ctx.order
    if order is None or order.indication not in p["indications"]:
        return []
    if q.unavailable(ctx.facts, q.MEDICATION_KEYS):
        return [
            NotAssessed(
                "IFX-MTX",
                "medications could not be read (methotrexate)",
                category="safety",
                **_refs(ctx),
            )
        ]
    wanted = set(p["concomitant_drugs"])
    if any(m.drug in wanted for m in q.active_medications(ctx.facts)):
        return []
    return [
        Finding(
            rule_id="IFX-MTX",
            severity=p["severity"],
            category=p["category"],
            evidence=[Evidence(ref=order.ref, label="order:indication", value=order.indication)],
            source=p["source"],
            params={"drugs": sorted(wanted)},
            **_refs(ctx),
        )
    ]


@rule("IFX-SCREEN", applies_to=("infliximab",))
def screen(ctx: RuleContext) -> RuleResult:
    """TB and HBV screening before infliximab, with the checks and parameters of JAKI-TB-SCREEN
    and JAKI-HBV (cds_service.assess.screening), reported under IFX-SCREEN."""
    own = ctx.params("IFX-SCREEN")
    out: list[Finding | NotAssessed] = []
    for part, rule_id, check in (
        ("tb", "JAKI-TB-SCREEN", screening.tb_screen),
        ("hbv", "JAKI-HBV", screening.hbv_screen),
    ):
        params = {**ctx.params(rule_id), "source": own["source"]}
        for item in check(ctx.facts, params, rule_id="IFX-SCREEN", order=ctx.order):
            if isinstance(item, Finding):
                item = replace(item, params={**item.params, "part": part})
            out.append(item)
    return out

"""JAK-inhibitor laboratory rules: ANC, ALC, haemoglobin, platelets, missing baseline labs,
lipids (clinical/SPEC.md §3).

Sources: the "do not initiate" floors of each drug's label per region (knowledge/labels.toml
`labs`: e.g. ANC 1000/uL, ALC 500/uL, Hb 8 g/dL in most US labels; tofacitinib ALC 750/uL and
Hb 9 g/dL in the SmPC; abrocitinib ANC 1200/uL and Hb 10 g/dL in the SmPC); baseline CBC,
liver enzymes and renal function, lipids 8-12 weeks after start (labels). The latest result
inside the window is judged; an older one counts as missing.
"""

from __future__ import annotations

from dataclasses import replace

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    enabled,
    found,
    jaki_rule,
    label_phrase,
    label_section,
    label_source,
    missing,
    region,
)
from cds_service.model import NotAssessed

ANC = "JAKI-LAB-ANC"
ALC = "JAKI-LAB-ALC"
HB = "JAKI-LAB-HB"
PLT = "JAKI-LAB-PLT"
LAB_MISSING = "JAKI-LAB-MISSING"
LIPIDS = "JAKI-LIPIDS"


def lab_floor(ctx: RuleContext, rule_id: str) -> RuleResult:
    """Latest result in the window below the label's floor for the drug and region -> critical;
    no result -> not assessed. The floor is the `labs` section of the region's label
    (knowledge/labels.toml); a count that label does not set is not judged, and a count whose
    figure could not be confirmed (`unconfirmed`) is not configured."""
    p = ctx.params(rule_id)
    section = label_section(ctx, rule_id, "labs")
    if isinstance(section, NotAssessed):
        return [section]
    table, labs = section
    if p["concept"] in labs.get("unconfirmed", ()) and not enabled(ctx, rule_id, {}):
        return [missing(ctx, rule_id, "region", extra={"region": region(ctx)})]
    threshold = labs.get(p["concept"])
    if threshold is None:
        return []  # this label sets no floor for this count
    start = s.since(ctx.facts.today, p["window_days"])
    latest = s.newest(ctx.facts, [p["concept"]], start, s.bounds)
    if latest is None:
        return [missing(ctx, rule_id, "result", start=start)]
    extra = {"original": latest.original or f"{latest.value:g}", "date": latest.when.isoformat()}
    if not s.plausible(latest, p["plausible"]):
        return [missing(ctx, rule_id, "implausible", extra=extra)]
    below = s.is_below(latest, float(threshold))
    if below is None:  # a bound such as "<1500" that straddles the floor
        return [missing(ctx, rule_id, "bound", extra=extra)]
    if below:
        phrase = {
            "value": latest.value,
            "threshold": float(threshold),
            "unit": p["unit"],
            "date": latest.when.isoformat(),
            **label_phrase(ctx, table),
        }
        item = found(ctx, rule_id, p["severity"], evidence=[s.obs_evidence(latest)], phrase=phrase)
        return [replace(item, source=label_source(ctx, rule_id, table))]
    return []


@jaki_rule(ANC, applies_to=("jaki",))
def anc(ctx: RuleContext) -> RuleResult:
    """Absolute neutrophil count below the label floor."""
    return lab_floor(ctx, ANC)


@jaki_rule(ALC, applies_to=("jaki",))
def alc(ctx: RuleContext) -> RuleResult:
    """Absolute lymphocyte count below the label floor."""
    return lab_floor(ctx, ALC)


@jaki_rule(HB, applies_to=("jaki",))
def hb(ctx: RuleContext) -> RuleResult:
    """Haemoglobin below the label floor."""
    return lab_floor(ctx, HB)


@jaki_rule(PLT, applies_to=("jaki",))
def platelets(ctx: RuleContext) -> RuleResult:
    """Platelets below the floor of labels that set one (abrocitinib, ritlecitinib)."""
    return lab_floor(ctx, PLT)


@jaki_rule(LAB_MISSING, applies_to=("jaki",))
def lab_missing(ctx: RuleContext) -> RuleResult:
    """No CBC, liver enzymes or renal function within the window: order baseline labs."""
    p = ctx.params(LAB_MISSING)
    start = s.since(ctx.facts.today, p["window_days"])
    absent = [
        group
        for group, concepts in p["groups"].items()
        if not s.any_observed(ctx.facts, concepts, start)
    ]
    if not absent:
        return []
    reason = s.unavailable(ctx.facts, ("observations",))
    if reason:
        return [missing(ctx, LAB_MISSING, "observations_unavailable", reason=reason)]
    phrase = {"missing": absent, "since": start.isoformat()}
    return [
        found(ctx, LAB_MISSING, p["severity"], phrase=phrase, suggestions=s.order_tests(absent))
    ]


@jaki_rule(LIPIDS, applies_to=("jaki", "tyk2"))
def lipids(ctx: RuleContext) -> RuleResult:
    """No lipid panel within the window; recheck 8-12 weeks after start."""
    p = ctx.params(LIPIDS)
    start = s.since(ctx.facts.today, p["window_days"])
    if s.any_observed(ctx.facts, p["concepts"], start):
        return []
    reason = s.unavailable(ctx.facts, ("observations",))
    if reason:
        return [missing(ctx, LIPIDS, "observations_unavailable", reason=reason)]
    older = s.newest(ctx.facts, p["concepts"])
    phrase = {"since": start.isoformat(), "recheck_weeks": list(p["recheck_weeks"])}
    if older:
        phrase["last_date"] = older.when.isoformat()
    evidence = [s.obs_evidence(older)] if older else []
    return [
        found(
            ctx,
            LIPIDS,
            p["severity"],
            evidence=evidence,
            phrase=phrase,
            suggestions=s.order_tests(["lipid_panel"]),
        )
    ]

"""JAK-inhibitor interaction rules: drug-drug interactions and combined immunosuppression.

Sources: labels (knowledge/labels.toml [[<drug>.ddi]]: strong CYP3A4 inhibitors and fluconazole
with tofacitinib, strong CYP3A4 inhibitors with upadacitinib, strong CYP3A4 inducers, strong OAT3
inhibitors with baricitinib, strong CYP2C19 inhibitors with abrocitinib); labels (not
recommended with biologic DMARDs, other JAK inhibitors or potent immunosuppressants).

JAKI-DDI fires in every region (the interaction is a property of the drugs); the labelled action
and dose are added only where the region's entry is checked, else the action reads
"check_label".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    dose_update,
    enabled,
    found,
    jaki_rule,
    label_source,
    missing,
    ordered_daily_mg,
    region,
)
from cds_service.model import Evidence, Finding

DDI = "JAKI-DDI"
COMBINATION = "JAKI-COMBINATION"


@jaki_rule(DDI, applies_to=("jaki",))
def ddi(ctx: RuleContext) -> RuleResult:
    """Interacting active medications of the patient, with the label's action per region."""
    p = ctx.params(DDI)
    order = ctx.order
    if order is None:
        return []
    drug_labels = ctx.knowledge.files.get("labels", {}).get(order.drug, {})
    out: RuleResult = []
    for entry in drug_labels.get("ddi", []):
        meds = [m for m in s.medications(ctx.facts, entry["classes"]) if m.drug != order.drug]
        if not meds:
            continue
        classes = sorted({c for m in meds for c in m.classes if c in entry["classes"]})
        phrase: dict[str, Any] = {
            "interacting": sorted({m.display or m.drug or "?" for m in meds}),
            "classes": classes,
            "action": "check_label",
            "region": region(ctx),
            "label": str(drug_labels.get(region(ctx), {}).get("label", "")),
        }
        evidence = [s.med_evidence(m, classes[0]) for m in meds]
        suggestions = []
        regional = entry.get(region(ctx))
        source = None
        if isinstance(regional, dict) and enabled(ctx, DDI, regional):
            phrase["action"] = regional["action"]
            source = label_source(ctx, DDI, drug_labels.get(region(ctx), {}))
            if regional["action"] == "reduce":
                daily = ordered_daily_mg(ctx)
                if daily is None:
                    reason = order.dose_problem or "dose or frequency not given"
                    out.append(missing(ctx, DDI, "dose", reason=reason))
                    continue
                if daily <= regional["dose_mg"] * regional["per_day"]:
                    continue
                phrase.update(dose_mg=regional["dose_mg"], per_day=regional["per_day"])
                suggestions.append(dose_update(regional["dose_mg"], regional["per_day"]))
        item = found(
            ctx, DDI, p["severity"], evidence=evidence, phrase=phrase, suggestions=suggestions
        )
        out.append(replace(item, source=source) if source else item)
    if out:
        return out
    reason = s.unavailable(ctx.facts, ("medications",))
    return [missing(ctx, DDI, "medications_unavailable", reason=reason)] if reason else []


@jaki_rule(COMBINATION, applies_to=("jaki", "tyk2"))
def combination(ctx: RuleContext) -> RuleResult:
    """Active biologic DMARD, other JAK/TYK2 inhibitor or potent immunosuppressant, or another
    such drug ordered in the same request; critical when two JAK inhibitors meet."""
    p = ctx.params(COMBINATION)
    order = ctx.order
    if order is None:
        return []
    wanted = set(p["classes"])
    meds = [m for m in s.medications(ctx.facts, p["classes"]) if m.drug != order.drug]
    orders = [
        o
        for o in ctx.facts.orders
        if o.ref != order.ref and o.drug != order.drug and o.drug_class in wanted
    ]
    if not meds and not orders:
        reason = s.unavailable(ctx.facts, ("medications",))
        return (
            [missing(ctx, COMBINATION, "medications_unavailable", reason=reason)] if reason else []
        )
    jak = set(p["jak_classes"])
    two_jak = order.drug_class in jak and (
        any(m.classes & jak for m in meds) or any(o.drug_class in jak for o in orders)
    )
    evidence = [s.med_evidence(m, sorted(m.classes & wanted)[0]) for m in meds]
    evidence += [Evidence(o.ref, f"order:{o.drug_class}", o.display or o.drug) for o in orders]
    names = sorted({m.drug or m.display or "?" for m in meds} | {o.drug for o in orders})
    severity = p["severity_two_jaki"] if two_jak else p["severity"]
    phrase = {"combined_with": names, "two_jak": two_jak}
    item: Finding = found(ctx, COMBINATION, severity, evidence=evidence, phrase=phrase)
    return [item]

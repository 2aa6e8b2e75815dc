"""JAK-inhibitor dose rules: renal dose, hepatic impairment, dose above the label.

The figures are per drug, indication and label region in knowledge/labels.toml, each with its
label (SmPC / USPI / PMDA / TFDA) as source; a figure not checked against its label answers
"label rule not configured for this region" (clinical/SPEC.md §3). Cockcroft-Gault CrCl:
Cockcroft & Gault, Nephron 1976;16:31-41.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    age_evidence,
    dose_update,
    enabled,
    found,
    jaki_rule,
    label_phrase,
    label_section,
    label_source,
    missing,
    ordered_daily_mg,
    region,
)
from cds_service.model import SEVERITY_RANK, Evidence, Finding, NotAssessed
from cds_service.normalise.construct import fast_positional

RENAL = "JAKI-RENAL-DOSE"
HEPATIC = "JAKI-HEPATIC"
DOSE_MAX = "JAKI-DOSE-MAX"

_OTHER = {"crcl": "egfr", "egfr": "crcl"}
_UNITS = {"crcl": "mL/min", "egfr": "mL/min/{1.73_m2}"}


@dataclass(frozen=True)
class RenalValue:
    measure: str  # "crcl" | "egfr" | "crcl_cockcroft_gault"
    value: float
    unit: str
    evidence: list[Evidence]
    surrogate: bool  # not the measure the label names
    low: float = -math.inf  # interval of the true value (a bound such as ">60" is open)
    high: float = math.inf
    original: str | None = None  # the result as sent
    high_open: bool = False  # "<x": the value is below x, not equal to it


# RenalValue(...) with every field, without the frozen-dataclass __init__ (construct.py)
_make_renal = fast_positional(
    RenalValue,
    *("measure", "value", "unit", "evidence", "surrogate", "low", "high", "original", "high_open"),
)


def cockcroft_gault(
    age: int, weight_kg: float, creatinine_mg_dl: float, female: bool, k: Mapping[str, float]
) -> float:
    """CrCl (mL/min) = (140 - age) x weight / (72 x Scr), x 0.85 for women (Cockcroft 1976)."""
    crcl = (k["age_from"] - age) * weight_kg / (k["divisor"] * creatinine_mg_dl)
    return round(crcl * (k["female_factor"] if female else 1.0), 1)


def _cockcroft_gault(ctx: RuleContext, p: Mapping[str, Any]) -> RenalValue | None:
    facts = ctx.facts
    start = s.since(facts.today, p["window_days"])
    creatinine = s.newest(
        facts, ["creatinine"], start, lambda o: o.value and s.bounds(o) == (o.value, o.value)
    )
    weight_start = s.since(facts.today, p["weight_window_days"])
    weight = s.newest(facts, ["body_weight"], weight_start, lambda o: o.value and s.bounds(o))
    if not creatinine or not weight or facts.age is None or facts.sex not in {"male", "female"}:
        return None
    value = cockcroft_gault(
        facts.age,
        float(weight.value or 0),
        float(creatinine.value or 0),
        facts.sex == "female",
        p["cockcroft_gault"],
    )
    evidence = [s.obs_evidence(creatinine), s.obs_evidence(weight), age_evidence(ctx)]
    return RenalValue("crcl_cockcroft_gault", value, "mL/min", evidence, False, value, value)


def renal_value(ctx: RuleContext, label_measure: str) -> RenalValue | None:
    """The label's measure if on file in the window, else (when allowed) a surrogate."""
    p = ctx.params(RENAL)
    start = s.since(ctx.facts.today, p["window_days"])

    def measured(concept: str, surrogate: bool) -> RenalValue | None:
        o = s.newest(ctx.facts, [concept], start, s.bounds)
        if o is None:
            return None
        low, high = s.bounds(o) or (-math.inf, math.inf)
        evidence = [s.obs_evidence(o)]
        value = float(o.value or 0)
        return _make_renal(  # type: ignore[no-any-return]
            concept,
            value,
            _UNITS[concept],
            evidence,
            surrogate,
            low,
            high,
            o.original,
            o.comparator == "<",
        )

    first = measured(label_measure, False)
    if first or not p["allow_surrogate"]:
        return first
    if label_measure == "crcl":
        computed = _cockcroft_gault(ctx, p)
        return computed or measured("egfr", True)
    other = measured(_OTHER[label_measure], True)
    if other:
        return other
    computed = _cockcroft_gault(ctx, p)
    return replace(computed, surrogate=True) if computed else None


def _overlaps(value: RenalValue, band: Mapping[str, Any]) -> bool:
    """The value's interval meets the band [from, below)."""
    low_b, high_b = band.get("from", -math.inf), band.get("below", math.inf)
    if value.low == value.high:
        return low_b <= value.low < high_b
    return max(value.low, low_b) < min(value.high, high_b)


def _inside(value: RenalValue, band: Mapping[str, Any]) -> bool:
    """The whole interval of the value lies in the band."""
    low_b, high_b = band.get("from", -math.inf), band.get("below", math.inf)
    if value.low == value.high:
        return low_b <= value.low < high_b
    return low_b <= value.low and (
        value.high < high_b or (value.high_open and value.high <= high_b)
    )


def _ordered(ctx: RuleContext) -> dict[str, Any]:
    order = ctx.order
    return {
        "ordered_dose_mg": order.dose_mg if order else None,
        "ordered_per_day": order.per_day if order else None,
    }


def _dose_missing(ctx: RuleContext, rule_id: str) -> NotAssessed:
    order = ctx.order
    reason = (order.dose_problem if order else None) or "dose or frequency not given"
    return missing(ctx, rule_id, "dose", reason=reason)


def _with_source(ctx: RuleContext, rule_id: str, item: Finding, table: Mapping[str, Any]):
    return replace(item, source=label_source(ctx, rule_id, table))


@jaki_rule(RENAL, applies_to=("jaki",))
def renal_dose(ctx: RuleContext) -> RuleResult:
    """eGFR/CrCl below the drug's threshold for the ordered dose, per label region."""
    p = ctx.params(RENAL)
    section = label_section(ctx, RENAL, "renal")
    if isinstance(section, NotAssessed):
        return [section]
    table, renal = section
    if not renal.get("bands"):
        return []  # the label needs no renal adjustment
    value = renal_value(ctx, renal["measure"])
    if value is None:
        return [missing(ctx, RENAL, "renal", start=s.since(ctx.facts.today, p["window_days"]))]
    low, high = p["plausible"]
    if not low <= value.value <= high:
        extra = {"original": value.original or f"{value.value:g}"}
        return [missing(ctx, RENAL, "implausible", extra=extra)]
    order = ctx.order
    indication = order.indication if order else None
    candidates = []
    for b in renal["bands"]:
        wanted = b.get("indications")
        if wanted and indication is not None and indication not in wanted:
            continue
        if _overlaps(value, b):
            candidates.append(b)
    if not candidates:
        return []
    if len(candidates) > 1 or not _inside(value, candidates[0]):
        extra = {"original": value.original or "?"}
        return [missing(ctx, RENAL, "bound", extra=extra)]
    band = candidates[0]
    if band.get("indications") and indication is None:
        return [missing(ctx, RENAL, "indication")]
    if band.get("checked") is False and not enabled(ctx, RENAL, {}):
        # this band's figure was not read in the label: not configured, like an unread section
        return [missing(ctx, RENAL, "region", extra={"region": region(ctx)})]
    phrase: dict[str, Any] = {
        "measure": value.measure,
        "value": value.value,
        "unit": value.unit,
        "date": next((e.when.isoformat() for e in value.evidence if e.when), None),
        "surrogate": value.surrogate,
        "band": f"{band.get('from', 0):g}-{band.get('below', math.inf):g}",
        "action": band["action"],
        **label_phrase(ctx, table),
        **_ordered(ctx),
    }
    if band["action"] == "not_recommended":
        item = found(ctx, RENAL, p["severity_floor"], evidence=value.evidence, phrase=phrase)
        return [_with_source(ctx, RENAL, item, table)]
    daily = ordered_daily_mg(ctx)
    if daily is None:
        return [_dose_missing(ctx, RENAL)]
    if daily <= band["dose_mg"] * band["per_day"]:
        return []
    phrase.update(dose_mg=band["dose_mg"], per_day=band["per_day"])
    item = found(
        ctx,
        RENAL,
        p["severity"],
        evidence=value.evidence,
        phrase=phrase,
        suggestions=[dose_update(band["dose_mg"], band["per_day"])],
    )
    return [_with_source(ctx, RENAL, item, table)]


_CLASS_RANK = {"A": 0, "B": 1, "C": 2}


def hepatic_class(ctx: RuleContext) -> tuple[str | None, list[Evidence]]:
    """Worst Child-Pugh class from a Child-Pugh result or a hepatic impairment condition."""
    p = ctx.params(HEPATIC)
    found_classes: list[tuple[str, Evidence]] = []
    scores = ctx.facts.observations.get("child_pugh", [])
    if scores and (scores[0].interpretation or "").upper() in _CLASS_RANK:
        found_classes.append((scores[0].interpretation.upper(), s.obs_evidence(scores[0])))  # type: ignore[union-attr]
    for concepts, cls in ((p["severe_concepts"], "C"), (p["moderate_concepts"], "B")):
        for x in s.problems(ctx.facts, concepts, active_only=True):
            found_classes.append((cls, s.problem_evidence(x, concepts[0])))
    if not found_classes:
        return None, []
    worst = max(found_classes, key=lambda item: _CLASS_RANK[item[0]])[0]
    return worst, [e for c, e in found_classes if c == worst]


@jaki_rule(HEPATIC, applies_to=("jaki", "tyk2"))
def hepatic(ctx: RuleContext) -> RuleResult:
    """Severe hepatic impairment: not recommended; tofacitinib in moderate: 5 mg once daily."""
    p = ctx.params(HEPATIC)
    cls, evidence = hepatic_class(ctx)
    if cls is None:
        if s.problems(ctx.facts, p["cirrhosis_concepts"], active_only=True):
            return [missing(ctx, HEPATIC, "child_pugh")]
        start = s.since(ctx.facts.today, p["window_days"])
        if not s.any_observed(ctx.facts, p["liver_panel_concepts"], start):
            return [missing(ctx, HEPATIC, "liver", start=start)]
        return []
    section = label_section(ctx, HEPATIC, "hepatic")
    if isinstance(section, NotAssessed):
        return [section]
    table, hepatic_table = section
    action = hepatic_table.get("classes", {}).get(cls)
    if action is None:
        return []
    phrase: dict[str, Any] = {
        "class": cls,
        "action": action["action"],
        **label_phrase(ctx, table),
        **_ordered(ctx),
    }
    if action["action"] == "not_recommended":
        item = found(ctx, HEPATIC, p["severity"], evidence=evidence, phrase=phrase)
        return [_with_source(ctx, HEPATIC, item, table)]
    daily = ordered_daily_mg(ctx)
    if daily is None:
        return [_dose_missing(ctx, HEPATIC)]
    if daily <= action["dose_mg"] * action["per_day"]:
        return []
    phrase.update(dose_mg=action["dose_mg"], per_day=action["per_day"])
    item = found(
        ctx,
        HEPATIC,
        p["severity_moderate"],
        evidence=evidence,
        phrase=phrase,
        suggestions=[dose_update(action["dose_mg"], action["per_day"])],
    )
    return [_with_source(ctx, HEPATIC, item, table)]


def _same_drug(ctx: RuleContext) -> list[Any]:
    """The patient's current medications of the ordered drug (drafts, like the order under
    review, are not treatment already under way)."""
    order = ctx.order
    if order is None:
        return []
    return [
        m
        for m in s.medications(ctx.facts, [order.drug])
        if m.drug == order.drug and m.ref != order.ref and (m.status or "active") != "draft"
    ]


def therapy_weeks(ctx: RuleContext) -> tuple[bool, float | None]:
    """(already on the drug, weeks since its first recorded start) from the patient's active
    medications of the ordered drug; weeks is None when on it without a start date."""
    same = _same_drug(ctx)
    if not same:
        return False, 0.0
    starts = [m.authored for m in same]
    if any(start is None for start in starts):
        return True, None
    first = min(start for start in starts if start is not None)
    return True, (ctx.facts.today - first).days / 7.0


def _applies(limit: Mapping[str, Any], use: str, age: int | None) -> bool | None:
    """The limit covers this indication and age; None when the age it depends on is unknown."""
    if use not in limit["indications"]:
        return False
    if "min_age" not in limit and "below_age" not in limit:
        return True
    if age is None:
        return None
    return age >= limit.get("min_age", 0) and age < limit.get("below_age", math.inf)


@jaki_rule(DOSE_MAX, applies_to=("jaki",))
def dose_max(ctx: RuleContext) -> RuleResult:
    """Ordered daily dose above the labelled dose for the indication, phase, age and region.

    A limit may hold for an age band (min_age / below_age) and for a phase: an `induction`
    limit holds for its first `weeks` of treatment (a new start, or an active order of the
    same drug started less than `weeks` ago); a `maintenance` limit holds after that."""
    section = label_section(ctx, DOSE_MAX, "dose")
    if isinstance(section, NotAssessed):
        return [section]
    table, dose = section
    if dose.get("silent"):
        return []  # the label sets no maximum
    order = ctx.order
    daily = ordered_daily_mg(ctx)
    if order is None or daily is None:
        return [_dose_missing(ctx, DOSE_MAX)]
    if order.indication is None:
        return [missing(ctx, DOSE_MAX, "indication")]
    limits = dose["limits"]
    labelled = {i for limit in limits for i in limit["indications"]}
    off_label = order.indication not in labelled
    use = dose["reference_indication"] if off_label else order.indication
    age = ctx.facts.age
    on_drug, weeks_on = therapy_weeks(ctx)

    def violated_if(use: str, weeks: float) -> tuple[list[Mapping[str, Any]], bool]:
        """Limits the dose exceeds for indication `use` when treatment is `weeks` old; and
        whether a limit that depends on an unknown age was exceeded."""
        out, age_unknown = [], False
        for limit in limits:
            if daily <= limit["max_daily_mg"]:
                continue
            covers = _applies(limit, use, age)
            if covers is None:
                age_unknown = True
                continue
            phase = limit.get("phase")
            if phase is not None:
                in_induction = weeks < float(limit["weeks"])
                if in_induction != (phase == "induction"):
                    continue
            if covers:
                out.append(limit)
        return out, age_unknown

    def judge(use: str) -> tuple[list[Mapping[str, Any]], bool] | None:
        """violated_if at this treatment's age; None when the phase decides and the start of
        the current treatment is unknown."""
        if weeks_on is not None:
            return violated_if(use, weeks_on)
        at_start, unknown_start = violated_if(use, 0.0)
        later, unknown_later = violated_if(use, math.inf)
        if bool(at_start) != bool(later):
            return None
        return at_start, unknown_start or unknown_later

    judged = judge(use)
    if judged is None:
        return [missing(ctx, DOSE_MAX, "phase")]
    violated, age_unknown = judged
    if violated and order.indication_source == "conditions":
        # the order states no indication and the problem list holds several: a dose labelled
        # for another of them (45 mg upadacitinib with UC and RA on file) is not called above
        # the label; the card asks for the indication instead
        others = [c for c in order.indication_candidates[1:] if c in labelled]
        for other in others:
            fits = judge(other)
            if fits is None or not fits[0]:
                return [missing(ctx, DOSE_MAX, "indication_unstated")]
    if not violated:
        return [missing(ctx, DOSE_MAX, "age")] if age_unknown else []
    worst = max(violated, key=lambda x: (SEVERITY_RANK[x["severity"]], -x["max_daily_mg"]))
    phrase: dict[str, Any] = {
        "dose_mg": worst["dose_mg"],
        "per_day": worst["per_day"],
        "max_daily_mg": worst["max_daily_mg"],
        "indication": order.indication,
        "reference_indication": use,
        "off_label": off_label,
        **label_phrase(ctx, table),
        **_ordered(ctx),
    }
    if "phase" in worst:
        phrase.update(phase=worst["phase"], weeks=worst["weeks"])
    evidence = [Evidence(order.ref, "dose", daily, "mg/d")]
    if "min_age" in worst or "below_age" in worst:
        phrase.update(age=age)
        if "min_age" in worst:
            phrase.update(min_age=worst["min_age"])
        evidence.append(age_evidence(ctx))
    if on_drug and "phase" in worst:
        evidence += [s.med_evidence(m, order.drug) for m in _same_drug(ctx)]
    item = found(
        ctx,
        DOSE_MAX,
        worst["severity"],
        evidence=evidence,
        phrase=phrase,
        suggestions=[dose_update(worst["dose_mg"], worst["per_day"])],
    )
    return [_with_source(ctx, DOSE_MAX, item, table)]

"""JAK-inhibitor rules on age, smoking, MACE and VTE (clinical/SPEC.md §3).

Sources (also in knowledge/rules_jaki.toml): EMA PRAC 2022 Art. 20 review (age >= 65, current
or past long-time smokers, CV and VTE risk: use only if no suitable alternative); ORAL
Surveillance (Ytterberg, NEJM 2022: RA >= 50 years with >= 1 CV risk factor); FDA Drug Safety
Communications 2019-07-26 and 2021-09-01; EMA 2019-11-15 VTE risk factors; seed 000.
"""

from __future__ import annotations

from datetime import date

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    age_evidence,
    conditions_not_found,
    conditions_unavailable,
    found,
    jaki_rule,
    missing,
)
from cds_service.model import Evidence, Problem

AGE_65 = "JAKI-AGE-65"
SMOKER = "JAKI-SMOKER"
MACE = "JAKI-MACE-RISK"
VTE_HISTORY = "JAKI-VTE-HISTORY"
VTE_RISK = "JAKI-VTE-RISK"


@jaki_rule(AGE_65, applies_to=("jaki",))
def age_65(ctx: RuleContext) -> RuleResult:
    """Age >= 65 at the order date: only if no suitable alternative, lowest dose."""
    p = ctx.params(AGE_65)
    age = ctx.facts.age
    if age is None:
        return [missing(ctx, AGE_65, "age")]
    if age >= p["min_age"]:
        phrase = {"age": age, "min_age": p["min_age"]}
        return [found(ctx, AGE_65, p["severity"], evidence=[age_evidence(ctx)], phrase=phrase)]
    return []


def smoking_status(ctx: RuleContext, window_days: int) -> tuple[str | None, Evidence | None]:
    """'current' | 'former' | 'never' | 'unknown' | None (no usable record), with evidence.

    A current-smoker condition, or a current/former answer at any date, counts; a "never"
    answer counts only within `window_days` (older ones are stale, i.e. missing). Worked out
    once per context and window (JAKI-SMOKER and JAKI-MACE-RISK both ask).
    """
    key = f"smoking_status/{window_days}"
    memo = ctx.memo
    known = memo.get(key)
    if known is None:
        known = memo[key] = _smoking_status(ctx, window_days)
    return known  # type: ignore[no-any-return]


def _smoking_status(ctx: RuleContext, window_days: int) -> tuple[str | None, Evidence | None]:
    facts = ctx.facts
    p = ctx.params(SMOKER)
    current = s.problems(facts, p["condition_current"], active_only=True)
    if current:
        return "current", s.problem_evidence(current[0], "current_smoker")
    answers = facts.observations.get("smoking_status", [])
    latest = answers[0] if answers else None
    if latest is not None and latest.interpretation in {"current", "former"}:
        return latest.interpretation, s.obs_evidence(latest)
    former = s.problems(facts, [*p["condition_former"], *p["condition_current"]])
    if former:
        return "former", s.problem_evidence(former[0], "former_smoker")
    if latest is None:
        return None, None
    if latest.interpretation == "never":
        fresh = latest.when >= s.since(facts.today, window_days)
        return ("never" if fresh else None), s.obs_evidence(latest)
    return "unknown", s.obs_evidence(latest)


@jaki_rule(SMOKER, applies_to=("jaki",))
def smoker(ctx: RuleContext) -> RuleResult:
    """Current smoker, or former smoker (duration is not recorded in FHIR smoking status)."""
    p = ctx.params(SMOKER)
    status, ev = smoking_status(ctx, p["window_days"])
    evidence = [ev] if ev else []
    if status == "current" or (status == "former" and p["former_fires"]):
        return [found(ctx, SMOKER, p["severity"], evidence=evidence, phrase={"status": status})]
    if status == "never" or status == "former":
        return []
    if status == "unknown":
        return [missing(ctx, SMOKER, "unknown")]
    start = s.since(ctx.facts.today, p["window_days"])
    return [missing(ctx, SMOKER, "status", start=start)]


def _names(found_problems: list[Problem], wanted: list[str]) -> list[str]:
    return sorted({c for p in found_problems for c in p.concepts if c in wanted})


@jaki_rule(MACE, applies_to=("jaki",))
def mace_risk(ctx: RuleContext) -> RuleResult:
    """Established ASCVD, or age >= 50 with >= 1 CV risk factor (ORAL Surveillance)."""
    p = ctx.params(MACE)
    facts = ctx.facts
    ascvd = s.problems(facts, p["ascvd_concepts"])
    if ascvd:
        names = _names(ascvd, p["ascvd_concepts"])
        ev = [s.problem_evidence(x, n) for x in ascvd for n in sorted(x.concepts) if n in names]
        phrase = {"ascvd": names, "risk_factors": [], "age": facts.age}
        return [found(ctx, MACE, p["severity"], evidence=ev, phrase=phrase)]
    unavailable = conditions_unavailable(ctx, MACE)
    if unavailable:
        return unavailable
    if facts.age is None:
        return [missing(ctx, MACE, "age")]
    if facts.age < p["min_age_with_risk_factor"]:
        return []
    factors: list[str] = []
    evidence: list[Evidence] = [age_evidence(ctx)]
    # each risk condition on file, by name, with the first active problem carrying it
    for name, first in s.first_problems(
        facts, sorted(set(p["risk_condition_concepts"])), active_only=True
    ):
        factors.append(name)
        evidence.append(s.problem_evidence(first, name))
    hdl_start = s.since(facts.today, p["hdl_window_days"])
    hdl = s.newest(
        facts, ["hdl"], hdl_start, lambda o: s.bounds(o) and s.plausible(o, p["hdl_plausible"])
    )
    low_hdl = s.is_below(hdl, p["hdl_below_mg_dl"]) if hdl else None
    if low_hdl:
        factors.append("low_hdl")
        evidence.append(s.obs_evidence(hdl))
    smoking, smoking_ev = smoking_status(ctx, p["smoking_window_days"])
    if smoking == "current" and "current_smoker" not in factors:
        factors.append("current_smoker")
        evidence.append(smoking_ev)  # type: ignore[arg-type]
    if factors:
        phrase = {"ascvd": [], "risk_factors": factors, "age": facts.age}
        return [found(ctx, MACE, p["severity"], evidence=evidence, phrase=phrase)]
    unknown = []
    if smoking in {None, "unknown"}:
        unknown.append("smoking status")
    if low_hdl is None:
        unknown.append("HDL cholesterol")
    if unknown:
        start = s.since(facts.today, min(p["hdl_window_days"], p["smoking_window_days"]))
        return [
            missing(ctx, MACE, "risk_factors", start=start, extra={"what": " or ".join(unknown)})
        ]
    return []


def _latest_date(p: Problem) -> date | None:
    dates = [d for d in (p.onset, p.abatement, p.recorded) if d is not None]
    return max(dates) if dates else None


@jaki_rule(VTE_HISTORY, applies_to=("jaki",))
def vte_history(ctx: RuleContext) -> RuleResult:
    """Prior DVT or PE; critical when recent (window) or while anticoagulated."""
    p = ctx.params(VTE_HISTORY)
    facts = ctx.facts
    events = s.problems(facts, p["concepts"])
    if not events:
        return conditions_not_found(ctx, VTE_HISTORY, active_only=False)
    start = s.since(facts.today, p["recent_days"])
    # recent: the latest date of the record (onset, abatement, recorded) is inside the window,
    # or an active record carries no date at all (an old active entry is not read as recent)
    recent = any((_latest_date(x) or (date.max if x.active else date.min)) >= start for x in events)
    anticoagulants = s.medications(facts, p["anticoagulant_classes"])
    names = _names(events, p["concepts"])
    evidence = [s.problem_evidence(x, n) for x in events for n in sorted(x.concepts) if n in names]
    evidence += [s.med_evidence(m, "anticoagulant") for m in anticoagulants]
    severity = p["severity_recent"] if recent or anticoagulants else p["severity"]
    phrase = {"events": names, "recent": recent, "anticoagulated": bool(anticoagulants)}
    return [found(ctx, VTE_HISTORY, severity, evidence=evidence, phrase=phrase)]


@jaki_rule(VTE_RISK, applies_to=("jaki",))
def vte_risk(ctx: RuleContext) -> RuleResult:
    """VTE risk factors other than a prior VTE (EMA 2019 list; obesity as BMI >= 30)."""
    p = ctx.params(VTE_RISK)
    facts = ctx.facts
    factors: list[str] = []
    evidence: list[Evidence] = []
    for name, first in s.first_problems(
        facts, sorted(set(p["condition_concepts"])), active_only=True
    ):
        factors.append(name)
        evidence.append(s.problem_evidence(first, name))
    cancers = [
        x
        for x in s.problems(facts, p["active_cancer_concepts"], active_only=True)
        if not (x.concepts & set(p["excluded_cancer_concepts"]) and "lymphoma" not in x.concepts)
    ]
    if cancers:
        factors.append("active_cancer")
        evidence.append(s.problem_evidence(cancers[0], "malignancy"))
    surgery_start = s.since(facts.today, p["recent_surgery_days"])
    surgery = [
        x
        for x in s.problems(facts, p["recent_surgery_concepts"])
        if (_latest_date(x) or (date.max if x.active else date.min)) >= surgery_start
    ]
    if surgery:
        factors.append("major_surgery_recent")
        evidence.append(s.problem_evidence(surgery[0], "major_surgery_recent"))
    hormonal = s.medications(facts, p["hormonal_classes"])
    if hormonal:
        factors.append("combined_hormonal")
        evidence += [s.med_evidence(m, "combined_hormonal") for m in hormonal]
    bmi = s.newest(
        facts,
        ["bmi"],
        s.since(facts.today, p["bmi_window_days"]),
        lambda o: s.bounds(o) and s.plausible(o, p["bmi_plausible"]),
    )
    bmi_value = bmi.value if bmi else None
    obese = s.is_at_least(bmi, p["bmi_at_least"]) if bmi else None
    if obese and "obesity" not in factors:
        factors.append("obesity")
        evidence.append(s.obs_evidence(bmi))
    if factors:
        phrase = {"risk_factors": factors, "bmi": bmi_value}
        return [found(ctx, VTE_RISK, p["severity"], evidence=evidence, phrase=phrase)]
    unavailable = conditions_unavailable(ctx, VTE_RISK)
    if unavailable:
        return unavailable
    # no risk factor found: that rests on absence, so conditions not classified are counted
    count = s.unclassified(facts)
    if obese is None:
        start = s.since(facts.today, p["bmi_window_days"])
        if count:
            extra = {"count": count}
            return [missing(ctx, VTE_RISK, "bmi_unclassified", start=start, extra=extra)]
        return [missing(ctx, VTE_RISK, "bmi", start=start)]
    if count:
        return [missing(ctx, VTE_RISK, "conditions_unclassified", extra={"count": count})]
    return []

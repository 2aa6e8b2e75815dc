"""JAK-inhibitor rules on infection: serious infection, infection risk, zoster, live vaccines.

Sources (clinical/SPEC.md §3; knowledge/rules_jaki.toml): product labels (do not start during
a serious infection; avoid live vaccines); seed 000 (Cohen: age, prednisolone > 7.5 mg/day,
diabetes; Winthrop: prior biologic, low or high BMI); ACR 2022 vaccination guideline and EULAR
(seed 000: recombinant zoster vaccine, ideally >= 4 weeks before a JAK inhibitor).
"""

from __future__ import annotations

from cds_service.assess import screening as s
from cds_service.assess.registry import RuleContext, RuleResult
from cds_service.assess.rules.jaki_common import (
    age_evidence,
    conditions_not_found,
    found,
    jaki_rule,
    missing,
)
from cds_service.model import Evidence, Suggestion, Vaccination

SERIOUS = "JAKI-SERIOUS-INFECTION"
RISK = "JAKI-INFECTION-RISK"
ZOSTER = "JAKI-ZOSTER"
LIVE = "JAKI-LIVE-VACCINE"

_GIVEN = {None, "completed"}


def _given(v: Vaccination) -> bool:
    return v.status in _GIVEN


def _vaccine_evidence(v: Vaccination) -> Evidence:
    return Evidence(v.ref, "vaccination", v.cvx, None, v.when)


@jaki_rule(SERIOUS, applies_to=("jaki", "tyk2"))
def serious_infection(ctx: RuleContext) -> RuleResult:
    """Active serious infection on the problem list: do not start until resolved."""
    p = ctx.params(SERIOUS)
    active = s.problems(ctx.facts, p["concepts"], active_only=True)
    if not active:
        return conditions_not_found(ctx, SERIOUS, active_only=True)
    evidence = [s.problem_evidence(x, "serious_infection") for x in active]
    phrase = {"infections": [x.display for x in active if x.display]}
    return [found(ctx, SERIOUS, p["severity"], evidence=evidence, phrase=phrase)]


@jaki_rule(RISK, applies_to=("jaki",))
def infection_risk(ctx: RuleContext) -> RuleResult:
    """Risk factors for serious infection; warning from `warning_at_factors` factors."""
    p = ctx.params(RISK)
    facts = ctx.facts
    factors: list[str] = []
    evidence: list[Evidence] = []
    if facts.age is not None and facts.age >= p["min_age"]:
        factors.append("age")
        evidence.append(age_evidence(ctx))
    prednisone = facts.prednisone_mg_day
    if prednisone is not None and prednisone > p["prednisone_above_mg_day"]:
        factors.append("prednisone")
        evidence.append(
            s.make_evidence(
                "MedicationRequest", "prednisone_mg_day", prednisone, "mg/d", None, (), False, None
            )
        )
    for name, first in s.first_problems(facts, p["condition_concepts"], active_only=True):
        factors.append(name)
        evidence.append(s.problem_evidence(first, name))
    if "biologic_failure" not in factors:
        wanted = frozenset(p["prior_biologic_classes"])
        statuses = p["prior_statuses"]
        prior = [
            m
            for m in facts.medications
            if not wanted.isdisjoint(m.classes) and m.status in statuses
        ]
        if prior:
            factors.append("biologic_failure")
            evidence.append(s.med_evidence(prior[0], "prior_biologic"))
    bmi = s.newest(
        facts,
        ["bmi"],
        s.since(facts.today, p["bmi_window_days"]),
        lambda o: s.bounds(o) and s.plausible(o, p["bmi_plausible"]),
    )
    low = s.is_below(bmi, p["bmi_below"]) if bmi else None
    high = s.is_at_least(bmi, p["bmi_at_least"]) if bmi else None
    bmi_known = low is not None and high is not None
    if low or high:
        if "obesity" not in factors:
            factors.append("bmi")
            evidence.append(s.obs_evidence(bmi))
    if factors:
        many = len(factors) >= p["warning_at_factors"]
        severity = p["severity_many"] if many else p["severity"]
        phrase = {"risk_factors": factors, "count": len(factors)}
        return [found(ctx, RISK, severity, evidence=evidence, phrase=phrase)]
    unknown = []
    if facts.age is None:
        unknown.append("birth date")
    if not bmi_known:
        unknown.append("BMI")
    if s.unavailable(facts, ("conditions",)):
        unknown.append("conditions")
    if s.unavailable(facts, ("medications",)):
        unknown.append("medications")
    if unknown:
        return [missing(ctx, RISK, "inputs", extra={"what": ", ".join(unknown)})]
    return []


@jaki_rule(ZOSTER, applies_to=("jaki",))
def zoster(ctx: RuleContext) -> RuleResult:
    """No recombinant zoster vaccine on file (info) or prior herpes zoster (warning)."""
    p = ctx.params(ZOSTER)
    facts = ctx.facts
    prior = s.problems(facts, p["prior_concepts"])
    vaccines = [v for v in facts.vaccinations if _given(v) and v.cvx in p["recombinant_cvx"]]
    immunizations_unknown = s.unavailable(facts, ("immunizations",))
    vaccinate = [Suggestion("vaccinate", {"cvx": p["suggest_cvx"]})]
    evidence = [s.problem_evidence(x, "herpes_zoster") for x in prior]
    evidence += [_vaccine_evidence(v) for v in vaccines]
    phrase = {
        "prior_zoster": bool(prior),
        "vaccinated": bool(vaccines) if not immunizations_unknown or vaccines else None,
        "weeks_before_start": p["weeks_before_start"],
    }
    if prior:
        suggest = vaccinate if not vaccines and not immunizations_unknown else []
        return [
            found(
                ctx,
                ZOSTER,
                p["severity_prior_zoster"],
                evidence=evidence,
                phrase=phrase,
                suggestions=suggest,
                category="safety",
            )
        ]
    if vaccines:
        return []
    if immunizations_unknown:
        return [missing(ctx, ZOSTER, "immunizations_unavailable", reason=immunizations_unknown)]
    return [
        found(ctx, ZOSTER, p["severity"], evidence=evidence, phrase=phrase, suggestions=vaccinate)
    ]


@jaki_rule(LIVE, applies_to=("jaki", "tyk2"))
def live_vaccine(ctx: RuleContext) -> RuleResult:
    """Live vaccine given within `within_days`, or ordered."""
    p = ctx.params(LIVE)
    facts = ctx.facts
    start = s.since(facts.today, p["within_days"])
    live_codes = set(p["live_cvx"])
    recent = [
        v
        for v in facts.vaccinations
        if _given(v) and (v.live or v.cvx in live_codes) and v.when is not None and v.when >= start
    ]
    ordered = s.medications(facts, p["ordered_classes"])
    if recent or ordered:
        evidence = [_vaccine_evidence(v) for v in recent]
        evidence += [s.med_evidence(m, "live_vaccine") for m in ordered]
        phrase = {
            "vaccines": sorted({v.cvx for v in recent if v.cvx}),
            "within_days": p["within_days"],
            "ordered": bool(ordered),
        }
        return [found(ctx, LIVE, p["severity"], evidence=evidence, phrase=phrase)]
    reason = s.unavailable(facts, ("immunizations",))
    if reason:
        return [missing(ctx, LIVE, "immunizations_unavailable", reason=reason)]
    return []

"""Rheumatoid arthritis context rules (clinical/SPEC.md §4): RA-ACTIVITY, RA-LOW-ACTIVITY,
RA-PAYER-DAS28. Parameters and sources: knowledge/rules_context.toml."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cds_service.assess import context as q
from cds_service.assess.registry import RuleContext, RuleResult, rule
from cds_service.model import Evidence, Finding, NotAssessed, Score
from cds_service.normalise.construct import fast_positional

# Finding with every field, without the frozen-dataclass __init__
make_finding = fast_positional(
    Finding,
    *("rule_id", "severity", "category", "order_ref", "drug"),
    *("evidence", "source", "params", "suggestions"),
)

RA_COMPONENTS = ("tjc28", "sjc28", "ptga_mm", "prga_mm", "esr", "crp")
_NO_SCORE = "DAS28, CDAI or SDAI"


def _refs(ctx: RuleContext) -> dict[str, Any]:
    order = ctx.order
    return {"order_ref": order.ref if order else None, "drug": order.drug if order else None}


def _evidence(scores: list[Score]) -> list[Evidence]:
    seen: set[tuple[str, str]] = set()
    out: list[Evidence] = []
    for s in scores:
        for e in s.evidence:
            if (e.ref, e.label) not in seen:
                seen.add((e.ref, e.label))
                out.append(e)
    return out


def _stale_days(ctx: RuleContext) -> int:
    visit = ctx.knowledge.files.get("scores", {}).get("visit", {})
    return int(visit.get("stale_days", 120))


def _runs(ctx: RuleContext, params: dict[str, Any]) -> bool:
    if ctx.order is None and not q.patient_level_only(ctx.facts):
        return False
    return q.indication_matches(ctx.order, ctx.facts, params["indications"])


@rule("RA-ACTIVITY", applies_to=("jaki", "tyk2", "biologic", "patient"))
def ra_activity(ctx: RuleContext) -> RuleResult:
    """Latest DAS28/CDAI/SDAI with the last three of each, stale or missing stated (seed 000)."""
    p = ctx.params("RA-ACTIVITY")
    if not _runs(ctx, p):
        return []
    ids = frozenset(p["scores"])
    mine = [s for s in ctx.scores if s.id in ids]
    if not mine:
        why = (
            "observations could not be read" if q.unavailable(ctx.facts, q.OBSERVATION_KEYS) else ""
        )
        missing = f"no {_NO_SCORE} on file" + (f" ({why})" if why else "")
        return [
            NotAssessed(
                "RA-ACTIVITY", missing, category="activity", concepts=RA_COMPONENTS, **_refs(ctx)
            )
        ]
    latest: dict[str, Score] = {}
    trend: dict[str, list[dict[str, Any]]] = {}
    iso: dict[date, str] = {}  # the scores of one visit share its date: its text made once
    for s in mine:
        score_id = s.id
        if score_id not in latest:
            latest[score_id] = s
        if score_id != "EULAR-RESPONSE":
            when = s.when
            day = None
            if when:
                day = iso.get(when)
                if day is None:
                    day = iso[when] = when.isoformat()
            entry = {"value": s.value, "category": s.category, "date": day}
            runs = trend.get(score_id)
            if runs is None:
                trend[score_id] = [entry]
            else:
                runs.append(entry)
    eular = latest.pop("EULAR-RESPONSE", None)
    newest = max((s.when for s in latest.values() if s.when), default=None)
    params = {
        "latest": [q.score_summary(s) for s in latest.values()],
        "trend": trend,
        "stale": all(s.stale for s in latest.values()) if latest else True,
        "eular": (
            {**eular.inputs, "category": eular.category, "value": eular.value}
            if eular is not None
            else None
        ),
    }
    visit = [s for s in latest.values() if s.when == newest]
    order = ctx.order
    return [
        make_finding(
            "RA-ACTIVITY",
            p["severity"],
            p["category"],
            order.ref if order else None,
            order.drug if order else None,
            _evidence(visit),
            p["source"],
            params,
            [],
        )
    ]


@rule("RA-LOW-ACTIVITY", applies_to=("jaki", "tyk2", "biologic"))
def ra_low_activity(ctx: RuleContext) -> RuleResult:
    """Escalation (a new JAK inhibitor or biologic for RA) while the newest activity is
    remission or low on every index measured at that visit (treat-to-target; seed 000)."""
    p = ctx.params("RA-LOW-ACTIVITY")
    order = ctx.order
    if order is None or order.indication not in p["indications"]:
        return []
    if any(m.drug == order.drug for m in q.active_medications(ctx.facts)):
        return []  # continuation of the same drug, not an escalation
    ids = frozenset(p["scores"])
    valid = [s for s in ctx.scores if s.id in ids and s.value is not None and s.when]
    if not valid:
        return [
            NotAssessed(
                "RA-LOW-ACTIVITY",
                f"no {_NO_SCORE} on file",
                category="activity",
                concepts=RA_COMPONENTS,
                **_refs(ctx),
            )
        ]
    newest = max(s.when for s in valid if s.when)
    start = ctx.facts.today - timedelta(days=_stale_days(ctx))
    if newest < start:
        return [
            NotAssessed(
                "RA-LOW-ACTIVITY",
                f"no {_NO_SCORE} since {start.isoformat()}",
                category="activity",
                since=start,
                concepts=RA_COMPONENTS,
                **_refs(ctx),
            )
        ]
    visit = [s for s in valid if s.when == newest]
    if not all(s.category in p["low_categories"] for s in visit):
        return []
    return [
        Finding(
            rule_id="RA-LOW-ACTIVITY",
            severity=p["severity"],
            category=p["category"],
            evidence=_evidence(visit),
            source=p["source"],
            params={
                "scores": [
                    {
                        "id": s.id,
                        "value": s.value,
                        "category": s.category,
                        "date": newest.isoformat(),
                    }
                    for s in visit
                ],
                "date": newest.isoformat(),
            },
            **_refs(ctx),
        )
    ]


@rule("RA-PAYER-DAS28", applies_to=("jaki", "tyk2", "biologic"))
def ra_payer_das28(ctx: RuleContext) -> RuleResult:
    """Institution switch (off by default): the payer asks for a recent DAS28 above a threshold
    with the application (seed 000: Taiwan NHI; threshold *verify*)."""
    p = ctx.params("RA-PAYER-DAS28")
    order = ctx.order
    if not p.get("enabled", False) or order is None or order.indication not in p["indications"]:
        return []
    start = ctx.facts.today - timedelta(days=int(p["max_age_days"]))
    recent = [
        s
        for s in ctx.scores
        if s.id in p["forms"] and s.value is not None and s.when and s.when >= start
    ]
    if not recent:
        return [
            NotAssessed(
                "RA-PAYER-DAS28",
                f"no DAS28 since {start.isoformat()} (required by {p['payer']})",
                category="activity",
                since=start,
                concepts=RA_COMPONENTS,
                **_refs(ctx),
            )
        ]
    newest = max(recent, key=lambda s: s.when or start)
    assert newest.value is not None and newest.when is not None
    if newest.value > float(p["min_das28"]):
        return []
    return [
        Finding(
            rule_id="RA-PAYER-DAS28",
            severity=p["severity"],
            category=p["category"],
            evidence=list(newest.evidence),
            source=p["source"],
            params={
                "payer": p["payer"],
                "das28": newest.value,
                "form": newest.id,
                "date": newest.when.isoformat(),
                "min_das28": p["min_das28"],
            },
            **_refs(ctx),
        )
    ]

"""Small pure queries over Facts shared by the disease-context and infliximab rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from cds_service.assess import screening
from cds_service.model import (
    Evidence,
    Facts,
    Finding,
    Medication,
    NotAssessed,
    Observed,
    Order,
    Problem,
    Score,
    sent_as,
)

MEDICATION_KEYS = ("medications",)
CONDITION_KEYS = ("conditions",)
OBSERVATION_KEYS = ("observations",)


def unavailable(facts: Facts, kinds: Sequence[str]) -> bool:
    """True when gather could not obtain data of one of these kinds (never read as "none").

    Kinds as in cds_service.assess.screening.unavailable: observations, conditions, medications.
    """
    return screening.unavailable(facts, kinds) is not None


def active_problems(facts: Facts, concepts: Iterable[str]) -> list[Problem]:
    """Active problems carrying any of `concepts`, each once, in Facts order."""
    return screening.problems(facts, concepts, active_only=True)


def has_condition(facts: Facts, concepts: Iterable[str]) -> bool:
    return bool(active_problems(facts, concepts))


def active_medications(facts: Facts) -> list[Medication]:
    """Medications normalise kept, except those explicitly stopped or entered in error."""
    ended = {"stopped", "completed", "cancelled", "entered-in-error", "not-taken", "revoked"}
    return [m for m in facts.medications if (m.status or "active") not in ended]


def since(facts: Facts, days: int) -> date:
    return facts.today - timedelta(days=days)


def observed_since(facts: Facts, concept: str, days: int) -> list[Observed]:
    """Results of `concept` no older than `days` before the order date, newest first."""
    start = since(facts, days)
    found = []
    for o in facts.observations.get(concept, ()):  # newest first: stop at the first older one
        if o.when < start:
            break
        found.append(o)
    return found


def evidence_of(o: Observed) -> Evidence:
    value: Any = o.value if o.value is not None else (o.interpretation or o.original)
    sent = sent_as(o.original, o.value, o.unit) if o.comparable else None
    return screening.make_evidence(o.ref, o.concept, value, o.unit, o.when, (), o.by_name, sent)


def problem_evidence(p: Problem, label: str) -> Evidence:
    when = p.onset or p.recorded
    return screening.make_evidence(
        p.ref, f"condition:{label}", p.display, None, when, (), False, None
    )


def score_summary(s: Score) -> dict[str, Any]:
    return {
        "id": s.id,
        "value": s.value,
        "category": s.category,
        "date": s.when.isoformat() if s.when else None,
        "stale": s.stale,
        "mismatch": s.mismatch,
        "recorded_total": s.recorded_total,
        "problem": s.problem,
    }


def indication_matches(order: Order | None, facts: Facts, indications: Sequence[str]) -> bool:
    """With an order: its indication is one of `indications`. Without: the patient has one."""
    if order is not None:
        return order.indication in indications
    return has_condition(facts, indications)


def patient_level_only(facts: Facts) -> bool:
    """Rules registered for "patient" run on their own only when no target drug is ordered
    (patient-view); on order hooks the same rule runs once per order instead."""
    return not facts.orders


def off_label_use(
    rule_id: str,
    p: dict[str, Any],
    order: Order | None,
    facts: Facts,
    condition: str,
    params: dict[str, Any],
) -> list[Finding | NotAssessed]:
    """An order for one of the rule's `indications` is off-label (PMR-OFF-LABEL,
    ROSACEA-OFF-LABEL): a finding citing the order's indication; not assessed when the
    order's indication is unknown but the patient has the condition; nothing otherwise."""
    if order is None:
        return []
    if order.indication is None and has_condition(facts, p["indications"]):
        return [
            NotAssessed(
                rule_id,
                f"indication of the order (the patient has {condition})",
                category="activity",
                order_ref=order.ref,
                drug=order.drug,
            )
        ]
    if order.indication not in p["indications"]:
        return []
    return [
        Finding(
            rule_id=rule_id,
            severity=p["severity"],
            category=p["category"],
            order_ref=order.ref,
            drug=order.drug,
            evidence=[Evidence(ref=order.ref, label="order:indication", value=order.indication)],
            source=p["source"],
            params=params,
        )
    ]

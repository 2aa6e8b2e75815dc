"""Stage 4: normalise a `PatientRecord` (raw FHIR JSON) into `Facts` (concepts, canonical units).

No I/O and no FHIR model validation: plain dict reads against look-up tables built once when the
knowledge was loaded. What cannot be read is listed in `Facts.dropped` with a PHI-free reason.

Indication of each order (SPEC.md section 2): the order's own reason (reasonCode,
reasonReference to a contained Condition or to a Condition of the record, R5 `reason`,
DSTU2 reasonCodeableConcept) -> indication_source "reasonCode"; else the active Conditions
-> indication_source "conditions"; else None (stated as unknown). Several candidates are ranked
by the drug's labelled indications (medications.toml `indications`), then by the priority of
conditions.toml [_indications] (RA first, rosacea last: an order for a patient with RA and
rosacea is taken as for RA, so JAKI-PARADOXICAL-ROSACEA can fire).

A weight-based order (mg/kg, infliximab) gets dose_mg from the latest body weight of the last
365 days; without one it keeps dose_mg None and says so in dose_problem.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from cds_service.fhir_json import Condition, as_dict
from cds_service.knowledge import Knowledge
from cds_service.knowledge.index import ValueSets
from cds_service.model import Facts, Order, PatientRecord, Problem
from cds_service.normalise.conditions import condition_concepts, normalise_conditions
from cds_service.normalise.dosage import problem as dose_problem
from cds_service.normalise.fhir import as_list, contained, forget_values
from cds_service.normalise.immunizations import normalise_immunizations
from cds_service.normalise.medications import normalise_medications, prednisone_equivalent
from cds_service.normalise.observations import normalise_observations
from cds_service.normalise.orders import recognise_orders
from cds_service.normalise.patient import demographics

WEIGHT_MAX_AGE_DAYS = 365

__all__ = ["normalise", "recognise_orders"]


def normalise(
    record: PatientRecord,
    orders: list[Order],
    knowledge: Knowledge,
    today: date,
    co_orders: list[dict[str, Any]] | None = None,
) -> Facts:
    """Facts of `record` for `orders` as of `today` (the order date).

    `co_orders` are the request's other draft orders (not the targets under review): a
    clarithromycin or a live vaccine ordered in the same session counts for the interaction
    and vaccine rules like an active medication (its status stays "draft").
    """
    # the dates as sent are remembered while this record is read, not after it: none of a
    # chart's values outlives its call in the worker's memory
    forget_values()
    try:
        return _normalise(record, orders, knowledge, today, co_orders)
    finally:
        forget_values()


def _normalise(
    record: PatientRecord,
    orders: list[Order],
    knowledge: Knowledge,
    today: date,
    co_orders: list[dict[str, Any]] | None,
) -> Facts:
    vs = knowledge.vs
    age, sex, birth = demographics(record.patient, today)
    observations, dropped = normalise_observations(record.observations, vs, record.distinct)
    problems, unclassified = normalise_conditions(record.conditions, vs, record.distinct)
    meds, med_dropped = normalise_medications(
        [*record.medication_requests, *(co_orders or ())], record.medication_statements, vs
    )
    vaccinations, vac_dropped = normalise_immunizations(record.immunizations, vs)
    weight = _recent_weight(observations, today)
    filled = [_complete_order(order, record, problems, vs, weight) for order in orders]
    return Facts(
        today=today,
        orders=filled,
        age=age,
        sex=sex,
        birth_date=birth,
        observations=observations,
        problems=problems,
        medications=meds,
        vaccinations=vaccinations,
        prednisone_mg_day=prednisone_equivalent(meds, vs),
        unavailable=list(record.unavailable),
        dropped=dropped + med_dropped + vac_dropped,
        unclassified_conditions=unclassified,
    )


def _recent_weight(observations, today: date) -> float | None:
    for obs in observations.get("body_weight", ()):
        if obs.value is not None and obs.when >= today - timedelta(days=WEIGHT_MAX_AGE_DAYS):
            return obs.value
    return None


def _complete_order(
    order: Order,
    record: PatientRecord,
    problems: list[Problem],
    vs: ValueSets,
    weight_kg: float | None,
) -> Order:
    candidates, source = order_indication(order, record, problems, vs)
    changes: dict[str, Any] = {
        "indication": candidates[0] if candidates else None,
        "indication_source": source,
        "indication_candidates": candidates,
    }
    if order.dose_mg is None and order.dose_mg_per_kg is not None:
        if weight_kg is not None:
            changes["dose_mg"] = round(order.dose_mg_per_kg * weight_kg, 1)
        elif order.dose_problem is None:
            changes["dose_problem"] = dose_problem("no_weight")
    return replace(order, **changes)


def _reason_concepts(resource: dict[str, Any], record: PatientRecord, vs: ValueSets) -> set[str]:
    found: set[str] = set()
    reasons: list[Any] = list(as_list(resource.get("reasonCode")))
    reasons += as_list(resource.get("reasonCodeableConcept"))
    refs: list[Any] = list(as_list(resource.get("reasonReference")))
    for item in as_list(resource.get("reason")):  # R5 CodeableReference
        if isinstance(item, dict):
            if item.get("concept") is not None:
                reasons.append(item["concept"])
            if item.get("reference") is not None:
                refs.append(item["reference"])
    for cc in reasons:
        found |= condition_concepts(vs, cc)[0]
    by_id: dict[str, Any] = {}
    for c in record.conditions if refs else ():  # only an order with a reasonReference
        rid = c.id if type(c) is Condition else c.get("id") if isinstance(c, dict) else None
        if isinstance(rid, str):
            by_id[rid] = c
    for ref in refs:
        target = contained(resource, ref)
        if target is None and isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            target = by_id.get(ref["reference"].rstrip("/").rsplit("/", 1)[-1])
            if type(target) is Condition:  # decoded typed (fhir_json)
                target = as_dict(target)
        if isinstance(target, dict):
            found |= condition_concepts(vs, target.get("code"))[0]
        elif isinstance(ref, dict) and isinstance(ref.get("display"), str):
            found |= condition_concepts(vs, {"text": ref["display"]})[0]
    return found


def _rank(candidates: set[str], drug_id: str, vs: ValueSets) -> tuple[str, ...]:
    drug = vs.drugs.get(drug_id)
    order = list(drug.indications if drug is not None else ()) + list(vs.indication_priority)
    return tuple(
        sorted(candidates, key=lambda c: (order.index(c) if c in order else len(order), c))
    )


def order_indication(
    order: Order, record: PatientRecord, problems: list[Problem], vs: ValueSets
) -> tuple[tuple[str, ...], str | None]:
    """(candidate indication ids, best first; "reasonCode" | "conditions" | None) of a
    recognised order: the order's own reason, else the active conditions."""
    reason = {
        vs.indication_concepts[c]
        for c in _reason_concepts(order.resource, record, vs)
        if c in vs.indication_concepts
    }
    if reason:
        return _rank(reason, order.drug, vs), "reasonCode"
    active = {
        vs.indication_concepts[c]
        for p in problems
        if p.active
        for c in p.concepts
        if c in vs.indication_concepts
    }
    if active:
        return _rank(active, order.drug, vs), "conditions"
    return (), None

"""Unit conversion to the canonical unit of an observation concept.

Factors live in knowledge/valuesets/units.toml (each with its source: UCUM definitions, molar
masses for creatinine 88.4 and lipids 38.67 / 88.57). Units are never assumed: a value without
unit is read only when the concept is a count or score, or when its code fixes the scale
(observations.toml `bare_unit`, e.g. a 0-10 numeric rating read as cm of a 10 cm VAS).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from cds_service.knowledge.index import ObsCode, ValueSets, remember

_SCALE_UNITS = frozenset({"", "{score}", "1", "{count}"})


class Converted(NamedTuple):  # a tuple: built once per observation, cheaper than a dataclass
    value: float | None  # in the canonical unit; None when not convertible
    unit: str | None  # canonical unit, or the unit as sent when kept unconverted
    comparable: bool = True
    problem: str | None = None  # PHI-free reason when the value cannot be used


def convert(vs: ValueSets, obs: ObsCode, value: float, unit: str | None) -> Converted:
    """`value` `unit` of `obs.concept` in the concept's canonical unit, or the reason why not.

    Examples: CRP 1.2 mg/dL -> 12 mg/L; PtGA 5 without unit on the 0-10 code 75894-6 -> 50 mm.
    """
    factor, canonical, problem = conversion_plan(vs, obs, unit)
    if problem is not None:
        return Converted(None, None, problem=problem)
    if factor is None:
        return Converted(value, unit, comparable=False)
    # No range check here: out-of-range inputs (TJC 29, a negative ESR, 45 on a 0-10 scale)
    # are passed on converted, so that the score rejects them with the reason (SPEC.md
    # section 1) instead of reporting the input as missing.
    return Converted(round6(value * factor), canonical)


Plan = tuple[float | None, str | None, str | None]  # (factor, canonical unit, problem)


def conversion_plan(vs: ValueSets, obs: ObsCode, unit: Any) -> Plan:
    """How a value of `obs` in `unit` converts: (factor, canonical unit, None); (None, None,
    None) when it is kept unconverted (not comparable); (None, None, problem) when it cannot be
    used. Memoised in the index per (concept, bare unit, unit)."""
    key = (obs.concept, obs.bare_unit, unit if isinstance(unit, str) else None)
    plan = vs.unit_plans.get(key)
    if plan is None:
        plan = _plan(vs, obs, unit)
        remember(vs.unit_plans, key, plan)
    return plan


def _plan(vs: ValueSets, obs: ObsCode, unit: Any) -> Plan:
    concept = obs.concept
    rule = vs.units.get(concept)
    if rule is None:
        return None, None, f"no unit conversion known for {concept}"
    key = vs.unit_key(unit)
    factor = rule.factors.get(key)
    if factor is None and obs.bare_unit is not None and key in _SCALE_UNITS:
        factor = rule.factors.get(vs.unit_key(obs.bare_unit))
    if factor is None:
        if rule.keep_unconvertible:  # shown as sent, never judged (with no unit too)
            return None, None, None
        if not key:
            return None, None, f"no unit for {concept}"
        return None, None, f"unit {key!r} not convertible for {concept}"
    return factor, rule.canonical, None


def round6(value: float) -> float:
    """round(value, 6), memoised: lab values repeat, and rounding a float to digits is slow.
    A zero is returned as is (the memo would confuse 0.0 and -0.0)."""
    return _round6_memo(value) if value else value


@lru_cache(maxsize=8192)
def _round6_memo(value: float) -> float:
    return round(value, 6)

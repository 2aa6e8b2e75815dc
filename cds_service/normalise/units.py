"""Unit conversion to the canonical unit of an observation concept.

Factors live in knowledge/valuesets/units.toml (each with its source: UCUM definitions, molar
masses for creatinine 88.4 and lipids 38.67 / 88.57). Units are never assumed: a value without
unit is read only when the concept is a count or score, or when its code fixes the scale
(observations.toml `bare_unit`, e.g. a 0-10 numeric rating read as cm of a 10 cm VAS).
"""

from __future__ import annotations

from dataclasses import dataclass

from cds_service.knowledge.index import ObsCode, ValueSets

_SCALE_UNITS = frozenset({"", "{score}", "1", "{count}"})


@dataclass(frozen=True)
class Converted:
    value: float | None  # in the canonical unit; None when not convertible
    unit: str | None  # canonical unit, or the unit as sent when kept unconverted
    comparable: bool = True
    problem: str | None = None  # PHI-free reason when the value cannot be used


def convert(vs: ValueSets, obs: ObsCode, value: float, unit: str | None) -> Converted:
    """`value` `unit` of `obs.concept` in the concept's canonical unit, or the reason why not.

    Examples: CRP 1.2 mg/dL -> 12 mg/L; PtGA 5 without unit on the 0-10 code 75894-6 -> 50 mm.
    """
    concept = obs.concept
    rule = vs.units.get(concept)
    if rule is None:
        return Converted(None, None, problem=f"no unit conversion known for {concept}")
    key = vs.unit_key(unit)
    factor = rule.factors.get(key)
    if factor is None and obs.bare_unit is not None and key in _SCALE_UNITS:
        factor = rule.factors.get(vs.unit_key(obs.bare_unit))
    if factor is None:
        if rule.keep_unconvertible and key:
            return Converted(value, unit, comparable=False)
        if not key:
            return Converted(None, None, problem=f"no unit for {concept}")
        return Converted(None, None, problem=f"unit {key!r} not convertible for {concept}")
    # No range check here: out-of-range inputs (TJC 29, a negative ESR, 45 on a 0-10 scale)
    # are passed on converted, so that the score rejects them with the reason (SPEC.md
    # section 1) instead of reporting the input as missing.
    return Converted(round(value * factor, 6), rule.canonical)

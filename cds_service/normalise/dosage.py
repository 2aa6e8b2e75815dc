"""Dose per administration (mg) and administrations per day from `dosageInstruction`.

Read, never guessed (SPEC.md section 2): a dose that cannot be read gives `problem` instead.
- dose: doseAndRate[].doseQuantity (an array, or a single object as some senders give it), or
  doseQuantity directly on the dosage (STU3/DSTU2); mass units are converted to mg; a dose in
  tablets/capsules/syringes is multiplied by the strength found in the medication name
  ("tofacitinib 5 MG Oral Tablet", "ゼルヤンツ錠5mg") when exactly one strength is there; a
  volume is multiplied by a "mg/mL" concentration; "mg/kg" is kept as a weight-based dose.
- frequency: timing.repeat frequency / period / periodUnit (s, min, h, d, wk, mo, a), else
  timing.code (BID, QD, TID... or the same word as text), else repeat.timeOfDay / repeat.when.
- several dosage lines with the same dose add their frequencies.
- a count of units: a dose-form word (tablet, 錠...) or any UCUM annotation (`{pill}`,
  `{tbl}`, `{capsule}`, `{puff}`: an annotation is a unit of 1 in UCUM, i.e. a count), or no
  unit at all for an oral solid product; multiplied by the strength of the product code
  (RxNorm SCD/SBD with its strength in medications.toml) or, without one, by the single
  strength named in the medication text. Code and text naming different strengths: not read.

`problem` is one of the phrases of PROBLEMS (English, PHI-free, shown in the card's language
by the renderer through the same keys).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cds_service.knowledge.index import ValueSets, norm_text
from cds_service.normalise.fhir import as_list, codings, concept_texts, number

_STRENGTH = re.compile(
    r"(\d+(?:\.\d+)?)\s*(mg|mcg|ug|g|毫克|微克|克)(?:\s*/\s*(ml|毫升))?(?![a-z])"
)
_ANNOTATION = re.compile(r"\{[^{}]*\}")  # a UCUM annotation alone: a count
_VOLUME = re.compile(r"(\d+(?:\.\d+)?)\s*ml(?![a-z/])")
_TEXT_MASS = {
    "mg": 1.0,
    "毫克": 1.0,
    "mcg": 0.001,
    "ug": 0.001,
    "微克": 0.001,
    "g": 1000.0,
    "克": 1000.0,
}


# why a dose could not be read: key -> English phrase ({unit} is the unit as sent)
PROBLEMS: dict[str, str] = {
    "no_dosage": "no dosage instructions",
    "no_quantity": "no dose quantity",
    "range": "dose given as a range",
    "no_value": "dose quantity without value",
    "no_strength": "dose in {unit} and no strength in the medication name",
    "several_strengths": "dose in units and several strengths in the medication name",
    "strength_conflict": "the product code and the medication name give different strengths",
    "no_unit": "dose without unit",
    "unit": "dose unit {unit} not readable",
    "as_needed": "taken as needed",
    "no_frequency": "no frequency",
    "several_lines": "several dosage lines with different doses",
    "no_weight": "weight-based dose and no body weight in the last year",
    "other": "dose or frequency not given",
    "several_drugs": "the medication names several drugs",
}


def problem(key: str, **fields: str) -> str:
    """The PROBLEMS phrase `key` with its fields filled in."""
    return PROBLEMS[key].format(**fields)


@dataclass(frozen=True)
class Dose:
    dose_mg: float | None = None
    per_day: float | None = None
    per_kg_mg: float | None = None
    problem: str | None = None


def strengths(texts: tuple[str, ...] | list[str]) -> tuple[set[float], set[float], set[float]]:
    """(plain mg strengths, mg/mL concentrations, mL volumes) named in the medication texts."""
    plain: set[float] = set()
    per_ml: set[float] = set()
    volumes: set[float] = set()
    for text in texts:
        text_plain, text_per_ml, text_volumes = _text_strengths(text)
        plain |= text_plain
        per_ml |= text_per_ml
        volumes |= text_volumes
    return plain, per_ml, volumes


@lru_cache(maxsize=4096)
def _text_strengths(text: str) -> tuple[frozenset[float], frozenset[float], frozenset[float]]:
    """strengths() of one text, memoised (a record repeats the same medication names)."""
    plain: set[float] = set()
    per_ml: set[float] = set()
    volumes: set[float] = set()
    low = norm_text(text).replace("μ", "u").replace("µ", "u")
    for value, unit, ml in _STRENGTH.findall(low):
        mg = float(value) * _TEXT_MASS[unit]
        (per_ml if ml else plain).add(round(mg, 6))
    for value in _VOLUME.findall(low):
        volumes.add(float(value))
    return frozenset(plain), frozenset(per_ml), frozenset(volumes)


def _dose_quantity(dosage: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    for item in as_list(dosage.get("doseAndRate")):
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("doseQuantity"), dict):
            return item["doseQuantity"], None
        if item.get("doseRange") is not None:
            return None, problem("range")
    if isinstance(dosage.get("doseQuantity"), dict):
        return dosage["doseQuantity"], None
    if dosage.get("doseRange") is not None:
        return None, problem("range")
    return None, problem("no_quantity")


Strength = tuple[float | None, float | None]  # (mg per unit, mg per mL) of the product code


def _unit_of(qty: dict[str, Any]) -> tuple[str, str]:
    """(normalised unit, unit as sent) of a Quantity: its code, else its unit (DSTU1 `units`)."""
    raw = qty.get("code")
    if not isinstance(raw, str) or not raw.strip():
        raw = qty.get("unit")
    if not isinstance(raw, str) or not raw.strip():
        raw = qty.get("units")
    if not isinstance(raw, str):
        return "", ""
    unit = unicodedata.normalize("NFKC", norm_text(raw)).replace("µ", "u").replace("μ", "u")
    return unit, raw.strip()


def _is_count(unit: str, vs: ValueSets) -> bool:
    return unit in vs.unit_dose_forms or unit == "1" or _ANNOTATION.fullmatch(unit) is not None


def _mg(
    qty: dict[str, Any], texts, vs: ValueSets, product: Strength = (None, None)
) -> tuple[float | None, float | None, str | None]:
    """(mg, mg/kg, problem) of one doseQuantity."""
    value = number(qty.get("value"))
    if value is None:
        return None, None, problem("no_value")
    unit, sent = _unit_of(qty)
    if unit in vs.dose_units:
        return value * vs.dose_units[unit], None, None
    if unit in vs.per_kg_units:
        return None, value * vs.per_kg_units[unit], None
    plain, per_ml, volumes = strengths(texts)
    unit_mg, ml_mg = product
    if unit_mg is not None and plain and plain != {unit_mg}:
        return None, None, problem("strength_conflict")
    if ml_mg is not None and per_ml and per_ml != {ml_mg}:
        return None, None, problem("strength_conflict")
    if _is_count(unit, vs):
        if unit_mg is not None:
            return value * unit_mg, None, None
        if len(plain) == 1:
            return value * next(iter(plain)), None, None
        if not plain and len(per_ml) == 1 and len(volumes) == 1:
            return value * next(iter(per_ml)) * next(iter(volumes)), None, None
        if not plain:
            return None, None, problem("no_strength", unit=sent or "units")
        return None, None, problem("several_strengths")
    if unit == "ml":
        if ml_mg is not None:
            return value * ml_mg, None, None
        if len(per_ml) == 1:
            return value * next(iter(per_ml)), None, None
    if not unit:
        # a bare number of an oral solid product (RxNorm "... 5 MG Oral Tablet") counts units
        # of that product, as Synthea and several EHRs send it; anything else is not guessed
        if unit_mg is not None:
            return value * unit_mg, None, None
        if len(plain) == 1 and _solid_form(texts, vs):
            return value * next(iter(plain)), None, None
        return None, None, problem("no_unit")
    return None, None, problem("unit", unit=repr(sent))


def _solid_form(texts, vs: ValueSets) -> bool:
    return any(form in norm_text(text) for text in texts for form in vs.solid_form_words)


def _per_day(dosage: dict[str, Any], vs: ValueSets) -> tuple[float | None, str | None]:
    timing = dosage.get("timing")
    timing = timing if isinstance(timing, dict) else {}
    repeat = timing.get("repeat") if isinstance(timing.get("repeat"), dict) else {}
    period = number(repeat.get("period"))
    unit = repeat.get("periodUnit") or repeat.get("periodUnits")  # DSTU2 spelling
    if period and isinstance(unit, str) and unit in vs.period_days:
        frequency = number(repeat.get("frequency")) or 1.0
        return frequency / (period * vs.period_days[unit]), None
    for coding in codings(timing.get("code")):
        code = coding.get("code")
        if isinstance(code, str) and code.strip().upper() in vs.timing_codes:
            return vs.timing_codes[code.strip().upper()], None
    for text in concept_texts(timing.get("code")):
        if text.strip().upper() in vs.timing_codes:
            return vs.timing_codes[text.strip().upper()], None
    if repeat.get("timeOfDay"):
        return float(len(as_list(repeat["timeOfDay"]))), None
    if repeat.get("when"):
        return float(len(as_list(repeat["when"]))), None
    if dosage.get("asNeededBoolean") is True or dosage.get("asNeeded") is True:
        return None, problem("as_needed")
    return None, problem("no_frequency")


def _one(dosage: dict[str, Any], texts, vs: ValueSets, product: Strength) -> Dose:
    qty, trouble = _dose_quantity(dosage)
    mg = per_kg = None
    if qty is not None:
        mg, per_kg, trouble = _mg(qty, texts, vs, product)
    per_day, freq_problem = _per_day(dosage, vs)
    return Dose(mg, per_day, per_kg, trouble or freq_problem)


def read_dose(
    items: list[dict[str, Any]], texts, vs: ValueSets, product: Strength = (None, None)
) -> Dose:
    """Dose of an order's dosage lines; `problem` says what could not be read. `product` is the
    (mg per unit, mg per mL) strength of the order's product code, when it has one."""
    if not items:
        return Dose(problem=problem("no_dosage"))
    doses = [_one(d, texts, vs, product) for d in items]
    if len(doses) == 1:
        return _round(doses[0])
    first = doses[0]
    same = all(d.dose_mg == first.dose_mg and d.per_kg_mg == first.per_kg_mg for d in doses)
    if not same:
        return Dose(problem=problem("several_lines"))
    problems = [d.problem for d in doses if d.problem]
    if problems:
        return Dose(first.dose_mg, None, first.per_kg_mg, problems[0])
    return _round(Dose(first.dose_mg, sum(d.per_day or 0.0 for d in doses), first.per_kg_mg))


def _round(dose: Dose) -> Dose:
    def r(x: float | None) -> float | None:
        return round(x, 6) if x is not None else None

    return Dose(r(dose.dose_mg), dose.per_day, r(dose.per_kg_mg), dose.problem)

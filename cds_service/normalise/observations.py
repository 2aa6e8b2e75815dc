"""Observations -> `Observed` values per concept, in canonical units, newest first.

Rules (SPEC.md section 1 input rules, issue 5 point 2):
- entered-in-error and cancelled results are ignored; every other status is read;
- the date is effectiveDateTime, else effectivePeriod.start, effectiveInstant, issued;
- the code and each `component` code are matched (a CDAI panel, a blood-pressure panel);
- valueQuantity, valueInteger, valueString ("<0.5", "1.2 mg/dL", "陽性") and
  valueCodeableConcept (SNOMED / LOINC answer codes, text) are read; numbers are converted to the
  concept's canonical unit or dropped with the reason, never assumed;
- a qualitative concept sent as a number is read from Observation.interpretation (POS/NEG...);
- a differential percentage (JLAC10 neutrophils / lymphocytes in %, `percent_of = "wbc"`)
  becomes an absolute count with the white cell count of the same day (ANC = WBC x % / 100);
  a measured absolute count of that day wins; without a same-day WBC, or without the unit "%"
  (0.4 with no unit may be a fraction or 0.4 %), it is dropped, not guessed;
- what cannot be read goes to `Dropped` with a PHI-free reason.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from operator import itemgetter
from typing import Any, overload

from cds_service.fhir_json import UNSET, Observation, Quantity, Raw, as_dict, raw_json
from cds_service.knowledge.index import ObsCode, ValueSets, norm_text, remember
from cds_service.model import Dropped, Observed, sent_as
from cds_service.normalise.construct import fast_constructor, fast_positional
from cds_service.normalise.fhir import (
    MEMO_LONGEST,
    SEEN_DAYS,
    as_list,
    codings,
    concept_texts,
    first_date,
    number,
    parse_date,
    ref_of,
)
from cds_service.normalise.units import conversion_plan, round6

IGNORED_STATUS = frozenset({"entered-in-error", "cancelled"})
NAME_SYSTEM = "name"  # Observed.code of a result recognised by its name
NAME_PREFIX = NAME_SYSTEM + "|"
DATE_PATHS = ("effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued")
_NUMERIC_STRING = re.compile(r"^(<=|>=|<|>|≤|≥|=)?\s*([-+]?\d+(?:[.,]\d+)?)\s*(.*)$")
_COMPARATORS = {"≤": "<=", "≥": ">=", "=": None}
_INF = math.inf
# a float `:g` writes without exponent (precision 6): 1e-4 <= |value| < 999 999.5, or 0 (a
# margin kept on both sides: a value near either bound takes the written path)
_PLAIN_G = 999_999.0
_TINY_G = 0.000_11
_new_observed = fast_constructor(Observed)  # hundreds per record (see construct.py)
_numeric_observed = fast_positional(
    Observed,
    *("concept", "when", "ref", "code", "value", "unit", "interpretation", "original"),
    *("comparator", "comparable"),
)

# How the numeric results of one (code, unit) are read: (concept, code, factor, canonical
# unit, unit code as sent, interpretation, comparator); one per distinct (code, unit) of a
# chart, shared by its results
Spec = tuple[str, str, float, str | None, str, str | None, str | None]
# A numeric result read and checked, its Observed not built yet (`ObservedList`): (when, id,
# value as sent, Spec); its ref is "Observation/<id>", made when it is built
Plan = tuple[date, str, float, Spec]
_SPEC = 3  # Plan[_SPEC]
_NEWEST = itemgetter(0, 1)  # (when, ref) of a (when, ref, Observed) entry: its sort key
REF_PREFIX = "Observation/"  # of a typed result's ref (a Plan keeps the id after it)
_PREFIX_LEN = len(REF_PREFIX)
_NO_CODE = Raw(b"")  # an Observation without a code, as the inline read compares texts
_COMPARED = 8  # texts of one unit and length compared in place before looking up a copy


def _observed(entry: tuple[Any, ...]) -> Observed:
    """The Observed of an entry: (when, ref, Observed) as read, or a `Plan` built now."""
    if len(entry) == 3:
        return entry[2]  # type: ignore[no-any-return]
    when, rid, value, spec = entry
    concept, code, factor, canonical, unit_code, interp, comparator = spec
    return _numeric_observed(  # type: ignore[no-any-return]
        concept,
        when,
        REF_PREFIX + rid,
        code,
        round6(value * factor),
        canonical,
        interp,
        f"{comparator or ''}{value:g} {unit_code}".strip(),
        comparator,
        True,
    )


class ObservedList(Sequence[Observed]):
    """The results of one concept, newest first, each `Observed` built the first time it is
    read: a rule that reads the latest result, or the results since a date, builds those
    only. Read like a list (index, slice -> list, iteration, len, ==); never changed."""

    __slots__ = ("_items",)

    def __init__(self, entries: list[Any]) -> None:
        self._items = entries  # entries, each replaced by its Observed once built

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    @overload
    def __getitem__(self, index: int) -> Observed: ...

    @overload
    def __getitem__(self, index: slice) -> list[Observed]: ...

    def __getitem__(self, index: int | slice) -> Observed | list[Observed]:
        items = self._items
        if type(index) is slice:
            return [self[i] for i in range(*index.indices(len(items)))]
        item = items[index]  # an IndexError as a list's
        if type(item) is tuple:
            item = items[index] = _observed(item)
        return item  # type: ignore[no-any-return]

    def peek(self, index: int) -> tuple[date, float | None, str | None]:
        """(when, value, unit) of result `index` as its Observed has them, without building
        it (a reader that skips most results by date or unit builds only those it keeps)."""
        item = self._items[index]
        if type(item) is tuple:
            if len(item) == 3:
                item = item[2]
            else:
                spec = item[_SPEC]  # as _observed builds them
                return item[0], round6(item[2] * spec[2]), spec[3]
        return item.when, item.value, item.unit

    def evidence_parts(
        self, index: int
    ) -> tuple[str, str, date, float | None, str | None, str | None]:
        """(ref, concept, when, value, unit, sent) of result `index`: what its evidence shows
        (`sent` = model.sent_as(original, value, unit) when comparable, else None), without
        building it. The usual result, sent without comparator in the canonical unit, is
        known not to need `sent` without writing its text (sent_as would find its number
        and that unit)."""
        item = self._items[index]
        if type(item) is tuple:
            if len(item) == 3:
                item = item[2]
            else:  # as _observed builds them
                when, rid, value, spec = item
                concept, _, factor, canonical, unit_code, _, comparator = spec
                shown = round6(value * factor)
                if (
                    not comparator
                    and unit_code == canonical
                    and canonical
                    and canonical[0] != "{"
                    and not canonical[0].isspace()
                    and not canonical[-1].isspace()
                    and -_PLAIN_G < value < _PLAIN_G
                    and (value == 0.0 or not -_TINY_G < value < _TINY_G)
                ):
                    sent = None  # f"{value:g} {unit_code}" is a plain number, that unit
                else:
                    original = f"{comparator or ''}{value:g} {unit_code}".strip()
                    sent = sent_as(original, shown, canonical)
                return REF_PREFIX + rid, concept, when, shown, canonical, sent
        o: Observed = item
        sent = sent_as(o.original, o.value, o.unit) if o.comparable else None
        return o.ref, o.concept, o.when, o.value, o.unit, sent

    def usable_days(self, unit: str | None, start: int, stop: int) -> tuple[list[int], list[int]]:
        """Of results `start` to `stop` (excluded): the positions of those whose `peek` value
        is a finite number in `unit` (or without unit), and their day ordinals negated; in one
        pass without building or peeking each (a score reader scans a concept's dates)."""
        positions: list[int] = []
        days: list[int] = []
        items = self._items
        for i in range(start, min(stop, len(items))):
            item = items[i]
            if type(item) is tuple and len(item) != 3:
                spec = item[_SPEC]
                value = item[2] * spec[2]  # finite as round6 of it is (peek)
                canonical = spec[3]
                if (canonical is not None and canonical != unit) or not -_INF < value < _INF:
                    continue
                when = item[0]
            else:
                o = item[2] if type(item) is tuple else item
                value = o.value
                if (
                    value is None
                    or (o.unit is not None and o.unit != unit)
                    or not -_INF < value < _INF
                ):
                    continue
                when = o.when
            positions.append(i)
            days.append(-when.toordinal())
        return positions, days

    def __iter__(self) -> Iterator[Observed]:
        items = self._items
        for i, item in enumerate(items):
            if type(item) is tuple:
                item = items[i] = _observed(item)
            yield item

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ObservedList | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list

    def __add__(self, other: Sequence[Observed]) -> list[Observed]:
        return [*self, *other]

    def __radd__(self, other: Sequence[Observed]) -> list[Observed]:
        return [*other, *self]

    def __repr__(self) -> str:
        return repr(list(self))


def normalise_observations(
    resources: list[dict[str, Any]], vs: ValueSets, distinct: bool = False
) -> tuple[dict[str, ObservedList], list[Dropped]]:
    """Observations grouped by concept (newest first) and what could not be read.

    Every result is classified here (read, dropped with its reason, or of no concept), but the
    `Observed` of a plain numeric result (the usual shape, see `_typed_plan`) is only built
    when a rule reads it (`ObservedList`): a long chart holds years of results the rules
    never look at. A result sent twice (the same id) is read once; `distinct`: no id is
    twice in `resources` (PatientRecord.distinct), so that this is not checked per result."""
    out: dict[str, list[Any]] = {}  # concept -> entries (when, ref, Observed | plan)
    dropped: list[Dropped] = []
    seen: set[tuple[str, str]] = set()  # (ref, concept) taken by the general readers
    taken: dict[str, set[str]] = {}  # concept -> ids of its Plans (ref "Observation/<id>")
    mixed: set[str] = set()  # concepts with entries other than Plans
    percentages: list[tuple[ObsCode, dict[str, Any], str, Any, str]] = []
    names = vs.obs_names
    memo: dict[Any, Any] = {}
    specs: dict[tuple[bytes, str], Any] = {}  # the inline read's, beyond the compared ones
    # code text length -> (code, unit, its Spec, its concept's list in `out` or None) seen
    by_size: dict[int, list[tuple[Raw, str, Any, list[Any] | None]]] = {}
    days = SEEN_DAYS
    located = 0  # where to look for the next result without an id (its ref is by position)
    for resource in resources:
        if type(resource) is Observation:  # decoded typed (fhir_json): the usual shapes here
            # the usual result, read inline: a plain number in a unit that converts, dated
            # by effectiveDateTime; any other shape, and what is not read, by `_typed_plan`
            # the typed members are a str (or Quantity), None or UNSET (falsy, as None and ""
            # are): a truth test is the type test here; "" goes to `_typed_plan` as before
            q = resource.valueQuantity
            if (
                q
                and (unit := q.code)
                and resource.status not in IGNORED_STATUS
                and resource.component is UNSET
                and resource.interpretation is UNSET
                and (q.comparator is UNSET or q.comparator is None)
                and (rid := resource.id)
                and (when := resource.effectiveDateTime)
            ):
                # `_reading` per (code text, unit), as its `Spec` when a number converts,
                # without copying the text out per result: the few (text, unit) pairs of a
                # text length compared as they are (neither hashed), then by copy
                if (code := resource.code) is UNSET:
                    code = _NO_CODE
                try:  # a subscript rather than get(): the usual case, a length seen before
                    known = by_size[len(code)]
                except KeyError:
                    known = by_size[len(code)] = []
                for text, text_unit, found, bucket in known:
                    if text == code and text_unit == unit:
                        hit = found
                        target = bucket
                        break
                else:
                    target = None
                    if len(known) < _COMPARED:
                        hit = _spec(_reading(vs, bytes(code), unit), unit)
                        if distinct and type(hit) is tuple:
                            target = _bucket(out, hit[0], when, q.value)
                        known.append((code, unit, hit, target))
                    else:  # many codes of one unit and length: look up a copy
                        key = (bytes(code), unit)
                        hit = specs.get(key, _UNSEEN)
                        if hit is _UNSEEN:
                            hit = specs[key] = _spec(_reading(vs, key[0], unit), unit)
                if hit is None:
                    continue  # one look-up for a result no concept reads (a vital sign)
                day = days.get(when, _UNSEEN)  # a call's first of each value: not there
                if day is _UNSEEN:
                    day = parse_date(when)
                value = q.value  # a finite float when a number (fhir_json.FiniteNumber)
                if target is not None and day is not None and type(value) is float:
                    # the usual: appended to its concept's list, found with its code
                    target.append((day, rid, value, hit))
                    continue
                if type(hit) is tuple and day is not None and type(value) is float:
                    concept = hit[0]
                    plan = (day, rid, value, hit)
                    if distinct:
                        try:  # the general readers may have listed results of it already
                            out[concept].append(plan)
                        except KeyError:
                            out[concept] = [plan]
                        continue
                    ids = taken.get(concept)
                    if (ids is None or rid not in ids) and not (
                        seen and (REF_PREFIX + rid, concept) in seen
                    ):
                        if ids is None:
                            taken[concept] = {rid}
                        else:
                            ids.add(rid)
                        out.setdefault(concept, []).append(plan)  # as above
                    continue
            sent = resource
            plan = _typed_plan(resource, vs, memo)
            if plan is None:
                continue
            if type(plan) is tuple:
                concept = plan[_SPEC][0]
                if distinct:
                    out.setdefault(concept, []).append(plan)  # as above
                    continue
                ids = taken.get(concept)
                if (ids is None or plan[1] not in ids) and not (
                    seen and (REF_PREFIX + plan[1], concept) in seen
                ):
                    if ids is None:
                        taken[concept] = {plan[1]}
                    else:
                        ids.add(plan[1])
                    out.setdefault(concept, []).append(plan)  # as above
                continue
            resource = plan  # any other shape: the general readers below
        else:
            sent = resource
        if type(resource) is not dict and not isinstance(resource, dict):
            continue
        status = resource.get("status")
        if isinstance(status, str) and status in IGNORED_STATUS:
            continue
        hit = _match(resource.get("code"), vs)
        if hit is None and names:
            hit = _match_name(resource.get("code"), vs)
        components = resource.get("component")
        if components:
            parts: list[tuple[ObsCode, dict[str, Any], str]] = []
            if hit is not None:
                parts.append((hit[0], resource, hit[1]))
            for component in as_list(components):
                if isinstance(component, dict):
                    chit = _match(component.get("code"), vs)
                    if chit is not None:
                        parts.append((chit[0], component, chit[1]))
            if not parts:
                continue
        elif hit is None:
            continue  # one dict look-up per coding for a result no concept reads
        else:
            parts = [(hit[0], resource, hit[1])]
        rid = resource.get("id")  # ref_of, inlined (hundreds per record)
        if type(rid) is str and rid:
            rtype = resource.get("resourceType") or "Observation"
            ref = f"{rtype}/{rid}"
        else:  # by its position (found, not counted: the usual result has an id)
            index = located = _position(resources, sent, located)
            located += 1
            ref = ref_of(resource, index, "Observation")
        when = parse_date(resource.get(DATE_PATHS[0]))  # the usual member, read directly
        if when is None:
            when = first_date(resource, *DATE_PATHS[1:])
        for obs_code, holder, code in parts:
            concept = obs_code.concept
            key = (ref, concept)
            if key in seen:
                continue
            if taken and ref.startswith(REF_PREFIX) and ref[_PREFIX_LEN:] in taken.get(concept, ()):
                continue  # read as a Plan already
            seen.add(key)
            if when is None:
                dropped.append(Dropped(ref, f"no date for {concept}"))
                continue
            if obs_code.percent_of is not None:
                percentages.append((obs_code, holder, ref, when, code))
                continue
            item = _plain_quantity(vs, obs_code, holder, resource, ref, when, code)
            if item is None:
                item = read_value(vs, obs_code, holder, resource, ref, when, code)
            if type(item) is Dropped:
                if holder is resource and _is_panel(resource):
                    continue  # a panel code with its values in components or members
                dropped.append(item)
                continue
            if code.startswith(NAME_PREFIX):
                item = replace(item, by_name=True)
            entry = (item.when, ref, item)
            mixed.add(concept)
            found = out.get(concept)
            if found is None:
                out[concept] = [entry]
            else:
                found.append(entry)
    if percentages:
        mixed.update(_absolute_counts(vs, percentages, out, dropped))
    lists: dict[str, ObservedList] = {}
    for concept, entries in out.items():
        # newest first, then by ref: a Plan's id orders as its ref does among Plans only;
        # Plans alone sort as tuples (no key): (when, id) differs between any two of a concept
        if concept not in mixed:
            entries.sort(reverse=True)
        else:
            entries.sort(key=_by_ref, reverse=True)
        lists[concept] = ObservedList(entries)
    return lists, dropped


def _bucket(out: dict[str, list[Any]], concept: str, when: str, value: Any) -> list[Any] | None:
    """The list of `concept` in `out` (made now when missing) for the numeric results of one
    (code, unit) of a chart with distinct ids, as the first of them finds it: None when that
    first one is not read as a `Plan` (no date, no number). Its results then take the general
    way each, so that `out` gets each concept when its first result is listed, as before."""
    day = SEEN_DAYS.get(when, _UNSEEN)
    if day is _UNSEEN:
        day = parse_date(when)
    if day is None or type(value) is not float:
        return None
    found = out.get(concept)
    if found is None:
        found = out[concept] = []
    return found


def _position(resources: Sequence[Any], resource: Any, start: int) -> int:
    """Where `resource` (that very object) is in `resources`, at `start` or after: the
    results are read in order, and an object sent twice takes the same way both times, so
    that the next one without an id is never before the last one found."""
    return next(i for i in range(start, len(resources)) if resources[i] is resource)


def _by_ref(entry: tuple[Any, ...]) -> tuple[date, str]:
    """(when, ref) of an entry, Plan or not (sort key of a concept with both)."""
    if len(entry) == 3:
        return entry[0], entry[1]
    return entry[0], REF_PREFIX + entry[1]


def _absolute_counts(
    vs: ValueSets,
    percentages: list[tuple[ObsCode, dict[str, Any], str, Any, str]],
    out: dict[str, list[Any]],
    dropped: list[Dropped],
) -> set[str]:
    """Absolute counts from differential percentages and the same day's count they are of;
    the concepts that got one."""
    derived_for: set[str] = set()
    for obs_code, holder, ref, when, code in percentages:
        concept, total = obs_code.concept, obs_code.percent_of or ""
        q = holder.get("valueQuantity")
        pct = number(q.get("value")) if isinstance(q, dict) else None
        unit = (q.get("code") or q.get("unit")) if isinstance(q, dict) else None
        if pct is None or not 0 <= pct <= 100 or unit != "%":
            dropped.append(Dropped(ref, f"differential percentage not readable for {concept}"))
            continue
        if any(entry[0] == when for entry in out.get(concept, ())):
            continue  # the absolute count of that day was reported
        counts = [
            o
            for entry in out.get(total, ())
            if entry[0] == when and (o := _observed(entry)).comparable and o.value
        ]
        if not counts or counts[0].comparator is not None:
            dropped.append(Dropped(ref, f"no {total} count of the same day for {concept}"))
            continue
        base = counts[0]
        per_ul = vs.unit_factor(total, "/uL")  # canonical units per /uL
        to_target = vs.unit_factor(concept, "/uL")
        if not per_ul or to_target is None:
            dropped.append(Dropped(ref, f"no {total} unit to derive {concept}"))
            continue
        value = round6(base.value / per_ul * pct / 100 * to_target)
        derived = _new_observed(
            concept=concept,
            when=when,
            ref=ref,
            code=code,
            value=value,
            unit=vs.canonical_units.get(concept),
            interpretation=None,
            original=f"{pct:g} % of {total} {base.original or ''}".strip(),
            comparator=None,
            comparable=True,
            derived_from=((total, base.value, base.unit), ("percent", pct, "%")),
        )
        out.setdefault(concept, []).append((when, ref, derived))
        derived_for.add(concept)
    return derived_for


def _match(concept: Any, vs: ValueSets) -> tuple[ObsCode, str] | None:
    """First coding of a CodeableConcept that is in the observation value sets (hot path)."""
    if type(concept) is not dict:
        return None
    found = concept.get("coding")
    if type(found) is not list:
        found = [found] if type(found) is dict else ()
    for coding in found:
        if type(coding) is not dict:
            continue
        code = coding.get("code")
        if type(code) is not str:
            continue
        hit = vs.observation_coding(coding.get("system"), code)
        if hit is not None:
            return hit
    return None


def _match_name(concept: Any, vs: ValueSets) -> tuple[ObsCode, str] | None:
    """The concept a result's name (text or a coding display) names, when none of its codes is
    known: the last resort, reported as such (the code is recorded as "name|<text>")."""
    if type(concept) is not dict:
        return None
    for text in concept_texts(concept):
        hit = vs.obs_names.get(norm_text(text))
        if hit is not None:
            return hit, f"{NAME_SYSTEM}|{text}"
    return None


def _is_panel(resource: dict[str, Any]) -> bool:
    return bool(resource.get("component") or resource.get("hasMember"))


def read_value(
    vs: ValueSets,
    obs: ObsCode,
    holder: dict[str, Any],
    resource: dict[str, Any],
    ref: str,
    when,
    code: str,
) -> Observed | Dropped:
    """The value of `holder` (the Observation or one of its components) for `obs.concept`."""
    if "valueQuantity" in holder:
        q = holder["valueQuantity"]
        value = number(q.get("value")) if isinstance(q, dict) else None
        if value is None:
            return Dropped(ref, f"quantity without value for {obs.concept}")
        unit_code, text = q.get("code"), q.get("unit")
        if not isinstance(text, str):
            text = q.get("units")  # DSTU1 spelling, still sent by some DSTU2 exporters
        unit = unit_code if isinstance(unit_code, str) else text
        alt = text if isinstance(text, str) and text != unit else None  # human unit as fallback
        comparator = q.get("comparator")
        comparator = comparator if isinstance(comparator, str) else None
        return _numeric(vs, obs, value, unit, comparator, resource, ref, when, code, alt)
    concept = obs.concept
    if "valueInteger" in holder and number(holder["valueInteger"]) is not None:
        value = number(holder["valueInteger"])
        return _numeric(vs, obs, value, None, None, resource, ref, when, code)  # type: ignore[arg-type]
    if "valueCodeableConcept" in holder:
        return _coded(vs, obs, holder["valueCodeableConcept"], ref, when, code)
    if "valueString" in holder and isinstance(holder["valueString"], str):
        return _string(vs, obs, holder["valueString"], resource, ref, when, code)
    if "valueBoolean" in holder:
        return Dropped(ref, f"boolean result not read for {concept}")
    if holder.get("dataAbsentReason") is not None:
        return Dropped(ref, f"data absent for {concept}")
    return Dropped(ref, f"no value for {concept}")


def _typed_plan(
    resource: Observation, vs: ValueSets, memo: dict[Any, Any]
) -> Plan | dict[str, Any] | None:
    """A typed Observation read as the general readers would: None when nothing reads it
    (ignored status; no code, name or component any concept has), the `Plan` of a numeric
    result in a unit that converts to its concept's unit, with or without interpretation
    and comparator (as `read_value` reads it: every check made, only the `Observed` left to
    build), or for every other shape the Observation as a dict, for the general readers.

    `memo`: `_reading` per (code as JSON text, unit code), for one record (a chart repeats
    a few dozen of them)."""
    status = resource.status
    if status in IGNORED_STATUS:  # a str, None or UNSET here
        return None
    q = resource.valueQuantity
    unit_code = None  # the unit read_value reads: the UCUM code, else the human unit
    if type(q) is Quantity:
        unit_code = q.code
        if type(unit_code) is not str:
            unit_code = q.unit if type(q.unit) is str else q.units
            if type(unit_code) is not str:
                unit_code = None  # read by the general readers alike (`_reading`)
    code = resource.code
    key = (b"" if code is UNSET else bytes(code), unit_code)
    hit = memo.get(key, _UNSEEN)
    if hit is _UNSEEN:
        hit = memo[key] = _reading(vs, key[0], unit_code)
    if hit is None:
        if resource.component and _component_read(resource.component, vs):
            return as_dict(resource)
        return None  # one look-up for a result no concept reads (a vital sign)
    if type(hit) is not tuple:  # a concept's code or name, not read as a plain number
        return as_dict(resource)
    concept_id, code_text, factor, canonical = hit
    rid = resource.id
    when = resource.effectiveDateTime
    if resource.component or type(rid) is not str or not rid or type(when) is not str:
        return as_dict(resource)
    comparator = q.comparator  # type: ignore[union-attr]
    if comparator is UNSET or comparator is None:
        comparator = None
    elif type(comparator) is str:  # as _numeric: "<", "<=", ...; "≤" -> "<="; "=" none
        comparator = _COMPARATORS.get(comparator, comparator) if comparator else None
    else:
        return as_dict(resource)
    interpretation = resource.interpretation
    interp = None if interpretation is UNSET else _interpretation_of(vs, interpretation)
    day = parse_date(when)
    value = q.value  # type: ignore[union-attr]
    if type(value) is int:
        value = float(value)
    if day is None or type(value) is not float or not math.isfinite(value):
        return as_dict(resource)
    spec = (concept_id, code_text, factor, canonical, unit_code, interp, comparator)
    return day, rid, value, spec


_UNSEEN = object()
_GENERAL = "general"  # `_reading` of a code whose result the general readers read


def _spec(reading: tuple[str, str, float, str | None] | str | None, unit: str) -> Any:
    """The `Spec` of the plain numeric results of a `_reading` in `unit` (sent without
    interpretation or comparator); any other reading as it is."""
    if type(reading) is tuple:
        return (*reading, unit, None, None)
    return reading


def _reading(
    vs: ValueSets, code: bytes, unit_code: str | None
) -> tuple[str, str, float, str | None] | str | None:
    """How a typed result whose code is the JSON text `code`, with the quantity unit
    `unit_code`, is read: None when no concept has its code or name; (concept,
    "system|code", factor, canonical unit) when a number in that unit converts to the
    concept's unit (`_plain_quantity`); else _GENERAL (a result named, not coded, a
    differential percentage, a qualitative concept, no unit or one that does not convert: the
    general readers read it or say why not). Memoised in the value sets (bounded)."""
    key = ("obs-read", code, unit_code)  # a pure function of these and the value sets
    cache = vs._coding_cache
    reading = cache.get(key, _UNSEEN)
    if reading is not _UNSEEN:
        return reading  # type: ignore[no-any-return]
    found = _code_hit(vs, code)
    if found is None or found is _NAMED:
        reading = found
    else:
        obs, code_text = found
        reading = _GENERAL
        if obs.percent_of is None and unit_code is not None and obs.concept in vs.units:
            factor, canonical, problem = conversion_plan(vs, obs, unit_code)
            if factor is not None and problem is None:
                reading = (obs.concept, code_text, factor, canonical)
    if len(code) + len(unit_code or "") <= MEMO_LONGEST:
        remember(cache, key, reading)
    return reading


_NAMED = _GENERAL  # `_code_hit` of a code none of whose codings is known, but its name is


def _code_hit(vs: ValueSets, code: bytes) -> tuple[ObsCode, str] | str | None:
    """What an Observation.code sent as the JSON text `code` (b"" when absent) is, as the
    general loop reads it: its first known coding (`_match`), else _NAMED when its text or a
    display names a concept (`_match_name`), else None. Memoised in the value sets (a
    pure function of the text and the value sets; bounded)."""
    key = ("obs-code", code)
    cache = vs._coding_cache
    found = cache.get(key, _UNSEEN)
    if found is _UNSEEN:
        concept = raw_json(code) if code else None
        found = _match(concept, vs)
        if found is None and vs.obs_names and _match_name(concept, vs) is not None:
            found = _NAMED
        if len(code) <= MEMO_LONGEST:
            remember(cache, key, found)
    return found  # type: ignore[no-any-return]


def _component_read(components: Any, vs: ValueSets) -> bool:
    """Has any component (plain JSON) a code some concept reads (as the general loop
    matches them)? A blood-pressure panel's have not."""
    if not components or components is UNSET:
        return False
    return any(
        _match(component.get("code"), vs) is not None
        for component in as_list(components)
        if isinstance(component, dict)
    )


def _plain_quantity(
    vs: ValueSets,
    obs: ObsCode,
    holder: dict[str, Any],
    resource: dict[str, Any],
    ref: str,
    when,
    code: str,
) -> Observed | None:
    """The usual result, read in one go: a finite number with a unit that converts to the
    concept's canonical unit, no comparator, no interpretation. Exactly what `read_value`
    would make of it; None for every other shape (then `read_value` reads it)."""
    q = holder.get("valueQuantity")
    if type(q) is not dict or "interpretation" in resource or q.get("comparator") is not None:
        return None
    value = q.get("value")
    if type(value) is int:
        value = float(value)
    elif type(value) is not float or not math.isfinite(value):
        return None
    unit_code = q.get("code")
    if type(unit_code) is not str or obs.concept not in vs.units:
        return None
    # the human unit (q.unit) is only tried when the code does not convert: not here
    factor, canonical, problem = conversion_plan(vs, obs, unit_code)
    if factor is None or problem is not None:
        return None
    return _numeric_observed(
        obs.concept,
        when,
        ref,
        code,
        round6(value * factor),
        canonical,
        None,
        f"{value:g} {unit_code}".strip(),
        None,
        True,
    )


def _numeric(
    vs: ValueSets,
    obs: ObsCode,
    value: float,
    unit: str | None,
    comparator: str | None,
    resource: dict[str, Any],
    ref: str,
    when,
    code: str,
    alt_unit: str | None = None,
) -> Observed | Dropped:
    """A number of `obs.concept` in `unit` (UCUM code; `alt_unit` the human unit, tried when
    the code is not convertible, e.g. a SNOMED unit code)."""
    concept = obs.concept
    if comparator:
        comparator = _COMPARATORS.get(comparator, comparator)
    else:
        comparator = None
    interp = _interpretation(vs, resource) if "interpretation" in resource else None
    if concept not in vs.units:
        # qualitative concept (HBsAg, IGRA, hCG...) sent as a number: read its flag, if any
        answers = vs.obs_answers.get(concept, "qualitative")
        if interp is None and value == int(value):
            interp = vs.answer_text(answers, str(int(value)))
        if interp is None:
            return Dropped(ref, f"numeric result without interpretation for {concept}")
        return Observed(
            concept=concept,
            when=when,
            ref=ref,
            code=code,
            interpretation=interp,
            original=_original(comparator, value, unit),
            comparator=comparator,
        )
    # units.convert, unrolled on this hot path: (factor, canonical unit, problem); a factor of
    # None without problem keeps the value in its own unit, not comparable
    factor, canonical, problem = conversion_plan(vs, obs, unit)
    if alt_unit is not None and (problem is not None or factor is None):
        second = conversion_plan(vs, obs, alt_unit)
        if second[0] is not None:
            factor, canonical, problem = second
    if problem is not None:
        return Dropped(ref, problem)
    original = f"{comparator or ''}{value:g} {unit or ''}".strip()  # _original, inlined
    if factor is None:  # kept in its own unit, shown only
        return _numeric_observed(
            concept, when, ref, code, value, unit, interp, original, comparator, False
        )
    return _numeric_observed(
        concept,
        when,
        ref,
        code,
        round6(value * factor),
        canonical,
        interp,
        original,
        comparator,
        True,
    )


def _original(comparator: str | None, value: float, unit: str | None) -> str:
    """The value as sent, for display ("<0.5 mg/dL")."""
    return f"{comparator or ''}{value:g} {unit or ''}".strip()


def _interpretation(vs: ValueSets, resource: dict[str, Any]) -> str | None:
    return _interpretation_of(vs, resource.get("interpretation"))


def _interpretation_of(vs: ValueSets, interpretation: Any) -> str | None:
    """The reading ("positive", "negative"...) of an Observation.interpretation as sent."""
    if interpretation is None:
        return None
    for coding in codings(interpretation):
        code = coding.get("code")
        if isinstance(code, str):
            hit = vs.interpretation_codes.get(code.strip().upper())
            if hit is not None:
                return hit
    return None


def _coded(vs: ValueSets, obs: ObsCode, value: Any, ref: str, when, code: str):
    base = {"concept": obs.concept, "when": when, "ref": ref, "code": code}
    answers = vs.obs_answers.get(obs.concept, "qualitative")
    for coding in codings(value):
        answer = coding.get("code")
        if isinstance(answer, str):
            hit = vs.answer(answers, coding.get("system"), answer)
            if hit is not None:
                original = coding.get("display") or answer
                return Observed(**base, interpretation=hit, original=str(original))
    for text in concept_texts(value):
        hit = vs.answer_text(answers, text)
        if hit is not None:
            return Observed(**base, interpretation=hit, original=text)
    return Dropped(ref, f"coded answer not recognised for {obs.concept}")


def _string(
    vs: ValueSets,
    obs: ObsCode,
    text: str,
    resource: dict[str, Any],
    ref: str,
    when,
    code: str,
) -> Observed | Dropped:
    base = {"concept": obs.concept, "when": when, "ref": ref, "code": code}
    answers = vs.obs_answers.get(obs.concept, "qualitative")
    hit = vs.answer_text(answers, text)
    if hit is not None:
        return Observed(**base, interpretation=hit, original=text.strip())
    m = _NUMERIC_STRING.match(unicodedata.normalize("NFKC", text).strip())
    if m:
        comparator, raw, unit = m.group(1), m.group(2), m.group(3).strip()
        value = number(raw)
        if value is not None:
            item = _numeric(vs, obs, value, unit or None, comparator, resource, ref, when, code)
            if isinstance(item, Observed):
                return replace(item, original=text.strip())
            return item
    return Dropped(ref, f"text result not recognised for {obs.concept}")

"""Defensive readers for plain FHIR JSON (R4, with STU3/DSTU2 and R5 spellings where they differ).

Every function accepts whatever the EHR sent (missing members, wrong types) and returns None or
an empty list rather than raising: the normalise stage reports what it could not read instead.
"""

from __future__ import annotations

import math
from datetime import date
from functools import lru_cache
from typing import Any


def as_list(value: Any) -> list[Any]:
    """A FHIR repeating element as a list (some senders give a single object)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def parse_date(value: Any) -> date | None:
    """Date of a FHIR date/dateTime/instant ("2024", "2024-05", "2024-05-03T10:00:00Z")."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    if len(value) > 10 and not value[0].isspace():
        # only the date part is read: memoised by it, as times differ from result to result
        # (the same day as `_parse_text(value)`: it strips, then reads 10 characters at most)
        return _parse_text(value[:10])
    return _parse_text(value)


@lru_cache(maxsize=8192)
def _parse_text(value: str) -> date | None:
    """parse_date of a string, memoised: a record repeats the same dates many times."""
    text = value.strip()
    try:
        if len(text) >= 10:
            return date.fromisoformat(text[:10])
        if len(text) == 7:
            return date(int(text[:4]), int(text[5:7]), 1)
        if len(text) == 4:
            return date(int(text), 1, 1)
    except ValueError:
        return None
    return None


_PLANS: dict[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]] = {}


def first_date(resource: dict[str, Any], *paths: str) -> date | None:
    """First readable date among member paths ("effectiveDateTime", "effectivePeriod.start")."""
    plan = _PLANS.get(paths)
    if plan is None:  # each path as (first member, members below it), split once
        plan = _PLANS[paths] = tuple((p.split(".")[0], tuple(p.split(".")[1:])) for p in paths)
    get = resource.get
    for head, rest in plan:
        value: Any = get(head)
        if value is None:
            continue  # the usual case: most of the members are absent
        for part in rest:
            value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                break
        if value is not None:
            found = parse_date(value)
            if found is not None:
                return found
    return None


def ref_of(resource: dict[str, Any], index: int, default_type: str) -> str:
    """ "Type/id" of a resource, or "Type[index]" when it has no id."""
    rtype = resource.get("resourceType") or default_type
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return f"{rtype}/{rid}"
    return f"{rtype}[{index}]"


def codings(concept: Any) -> list[dict[str, Any]]:
    """The Coding dicts of a CodeableConcept (or of a list of them)."""
    if type(concept) is dict:  # the usual shape, first
        found = concept.get("coding")
        if type(found) is list:
            return [c for c in found if isinstance(c, dict)]
    out: list[dict[str, Any]] = []
    for cc in as_list(concept):
        if isinstance(cc, dict):
            out.extend(c for c in as_list(cc.get("coding")) if isinstance(c, dict))
    return out


def concept_texts(concept: Any) -> list[str]:
    """CodeableConcept.text then every coding display."""
    out: list[str] = []
    for cc in as_list(concept):
        if not isinstance(cc, dict):
            continue
        if isinstance(cc.get("text"), str):
            out.append(cc["text"])
        out.extend(
            c["display"]
            for c in as_list(cc.get("coding"))
            if isinstance(c, dict) and isinstance(c.get("display"), str)
        )
    return out


def concept_text(concept: Any) -> str | None:
    """The first of `concept_texts(concept)`, or None."""
    for cc in as_list(concept):
        if not isinstance(cc, dict):
            continue
        if isinstance(cc.get("text"), str):
            return cc["text"]
        for c in as_list(cc.get("coding")):
            if isinstance(c, dict) and isinstance(c.get("display"), str):
                return c["display"]
    return None


def status_code(value: Any) -> str | None:
    """A status given as a code (R4 Observation.status, STU3 Condition.clinicalStatus) or as a
    CodeableConcept (R4 Condition.clinicalStatus/verificationStatus)."""
    if isinstance(value, str):
        return value.strip().casefold() or None
    if type(value) is dict:  # the usual R4 shape first: a first coding with its code
        found = value.get("coding")
        if type(found) is list and found and type(found[0]) is dict:
            code = found[0].get("code")
            if type(code) is str and code:
                return code.strip().casefold()
    for coding in codings(value):
        code = coding.get("code")
        if isinstance(code, str) and code:
            return code.strip().casefold()
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"].strip().casefold() or None
    return None


def number(value: Any) -> float | None:
    """A finite number from a JSON number or numeric string; None otherwise (also NaN, inf)."""
    if type(value) is float:  # the usual case, first
        return value if math.isfinite(value) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        try:
            out = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    return out if math.isfinite(out) else None


def contained(resource: dict[str, Any], reference: Any) -> dict[str, Any] | None:
    """The contained resource a "#id" reference (string or Reference) points to."""
    ref = reference.get("reference") if isinstance(reference, dict) else reference
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    wanted = ref[1:]
    for item in as_list(resource.get("contained")):
        if isinstance(item, dict) and item.get("id") == wanted:
            return item
    return None

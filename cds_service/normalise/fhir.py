"""Defensive readers for plain FHIR JSON (R4, with STU3/DSTU2 and R5 spellings where they differ).

Every function accepts whatever the EHR sent (missing members, wrong types) and returns None or
an empty list rather than raising: the normalise stage reports what it could not read instead.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any


def as_list(value: Any) -> list[Any]:
    """A FHIR repeating element as a list (some senders give a single object)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


# FHIR R4 date (hl7.org/fhir/R4/datatypes.html#date): YYYY, YYYY-MM or YYYY-MM-DD, ASCII digits.
_DAY = re.compile(r"([0-9]{4})(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12][0-9]|3[01]))?)?")
# What may follow a full date: FHIR R4 dateTime / instant's time ("T" hh:mm:ss[.fff] and a zone
# Z or +/-hh:mm up to 14:00), where a space may stand for the "T" and the seconds and the zone
# may be left out (see parse_date).
_TIME = re.compile(
    r"[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::(?:[0-5][0-9]|60)(?:\.[0-9]+)?)?"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
)
_JSON_SPACE = " \t\r\n"  # the whitespace JSON itself allows; any other is part of the value
_MISSING = object()
_SEEN: dict[str, date | None] = {}  # value -> its day (or None), as read in this call
SEEN_DAYS = _SEEN  # parse_date(value) of a str read before, for a hot loop to look up first
# a JSON text (a code, a status, an order's medication and dosage) at most this long is
# remembered across calls by the readers that memoise by text; a longer one is read each
# time (a sender cannot fill the bounded memos with megabytes)
MEMO_LONGEST = 1024
_TIMES: dict[str, bool] = {}  # time part ("T10:17:43+08:00") -> valid, as read in this call
_DAYS: dict[str, date | None] = {}  # date part ("2024-05-03", or all of a shorter value) -> day
_SEEN_MAX = 8192  # values (and date parts) remembered at most (then forgotten all at once)
_SEEN_LONGEST = 48  # longer values (rare: long fractions, padding, junk) are read, not kept


def parse_date(value: Any) -> date | None:
    """The day a FHIR date / dateTime / instant names; None for anything that is not one.

    Read: the FHIR R4 grammar ("2024", "2024-05" as the 1st, "2024-05-03",
    "2024-05-03T10:17:43.5+08:00"; dates SHALL be valid dates, so 2023-02-29 is none), with
    JSON whitespace (space, tab, CR, LF) around it ignored. Deliberately also read, though FHIR
    does not allow them: a space instead of the "T" ("2024-05-03 10:17[:43]", as SQL exports and
    some EHR interfaces write a timestamp), and a time without seconds or without its zone. Only
    the day is used, and it stands in the value's own first ten characters whatever the time
    says, so refusing those values would only turn results of a known day into undated ones.

    Anything else is no date, so the result it dates is dropped as undated and its rule is "not
    assessed" rather than judged on a guessed day: text after the date or time ("2024-05-03
    junk"), impossible months, days, hours or zones, other spellings (20240503, 2024-5-3, week
    dates), whitespace inside the value or any non-JSON whitespace (no-break, ideographic,
    zero-width spaces), and digits other than ASCII 0-9 (full-width, Arabic-Indic, ...), which
    int() and date.fromisoformat would read.

    Memoised by the whole value for one call (`forget_values`, at the start of normalise): a
    chart repeats the same dates many times (a panel's results share their time). The day of
    a date part ("2024-05-03") is kept across calls: a calendar, the same for every chart."""
    if type(value) is not str:
        if not isinstance(value, str):
            return None
        value = str(value)  # a str subclass: its text (its own hash or eq may differ)
    found = _SEEN.get(value, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
    text = value.strip(_JSON_SPACE)  # read for the first time
    head = text[:10]  # the date part (all of a date)
    found = _DAYS.get(head, _MISSING)
    if found is _MISSING:
        found = _day(head)
        if len(_DAYS) >= _SEEN_MAX:
            _DAYS.clear()
        _DAYS[head] = found
    if found is not None and len(text) > 10:
        tail = text[10:]  # the time and zone: one call's results share a few
        timed = _TIMES.get(tail)
        if timed is None:
            timed = _TIME.fullmatch(tail) is not None
            if len(tail) <= _SEEN_LONGEST:
                if len(_TIMES) >= _SEEN_MAX:
                    _TIMES.clear()
                _TIMES[tail] = timed
        if not timed:
            found = None
    if len(value) <= _SEEN_LONGEST:
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN[value] = found
    return found  # type: ignore[return-value]


def forget_values() -> None:
    """Forget the whole values `parse_date` read (their days stay known): what one call's
    chart sent is not kept for the next call, whose own dates it would only match when the
    same chart is sent again."""
    _SEEN.clear()
    _TIMES.clear()


def _day(text: str) -> date | None:
    """The day of a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD), None when it is not one."""
    found = _DAY.fullmatch(text)
    if found is None:
        return None
    year, month, day = found.groups()
    try:
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError:  # year 0000, or a day the month does not have
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

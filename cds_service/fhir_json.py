"""Reading FHIR JSON bytes: Observation, Condition and MedicationRequest Bundles typed, the
rest as plain JSON.

Observations and Conditions are most of a chart, orders the next. A Bundle of them (a prefetch
value, or a page a FHIR server answered) is decoded straight from the bytes into the small
typed records below, which keep only the members normalise reads (msgspec: unknown members are
skipped by the parser, and a record is not tracked by the cyclic garbage collector); their
codes, Condition statuses, medications and dosage lines stay JSON text (`Raw`), which
normalise reads once per distinct text. Anything else, and any Bundle whose shape differs in
the least from those records (another resource type among the entries, a number where a
string belongs, a status outside FHIR's list), is parsed as plain JSON exactly as before, so
that the defensive readers of normalise see it as sent: the typed form is a faster way to
the same Facts, never a stricter reading.

The one parser for both ways in: the hook request's prefetch (`decode_hook_body`) and the
FHIR server's answers (`decode_resource`). Pure functions, no I/O.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

import msgspec
import orjson
from msgspec import UNSET, Raw, Struct, UnsetType

__all__ = [
    "UNSET",
    "UnsetType",
    "Condition",
    "MedicationRequest",
    "Observation",
    "ObservationStatus",
    "TypedBundle",
    "Quantity",
    "Raw",
    "as_dict",
    "bundle_typed",
    "typed_resources",
    "decode_hook_body",
    "decode_resource",
    "entry_count",
    "next_url",
    "raw_json",
]


def raw_json(raw: Raw) -> Any:
    """The JSON value of a member kept as its text (`Raw`)."""
    return orjson.loads(memoryview(raw))


# Observation.status: a required binding (R4, STU3 and DSTU2 alike). Decoded as one of these
# literals, the code is a shared string instead of one string per result; any other value
# leaves its Bundle to the plain reading, which reads it as before.
ObservationStatus = Literal[
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
]


# A JSON number read as a finite float (an integer too: 19 is 19.0, as normalise reads it);
# one that overflows a float (1e999) leaves its Bundle to the plain reading, as any other odd
# value does, so that a typed value is a number normalise can use without checking it again
FiniteNumber = Annotated[float, msgspec.Meta(ge=-sys.float_info.max, le=sys.float_info.max)]


class Quantity(Struct, gc=False):
    # in the order FHIR servers write them (value, comparator, unit, system, code): the
    # parser looks for a member's field from where the last one was found
    value: FiniteNumber | None | UnsetType = UNSET
    comparator: Any = UNSET
    unit: Any = UNSET
    code: str | None | UnsetType = UNSET
    units: Any = UNSET  # DSTU1 spelling, still sent by some DSTU2 exporters


class Observation(Struct, tag_field="resourceType", tag="Observation", gc=False):
    """The members of an Observation that normalise/observations.py reads; the usual ones
    typed, `code` kept as its JSON text (one object instead of six: a chart repeats a few
    dozen codes, read once each by their text), the rest (panels, coded and text answers)
    kept as the plain JSON they were."""

    # fields in FHIR's element order, the order servers write them in (see Quantity)
    id: str | None | UnsetType = UNSET
    status: ObservationStatus | None | UnsetType = UNSET
    code: Raw | UnsetType = UNSET
    effectiveDateTime: str | None | UnsetType = UNSET
    effectivePeriod: Any = UNSET
    effectiveInstant: Any = UNSET
    issued: Any = UNSET
    valueQuantity: Quantity | None | UnsetType = UNSET
    valueCodeableConcept: Any = UNSET
    valueString: Any = UNSET
    valueBoolean: Any = UNSET
    valueInteger: Any = UNSET
    dataAbsentReason: Any = UNSET
    interpretation: Any = UNSET
    hasMember: Any = UNSET
    component: Any = UNSET


class Condition(Struct, tag_field="resourceType", tag="Condition", gc=False):
    """The members of a Condition that normalise/conditions.py reads (R4 names typed; the
    code and statuses kept as their JSON text, read once per distinct text; the STU3/DSTU2
    and rarer ones kept as plain JSON)."""

    # fields in FHIR's element order (R4, then the STU3/DSTU2 ones; see Quantity)
    id: str | None | UnsetType = UNSET
    clinicalStatus: Raw | UnsetType = UNSET
    verificationStatus: Raw | UnsetType = UNSET
    code: Raw | UnsetType = UNSET
    onsetDateTime: str | None | UnsetType = UNSET
    onsetPeriod: Any = UNSET
    onsetString: Any = UNSET
    abatementDateTime: Any = UNSET
    abatementPeriod: Any = UNSET
    abatementString: Any = UNSET
    abatementBoolean: Any = UNSET
    recordedDate: str | None | UnsetType = UNSET
    assertedDate: Any = UNSET
    dateRecorded: Any = UNSET


class MedicationRequest(Struct, tag_field="resourceType", tag="MedicationRequest", gc=False):
    """The members of a MedicationRequest that normalise/medications.py reads: the
    medication and the dosage lines kept as their JSON text (a chart repeats a few orders,
    read once per distinct text), the id, status and authoredOn typed, and the rarer ones
    (a Medication by reference or contained, R5 `medication`, other dates) kept as plain
    JSON for the general readers."""

    id: str | None | UnsetType = UNSET
    status: str | None | UnsetType = UNSET
    medicationCodeableConcept: Raw | UnsetType = UNSET
    dosageInstruction: Raw | UnsetType = UNSET
    authoredOn: str | None | UnsetType = UNSET
    medicationReference: Any = UNSET
    medication: Any = UNSET
    contained: Any = UNSET
    dosage: Any = UNSET
    wasNotTaken: Any = UNSET
    taken: Any = UNSET
    dateWritten: Any = UNSET
    effectiveDateTime: Any = UNSET
    effectivePeriod: Any = UNSET
    dateAsserted: Any = UNSET
    dispenseRequest: Any = UNSET


class _Outcome(Struct, tag_field="resourceType", tag="OperationOutcome", gc=False):
    """An OperationOutcome among the entries (a search's warning, e.g. "results may be
    restricted"): not read, and left out of the resources as fhir_fetch.bundle_resources
    leaves it out."""


class _Search(Struct, gc=False):
    mode: Any = UNSET


class _Entry(Struct, gc=False):
    resource: Observation | Condition | MedicationRequest | _Outcome | None | UnsetType = UNSET
    search: _Search | None | UnsetType = UNSET


class _Link(Struct, gc=False):
    relation: Any = UNSET
    url: Any = UNSET


class TypedBundle(Struct, gc=False):
    """A Bundle whose every entry holds an Observation, a Condition, a MedicationRequest, an
    OperationOutcome or nothing."""

    resourceType: Literal["Bundle"]
    entry: list[_Entry] | None | UnsetType = UNSET
    link: list[_Link] | None | UnsetType = UNSET


class _HookBody(Struct):
    """The members of a hook call that request.py reads, each left as its JSON text."""

    hook: Raw = Raw()
    hookInstance: Raw = Raw()
    context: Raw = Raw()
    patient: Raw = Raw()
    prefetch: dict[str, Raw] | None | UnsetType = UNSET
    fhirServer: Raw = Raw()
    fhirAuthorization: Raw = Raw()


class _Prefetch(Struct, forbid_unknown_fields=True, gc=False):
    """A prefetch of the services' own keys (discovery._prefetch), in their order: the
    Condition, Observation and MedicationRequest Bundles typed, the others left as their JSON
    text. Another key,
    or a value of another shape under a typed key, and the body is read in two passes
    (`_body_decoder`, then each value by `decode_resource`)."""

    patient: Raw = Raw()
    conditions: TypedBundle | None | UnsetType = UNSET
    observations: TypedBundle | None | UnsetType = UNSET
    medicationRequests: TypedBundle | None | UnsetType = UNSET
    immunizations: Raw = Raw()


class _TypedHookBody(Struct):
    """`_HookBody` with a prefetch of the services' keys: the usual hook call in one pass."""

    hook: Raw = Raw()
    hookInstance: Raw = Raw()
    context: Raw = Raw()
    patient: Raw = Raw()
    prefetch: _Prefetch | None | UnsetType = UNSET
    fhirServer: Raw = Raw()
    fhirAuthorization: Raw = Raw()


_bundle_decoder = msgspec.json.Decoder(TypedBundle)
_body_decoder = msgspec.json.Decoder(_HookBody)
_one_pass_decoder = msgspec.json.Decoder(_TypedHookBody)
_PREFETCH_KEYS = _Prefetch.__struct_fields__
_PLAIN_MEMBERS = ("hook", "hookInstance", "context", "patient", "fhirServer", "fhirAuthorization")


def decode_resource(raw: bytes | Raw) -> Any:
    """A FHIR resource's JSON: an `TypedBundle` when it is one of that exact shape,
    else the plain JSON value. Raises orjson.JSONDecodeError when it is not JSON."""
    try:
        return _bundle_decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # another shape, not JSON, too deep: orjson
        return orjson.loads(raw if isinstance(raw, bytes) else memoryview(raw))


def decode_hook_body(body: bytes) -> dict[str, Any] | None:
    """The members of a hook call that request.py reads, as a dict like the plain parse would
    give (absent members absent), with each prefetch value through `decode_resource`.

    None when the body is not a JSON object of that outline (not JSON, an array, a prefetch
    that is not an object...): the caller then parses it as plain JSON and says what is wrong.
    Raises orjson.JSONDecodeError when a member is not valid JSON.

    The usual call (a prefetch of the services' keys, its Condition and Observation Bundles of
    the typed shape) is read in one pass; any other in two (the outline, then each prefetch
    value), with the same result."""
    try:
        one = _one_pass_decoder.decode(body)
    except (msgspec.DecodeError, RecursionError):  # another outline: two passes
        return _two_passes(body)
    data = _plain_members(one)
    prefetch = one.prefetch
    if prefetch is not UNSET:
        if prefetch is None:
            data["prefetch"] = None
        else:
            values: dict[str, Any] = {}
            for key in _PREFETCH_KEYS:
                value = getattr(prefetch, key)
                if value is UNSET:
                    continue
                if type(value) is Raw:
                    if not len(value):
                        continue
                    value = decode_resource(value)
                values[key] = value
            data["prefetch"] = values
    return data


def _two_passes(body: bytes) -> dict[str, Any] | None:
    try:
        parts = _body_decoder.decode(body)
    except (msgspec.DecodeError, RecursionError):  # orjson reads it, or says why not
        return None
    data = _plain_members(parts)
    prefetch = parts.prefetch
    if prefetch is not UNSET:
        data["prefetch"] = (
            None if prefetch is None else {k: decode_resource(v) for k, v in prefetch.items()}
        )
    return data


def _plain_members(parts: _HookBody | _TypedHookBody) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _PLAIN_MEMBERS:
        raw = getattr(parts, name)
        if len(raw):
            data[name] = raw_json(raw)
    return data


_TAKEN = frozenset({Observation, Condition, MedicationRequest})  # what bundle_typed returns


def bundle_typed(bundle: TypedBundle) -> list[Observation | Condition | MedicationRequest]:
    """The resources of the entries (as fhir_fetch.bundle_resources: OperationOutcomes and
    search outcome messages left out)."""
    return typed_resources(bundle)[0]


def typed_resources(
    bundle: TypedBundle,
) -> tuple[list[Observation | Condition | MedicationRequest], type | None]:
    """`bundle_typed`, and the one type of all its resources when it is the usual Bundle of
    one resource type (None otherwise): gather takes such a list whole without looking at
    each resource's type again."""
    entries = bundle.entry
    if not entries:
        return [], None
    # the usual Bundle: a resource in each entry, no search members (one pass for both)
    resources = [entry.resource for entry in entries if entry.search is UNSET]
    if len(resources) == len(entries):
        kinds = set(map(type, resources))
        if kinds <= _TAKEN:
            return resources, kinds.pop() if len(kinds) == 1 else None
    return [
        resource
        for entry in entries
        if (resource := entry.resource) is not None
        and resource is not UNSET
        and type(resource) is not _Outcome
        and ((search := entry.search) is UNSET or search is None or search.mode != "outcome")
    ], None


def next_url(bundle: TypedBundle) -> str | None:
    """The Bundle's `next` link (as fhir_fetch.next_link)."""
    links = bundle.link
    if not links:
        return None
    for link in links:
        if link.relation == "next":
            url = link.url
            if isinstance(url, str) and url.strip():
                return url.strip()
    return None


def entry_count(bundle: TypedBundle) -> int:
    """How many entries the Bundle has (request.py's volume bound counts entries)."""
    return len(bundle.entry) if isinstance(bundle.entry, list) else 1


def as_dict(resource: Struct) -> dict[str, Any]:
    """A typed resource (or element) as the plain JSON dict of its members (for the general
    readers); members kept as JSON text are parsed."""
    return msgspec.to_builtins(resource, enc_hook=raw_json)  # type: ignore[no-any-return]

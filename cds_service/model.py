"""Plain data passed between the request stages (see docs/architecture.md).

Every stage takes and gives these frozen dataclasses (`Problem` and `Unclassified`: frozen
msgspec Structs, the same values built in C), or plain dicts of FHIR JSON, never objects that do
I/O. The walk is one-directional:

    auth -> request (HookRequest) -> gather (PatientRecord) -> normalise (Facts)
         -> assess (Assessment) -> render (cards) -> respond and record

Nothing here holds behaviour beyond trivial accessors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import msgspec

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

# --------------------------------------------------------------------------- stage 2: request


@dataclass(frozen=True)
class HookRequest:
    """A validated CDS Hooks request (stage 2 output)."""

    service_id: str
    hook: str
    hook_instance: str
    patient_id: str  # bare id, "Patient/" prefix removed
    fhir_server: str | None  # None when absent, null, unexpanded or not allowed
    access_token: str | None
    context: dict[str, Any]
    # values as sent (resource, Bundle, None, garbage...); Observation Bundles typed
    # (fhir_json.TypedBundle)
    prefetch: dict[str, Any]
    draft_orders: list[dict[str, Any]]  # order resources (entries unwrapped) from draftOrders
    selections: list[str]  # e.g. ["MedicationRequest/abc"] (order-select only)
    language: str  # chosen language tag: en | zh-TW | zh-CN | ja
    client_id: str | None = None  # issuer of the JWT, None when unsigned
    # fhirServer named a server this client may not have contacted: it never is; what the
    # prefetch does not carry is "not assessed (FHIR server not allowed)"
    fhir_server_refused: bool = False


# --------------------------------------------------------------------------- stage 3: gather


# Unavailable.reason when the request named a fhirServer this client may not name (never
# contacted) and the prefetch did not carry the data. A setting of the service, not a clinical
# finding: cards state it as information.
FHIR_SERVER_NOT_ALLOWED = "FHIR server not allowed"
PREFETCH_FAILED = "prefetch failed"


@dataclass(frozen=True)
class Unavailable:
    """Data the gather stage could not obtain; shown on cards as "not assessed"."""

    key: str  # prefetch key / data kind, e.g. "observations", "conditions"
    reason: str  # short, PHI-free: "timeout", "http 500", "not json", "paging cap", ...


# The reason gather gives when a FHIR server refuses a search under its R4 name and under its
# DSTU2/STU3 name; render reads it back to say, in the card language, which versions are read.
VERSION_REASON = "{kind} search refused by the FHIR server ({reason}): R4, STU3 or DSTU2 expected"


@dataclass(frozen=True)
class PatientRecord:
    """Raw FHIR R4 JSON (dicts) for one patient, as gathered. Nothing interpreted yet."""

    patient_id: str
    patient: dict[str, Any] | None = None
    observations: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    medication_requests: list[dict[str, Any]] = field(default_factory=list)
    medication_statements: list[dict[str, Any]] = field(default_factory=list)
    immunizations: list[dict[str, Any]] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    fhir_calls: int = 0  # how many HTTP calls gather made (audit / metrics)
    # True when each resource is in the record once by (resource type, id), as gather takes
    # them: normalise then skips its own check for a resource sent twice
    distinct: bool = False


# --------------------------------------------------------------------------- stage 4: normalise


@dataclass(frozen=True)
class Observed:
    """One normalised observation value for one concept.

    `value` is in the concept's canonical unit (`unit`), or None for coded/text results.
    `interpretation` is one of "positive", "negative", "indeterminate" or None.
    """

    concept: str  # concept id from knowledge/valuesets, e.g. "crp", "tjc28", "hbsag"
    when: date
    ref: str  # "Observation/123" (or "contained" label) — evidence pointer
    value: float | None = None
    unit: str | None = None  # canonical unit of the concept (UCUM), e.g. "mg/L"
    interpretation: str | None = None
    original: str | None = None  # value as sent, for display, e.g. "1.2 mg/dL", "<0.5"
    code: str | None = None  # system|code that matched
    comparator: str | None = None  # "<", "<=", ">", ">=" when the result was sent as a bound
    comparable: bool = True  # False: value kept in a unit not convertible to `unit` (shown only)
    # a value derived from others (ANC = WBC x neutrophil %): its inputs as
    # (concept id or "percent", value, unit); empty for a measured value
    derived_from: tuple[tuple[str, float, str | None], ...] = ()
    by_name: bool = False  # recognised by its name (no known code): reported as such


class Problem(msgspec.Struct, frozen=True, gc=False):
    """A normalised Condition (or a coded observation acting as one, e.g. smoking status).

    A frozen msgspec Struct rather than a dataclass (built once per relevant Condition, hundreds
    per chart): made in C from its fields, read through slots; equal, hashed and shown
    (repr) by its fields as a frozen dataclass is. Its fields hold no containers of objects
    (no reference cycles), so the cyclic collector need not track it."""

    concepts: frozenset[str]  # e.g. {"ra"}, {"malignancy", "lymphoma"}
    ref: str
    active: bool  # clinicalStatus active/recurrence/relapse (or absent and not abated)
    onset: date | None = None
    abatement: date | None = None
    recorded: date | None = None
    display: str | None = None
    code: str | None = None
    by_name: bool = False  # recognised by its display / text (every code unknown, or none)


class Unclassified(msgspec.Struct, frozen=True, gc=False):
    """A Condition normalise could map to no concept (by code or by name). A frozen msgspec
    Struct, as `Problem` is (and for the same reason).

    `codes` are its codings as (system family, code as sent), e.g. ("snomed", "404223003"),
    ("icd10", "X99.9"), ("local:http://hospital.example/dx", "A-17"); the family is
    `ValueSets.systems.family(system)` ("loinc", "snomed", "icd10", ... or "local:<uri>"). A
    Condition with text only has no codes. The pipeline may resolve the codes with a
    terminology server and normalise again; rules that conclude from absence count these.
    """

    ref: str
    codes: tuple[tuple[str, str], ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Medication:
    """A normalised active (or recent) medication of the patient, or a drug in the order."""

    drug: str | None  # ingredient concept, e.g. "tofacitinib", "methotrexate", None if unknown
    classes: frozenset[
        str
    ]  # e.g. {"jaki"}, {"biologic", "tnfi"}, {"steroid"}, {"cyp3a4_strong_inhibitor"}
    ref: str
    status: str | None = None
    dose_mg: float | None = None  # per administration
    per_day: float | None = None  # administrations per day (0.5 = every other day; weekly = 1/7)
    route: str | None = None  # "oral" | "topical" | "iv" | "sc" | None
    authored: date | None = None
    display: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Vaccination:
    cvx: str | None
    when: date | None
    ref: str
    status: str | None = None
    live: bool = False


@dataclass(frozen=True)
class Order:
    """A target drug recognised in draftOrders/selections (stage 4 output)."""

    drug: str  # ingredient concept id, e.g. "tofacitinib", "infliximab"
    drug_class: str  # "jaki" | "tyk2" | "biologic"
    ref: str  # e.g. "MedicationRequest/draft-1" (or "draftOrders[0]")
    resource: dict[str, Any]  # the draft resource as sent (for dose-update suggestions)
    dose_mg: float | None = None
    per_day: float | None = None
    dose_problem: str | None = None  # why the dose could not be read, if it could not
    route: str | None = None  # "oral" | "topical" | ...
    topical: bool = False
    indication: str | None = None  # "ra" | "pmr" | "myositis" | "rosacea" | ... | None
    indication_source: str | None = None  # "reasonCode" | "conditions" | None
    # every candidate indication from the same source, best first (indication is the first)
    indication_candidates: tuple[str, ...] = ()
    display: str | None = None  # drug text as sent (for the card, in the sender's language)
    dose_mg_per_kg: float | None = None  # weight-based dose as ordered (dose_mg from body weight)


@dataclass(frozen=True)
class Dropped:
    """A resource (or part of one) that normalise could not read, with the reason."""

    ref: str
    reason: str  # PHI-free, e.g. "unit 'mmol' not convertible for crp"


@dataclass(frozen=True)
class Facts:
    """Everything assess needs, in concepts and canonical units (stage 4 output)."""

    today: date  # the order date (request time), reference for windows and age
    orders: list[Order]
    age: int | None = None
    sex: str | None = None  # administrative gender: "male" | "female" | "other" | "unknown"
    birth_date: date | None = None
    # per concept, newest first: a list, or a read-only sequence that builds each Observed
    # when it is first read (normalise.observations.ObservedList)
    observations: dict[str, Sequence[Observed]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    medications: list[Medication] = field(default_factory=list)
    vaccinations: list[Vaccination] = field(default_factory=list)
    prednisone_mg_day: float | None = None  # prednisone-equivalent from active steroid orders
    unavailable: list[Unavailable] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    # Conditions (not refuted) that map to no concept: counted, never read as absent
    unclassified_conditions: list[Unclassified] = field(default_factory=list)

    def unclassified_codes(self) -> list[tuple[str, str]]:
        """The distinct (system family, code) pairs of `unclassified_conditions`, in order."""
        return list(dict.fromkeys(c for u in self.unclassified_conditions for c in u.codes))

    def latest(self, concept: str) -> Observed | None:
        values = self.observations.get(concept)
        return values[0] if values else None


# --------------------------------------------------------------------------- stage 5: assess


_SENT = re.compile(r"\s*((?:<=|>=|<|>|≤|≥)?\s*[-+]?\d+(?:[.,]\d+)?)\s*(.*)", re.S)
UNITLESS = frozenset({"", "1"})  # and UCUM annotations ({score}): a number without unit
# a plain number and one space: "73.1 " of "73.1 mm/h" (what `sent_as` reads as sent in the unit
# that follows, without splitting the text)
_NUMBER_SPACE = re.compile(r"[-+]?\d+(?:[.,]\d+)? ")


def split_sent(sent: str) -> tuple[str, str]:
    """ "<0.5 mg/dL" -> ("<0.5", "mg/dL"); "50" -> ("50", ""); text without number -> (text, "")."""
    found = _SENT.fullmatch(sent)
    if found is None:
        return sent.strip(), ""
    return found[1].replace(" ", ""), found[2].strip()


def is_unitless(unit: str) -> bool:
    return unit in UNITLESS or unit.startswith("{")


def sent_as(original: str | None, value: float | None, unit: str | None) -> str | None:
    """`original` ("3.1 mg/dL") when the chart's unit differs from the canonical `unit`; also
    a number sent without unit that its code's scale converted ("50" on a 0-10 patient global
    read as 500 mm): the card shows what the chart sent, never a figure it did not send."""
    if value is None or not original or not unit or unit.startswith("{"):
        return None  # counts and scores: no unit to speak of
    if (
        original.endswith(unit)
        and _NUMBER_SPACE.fullmatch(original, 0, len(original) - len(unit))
        and not unit[0].isspace()
        and not unit[-1].isspace()
    ):
        return None  # "73.1 mm/h" in mm/h (the usual): split_sent would give that unit
    sent_unit = split_sent(original)[1]
    return original if sent_unit != unit else None


@dataclass(frozen=True)
class Evidence:
    """What a finding or score used: a resource, the value with unit, and its date."""

    ref: str
    label: str  # concept id or short machine label, e.g. "egfr", "age", "condition:dvt"
    value: str | float | int | None = None
    unit: str | None = None
    when: date | None = None
    # inputs of a derived value (Observed.derived_from): shown next to it on the card
    derived_from: tuple[tuple[str, float, str | None], ...] = ()
    by_name: bool = False  # a condition or result recognised by its name, not by a code
    # value and unit as the chart sent them ("3.1 mg/dL") when that unit is not the canonical
    # one: the card shows the chart's unit, once
    sent: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ref": self.ref, "label": self.label}
        if self.value is not None:
            out["value"] = self.value
        if self.unit:
            out["unit"] = self.unit
        if self.when:
            out["date"] = self.when.isoformat()
        if self.derived_from:
            out["derivedFrom"] = [
                {"label": label, "value": value, **({"unit": unit} if unit else {})}
                for label, value, unit in self.derived_from
            ]
        if self.sent:
            out["sent"] = self.sent
        if self.by_name:
            out["recognisedBy"] = "name"
        return out


@dataclass(frozen=True)
class Suggestion:
    """Machine-level suggestion; the render stage turns it into a FHIR action.

    kind:
      "order-test"   — params: {"test": "<test id of knowledge/tests>"}
      "dose-update"  — params: {"dose_mg": float, "per_day": float}
      "vaccinate"    — params: {"cvx": "187"}
      "stop-order"   — params: {}
    """

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    rule_id: str  # id of clinical/SPEC.md, e.g. "JAKI-AGE-65"
    severity: Severity
    category: str  # "safety" | "activity" | "screening"
    order_ref: str | None  # Order.ref it concerns (None: patient-level)
    drug: str | None
    evidence: list[Evidence] = field(default_factory=list)
    source: str = ""  # citation text from knowledge
    params: dict[str, Any] = field(default_factory=dict)  # values for the card phrase
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass(frozen=True)
class NotAssessed:
    rule_id: str
    missing: str  # PHI-free machine phrase, e.g. "IGRA or TST result since 2025-11-23"
    category: str = "screening"
    order_ref: str | None = None
    drug: str | None = None
    since: date | None = None
    concepts: tuple[str, ...] = ()  # concept ids that were missing (for suggestions/texts)
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass(frozen=True)
class Score:
    id: str  # "DAS28-ESR", "CDAI", ...
    value: float | None
    category: str | None  # "remission" | "low" | "moderate" | "high" | "yes" | "no" | ...
    when: date | None
    inputs: dict[str, Any] = field(default_factory=dict)  # component -> value (canonical unit)
    evidence: list[Evidence] = field(default_factory=list)
    stale: bool = False
    recorded_total: float | None = None  # a total the EHR stored, if any
    mismatch: bool = False  # recomputed differs from recorded total by > 0.1
    problem: str | None = None  # why not computed (out-of-range input...), value is None then


@dataclass(frozen=True)
class Assessment:
    """Stage 5 output for one request."""

    orders: list[Order]
    findings: list[Finding] = field(default_factory=list)
    not_assessed: list[NotAssessed] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)  # newest first per id
    unavailable: list[Unavailable] = field(default_factory=list)
    unclassified_conditions: list[Unclassified] = field(default_factory=list)  # from Facts

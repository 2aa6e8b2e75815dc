"""Card suggestions as real FHIR R4 resources, validated with fhir.resources before they leave.

Three kinds of action (SPEC.md §7):
- `update` of the draft MedicationRequest to the labelled dose (dose-update);
- `create` of a ServiceRequest per missing test, coded with LOINC from knowledge/tests.toml;
- `create` of a MedicationRequest (intent `proposal`) for recombinant zoster vaccine, CVX 187.
  Never an Immunization: that resource records a dose already given.
Plus `delete` of the draft order (stop-order), which carries no resource.

fhir.resources 8 ships R4 as the R4B package (R4B changed nothing in the resources used here).
Only what this module builds is validated; prefetched data never goes through fhir.resources.
"""

from __future__ import annotations

import copy
import logging
import tomllib
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import orjson
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

from cards.catalogue import Catalogue, dose_interval
from cards.ids import random_uuid
from cds_service.knowledge import Knowledge
from cds_service.model import Order

log = logging.getLogger(__name__)
LOINC = "http://loinc.org"


@cache
def fhir_codes() -> dict[str, Any]:
    """cards/fhir_codes.toml: code systems and codes the suggestions use (with sources)."""
    with (Path(__file__).parent / "fhir_codes.toml").open("rb") as fh:
        return tomllib.load(fh)


def _validated(model: type[MedicationRequest] | type[ServiceRequest], resource: dict[str, Any]):
    """The resource if it is valid R4, else None (logged without content: it may hold PHI)."""
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        log.warning(
            "suggestion dropped: %s not valid R4 (%d errors)", model.__name__, exc.error_count()
        )
        return None
    return resource


_PLACEHOLDER_SUBJECT = {"reference": "Patient/placeholder"}


@lru_cache(maxsize=1024)
def _shape_valid(model_name: str, shape: bytes) -> bool:
    """Whether a resource built from service data (codes, texts) is valid R4; cached by shape."""
    model = MedicationRequest if model_name == "MedicationRequest" else ServiceRequest
    resource = {**orjson.loads(shape), "subject": _PLACEHOLDER_SUBJECT}
    return _validated(model, resource) is not None


# Whether a patient reference is a valid R4 Reference, by its text: the same patients' orders
# come back call after call, and validating one costs more than the rest of a suggestion.
# Only the answer is kept, in memory (never logged); bounded, then it starts again.
_REFERENCES: dict[str, bool] = {}  # reference text -> valid, as judged in this call
REFERENCES_KEPT = 1024


def forget_references() -> None:
    """Forget the patient references judged (`render_cards` calls it first): one call's
    suggestions share their subject, the next call's patient is another one, so keeping them
    across calls would only pay when the same patient is sent again."""
    _REFERENCES.clear()


def _subject_valid(subject: dict[str, Any]) -> bool:
    """Whether `subject` is a valid R4 Reference (one of only a `reference` text: remembered
    within the call).

    The usual subject, `{"reference": text}` with an ASCII text that is not all whitespace, is
    valid without asking fhir.resources: R4 constrains a Reference's `reference` only as a FHIR
    string (at least one character that is a space, tab, CR, LF or not whitespace; fhir.resources
    checks the pattern ``[ \\r\\n\\t\\S]+``), and such a text has one. Any other subject is
    validated by fhir.resources. Its validation of a Reference costs ~6 us on a warm CPU but
    ~60-100 us when the call runs after other processes (the pydantic schema is out of the
    caches), once per call (tests/cards/test_suggestions.py compares both on edge cases).
    """
    reference = subject.get("reference")
    key = reference if type(reference) is str and len(subject) == 1 else None
    if key is not None:
        if key.isascii() and key and not key.isspace():
            return True  # Python's isspace() covers every ASCII character that \s matches
        found = _REFERENCES.get(key)
        if found is not None:
            return found
    try:
        Reference.model_validate(subject)
        valid = True
    except ValidationError:
        valid = False
    if key is not None:
        if len(_REFERENCES) >= REFERENCES_KEPT:
            _REFERENCES.clear()
        _REFERENCES[key] = valid
    return valid


def _with_subject(
    model: type[MedicationRequest] | type[ServiceRequest],
    resource: dict[str, Any],
    subject: dict[str, Any],
) -> dict[str, Any] | None:
    """`resource` with `subject`, validated as R4.

    The part built from the knowledge and catalogue files is validated once per shape (it is
    the same for every patient); the patient reference, the only per-request part, once per
    reference text within a call (`_subject_valid`).
    """
    if not _shape_valid(model.__name__, orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)):
        return None
    if not _subject_valid(subject):
        log.warning("suggestion dropped: subject reference not valid R4")
        return None
    return {**resource, "subject": subject}


def subject_of(order: Order) -> dict[str, Any] | None:
    """The patient reference of the draft order (`subject`, or STU3/DSTU2 `patient`)."""
    for key in ("subject", "patient"):
        ref = order.resource.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return {"reference": ref["reference"]}
    return None


# ----------------------------------------------------------------------------- dose update


def timing_for(per_day: float) -> dict[str, Any]:
    """FHIR Timing.repeat for a number of administrations per day (2 = twice daily)."""
    if per_day >= 1 and abs(per_day - round(per_day)) < 1e-6:
        return {"frequency": int(round(per_day)), "period": 1, "periodUnit": "d"}
    interval = dose_interval(per_day)
    if interval:
        return {"frequency": 1, "period": interval[0], "periodUnit": interval[1]}
    return {"frequency": 1, "period": round(1 / per_day, 3), "periodUnit": "d"}


def dose_text(cat: Catalogue, dose_mg: float, per_day: float | None) -> str:
    """'5 mg twice daily', '400 mg every 8 weeks' in the catalogue's language."""
    return cat.dose_text(dose_mg, per_day)


def dose_update_resource(
    draft: dict[str, Any], dose_mg: float, per_day: float | None, text: str
) -> dict[str, Any] | None:
    """A copy of the draft MedicationRequest whose first dosage is `dose_mg` mg `per_day` times.

    Other dosage members (route, site, asNeeded...) are kept; STU3-style `doseQuantity` on the
    dosage and a single-object `doseAndRate` are replaced by the R4 shape. None when the draft
    is not an R4 MedicationRequest with an id (an update needs one) or the result is invalid.
    """
    if draft.get("resourceType") != "MedicationRequest" or not draft.get("id"):
        return None
    resource = copy.deepcopy(draft)
    dosages = resource.get("dosageInstruction")
    first = dict(dosages[0]) if isinstance(dosages, list) and dosages else {}
    if not isinstance(first, dict):
        first = {}
    first.pop("doseQuantity", None)
    first.pop("doseRange", None)
    first["doseAndRate"] = [
        {
            "doseQuantity": {
                "value": dose_mg,
                "unit": "mg",
                "system": fhir_codes()["ucum"]["system"],
                "code": "mg",
            }
        }
    ]
    if per_day is not None:
        first["timing"] = {"repeat": timing_for(per_day)}
    first["text"] = text
    rest = dosages[1:] if isinstance(dosages, list) else []
    resource["dosageInstruction"] = [first, *rest]
    listed = _listed(MedicationRequest, resource)
    return resource if listed is None else _validated(MedicationRequest, listed)


def _listed(model: type[MedicationRequest], resource: dict[str, Any]) -> dict[str, Any] | None:
    """None when `resource` is valid R4 as it is; else `resource` with each top-level member
    that R4 repeats (0..*) but the client sent as one object put in a list (to be validated
    again): the CDS Hooks sandbox sends `category: {coding: [...]}` on its draft
    MedicationRequest, and an update copied from it would otherwise be invalid and dropped."""
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        wrap = {
            err["loc"][0]
            for err in exc.errors()
            if err["type"] == "list_type"
            and len(err["loc"]) == 1
            and isinstance(err["input"], dict)
        }
        return {key: [value] if key in wrap else value for key, value in resource.items()}
    return None


def dose_of(resource: dict[str, Any]) -> tuple[float | None, dict[str, Any] | None]:
    """(dose in mg, timing repeat) of a MedicationRequest's first dosage (R4 shape)."""
    try:
        dosage = resource["dosageInstruction"][0]
        quantity = dosage["doseAndRate"][0]["doseQuantity"]
        return float(quantity["value"]), dosage.get("timing", {}).get("repeat")
    except (KeyError, IndexError, TypeError, ValueError):
        return None, None


# ----------------------------------------------------------------------------- tests


def codings_of_test(knowledge: Knowledge, test_id: str) -> list[dict[str, str]]:
    """Codings of a test id in knowledge/tests.toml: one order is created per coding.

    An entry lists `codes = [{system, code, display}, ...]` (LOINC); a panel such as hepatitis
    B serology lists several, and the suggestion then creates one ServiceRequest for each.
    """
    entry = knowledge.files.get("tests", {}).get(test_id)
    if not isinstance(entry, dict):
        return []
    out: list[dict[str, str]] = []
    for item in entry.get("codes", []):
        if isinstance(item, dict) and item.get("code"):
            coding = {"system": str(item.get("system", LOINC)), "code": str(item["code"])}
            if item.get("display"):
                coding["display"] = str(item["display"])
            out.append(coding)
    return out


def name_of_test(knowledge: Knowledge, cat: Catalogue, test_id: str) -> str:
    """The test's name in the card language (catalogue), else the text of tests.toml."""
    label = cat.data["test"].get(test_id)
    if label:
        return label
    entry = knowledge.files.get("tests", {}).get(test_id)
    return str(entry.get("text", test_id)) if isinstance(entry, dict) else test_id


def _service_request_shapes(codings: list[dict[str, str]], text: str) -> list[dict[str, Any]]:
    """One draft ServiceRequest per coding (by text alone without one), without subject."""
    out = []
    for code in codings or [None]:
        concept: dict[str, Any] = {"coding": [code], "text": text} if code else {"text": text}
        out.append(
            {
                "resourceType": "ServiceRequest",
                "status": "draft",
                "intent": "order",
                "code": concept,
            }
        )
    return out


# ----------------------------------------------------------------------------- vaccine


def _zoster_shape(text: str, dosage_text: str) -> dict[str, Any]:
    codes = fhir_codes()["zoster_vaccine"]
    route = codes["route"]
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": {
            "coding": [
                {"system": codes["system"], "code": codes["code"], "display": codes["display"]}
            ],
            "text": text,
        },
        "dosageInstruction": [
            {
                "text": dosage_text,
                "route": {
                    "coding": [
                        {
                            "system": route["system"],
                            "code": route["code"],
                            "display": route["display"],
                        }
                    ]
                },
            }
        ],
    }


def zoster_vaccine_request(
    subject: dict[str, Any], text: str, dosage_text: str
) -> dict[str, Any] | None:
    """A MedicationRequest (status draft, intent proposal) for recombinant zoster vaccine."""
    return _with_subject(MedicationRequest, _zoster_shape(text, dosage_text), subject)


# ----------------------------------------------------------------------------- suggestions


def _positive(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value > 0
        and value < float("inf")
    )


def _suggestion(
    label: str, actions: list[dict[str, Any]], uuid: Callable[[], str]
) -> dict[str, Any]:
    return {"label": label[:200], "uuid": uuid(), "actions": actions}


def build_suggestion(
    kind: str,
    params: dict[str, Any],
    order: Order,
    cat: Catalogue,
    knowledge: Knowledge,
    uuid: Callable[[], str] = random_uuid,
) -> dict[str, Any] | None:
    """A CDS Hooks suggestion for one engine Suggestion, or None when it cannot be built;
    its id from `uuid` (render passes the response's `ids.UuidDraw`)."""
    if kind == "dose-update":
        dose_mg, per_day = params.get("dose_mg"), params.get("per_day")
        if not _positive(dose_mg) or not (per_day is None or _positive(per_day)):
            return None  # an unreadable suggestion is dropped, never guessed
        text = dose_text(cat, float(dose_mg), per_day)
        resource = dose_update_resource(order.resource, float(dose_mg), per_day, text)
        if resource is None:
            return None
        drug = cat.drug(order.drug, order.display)
        label = cat.fill("action", "dose_update", drug=drug, dose=text)
        update = {"type": "update", "description": label, "resource": resource}
        return _suggestion(label, [update], uuid)
    if kind == "stop-order":
        ref = order.ref
        if "/" not in ref or ref.startswith("draftOrders"):
            return None
        label = cat.fill("action", "stop_order", drug=cat.drug(order.drug, order.display))
        return _suggestion(
            label, [{"type": "delete", "description": label, "resourceId": ref}], uuid
        )
    subject = subject_of(order)
    if subject is None:
        return None
    if kind == "order-test":
        test_id = str(params.get("test", ""))
        prepared = _prepared(("order-test", test_id), cat, knowledge)
    elif kind == "vaccinate":
        if str(params.get("cvx", "187")) != fhir_codes()["zoster_vaccine"]["code"]:
            return None
        prepared = _prepared(("vaccinate",), cat, knowledge)
    else:
        return None
    if prepared is None:
        return None
    label, blobs = prepared
    if not _subject_valid(subject):
        for _ in blobs:
            log.warning("suggestion dropped: subject reference not valid R4")
        return None
    actions = [
        {
            "type": "create",
            "description": label,
            "resource": {**orjson.loads(b), "subject": subject},
        }
        for b in blobs
    ]
    return _suggestion(label, actions, uuid)


def _prepare(
    what: tuple[str, ...], cat: Catalogue, knowledge: Knowledge
) -> tuple[str, tuple[bytes, ...]] | None:
    """The label and the resources (valid R4 once a subject is added; as JSON, without it) of
    a create suggestion that depends only on the knowledge and the card language: the tests
    of knowledge/tests.toml (`("order-test", test id)`) and the zoster vaccine
    (`("vaccinate",)`). None when there is nothing to suggest."""
    resources: list[tuple[type[MedicationRequest] | type[ServiceRequest], dict[str, Any]]] = []
    if what[0] == "order-test":
        test_id = what[1]
        if not isinstance(knowledge.files.get("tests", {}).get(test_id), dict):
            return None  # not a test the knowledge files describe
        text = name_of_test(knowledge, cat, test_id)
        resources = [
            (ServiceRequest, r)
            for r in _service_request_shapes(codings_of_test(knowledge, test_id), text)
        ]
        label = cat.fill("action", "order_test", test=text)
    else:
        vaccine = cat.get("vaccine", "rzv")
        resources = [(MedicationRequest, _zoster_shape(vaccine, cat.get("vaccine", "rzv_dosage")))]
        label = cat.fill("action", "vaccinate", vaccine=vaccine)
    blobs = tuple(
        orjson.dumps(r)
        for model, r in resources
        if _shape_valid(model.__name__, orjson.dumps(r, option=orjson.OPT_SORT_KEYS))
    )
    return (label, blobs) if blobs else None


# _prepare's answers by (what, language, knowledge); a few dozen in all
_PREPARED: dict[tuple[Any, ...], tuple[Knowledge, tuple[str, tuple[bytes, ...]] | None]] = {}
PREPARED_KEPT = 1024  # then the memo starts again


def _prepared(
    what: tuple[str, ...], cat: Catalogue, knowledge: Knowledge
) -> tuple[str, tuple[bytes, ...]] | None:
    key = (*what, cat.language, id(knowledge))
    hit = _PREPARED.get(key)
    if hit is None or hit[0] is not knowledge:
        if len(_PREPARED) >= PREPARED_KEPT:
            _PREPARED.clear()
        hit = _PREPARED[key] = (knowledge, _prepare(what, cat, knowledge))
    return hit[1]

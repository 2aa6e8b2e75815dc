"""Medications: which drug a MedicationRequest / MedicationStatement / MedicationOrder is, its
route and its classes; the patient's medication list; prednisone-equivalent daily dose.

A drug is identified by (first match wins):
1. a coding of the medication (RxNorm ingredient or product, ATC exact code, institution code),
   from medicationCodeableConcept, a contained Medication (medicationReference "#id"), or R5
   `medication.concept`; a CVX coding of a live vaccine counts as the class live_vaccine;
2. a generic or brand name (English, Japanese, Chinese) found in the medication text or
   displays, or in Medication.ingredient / reference display.
A medication whose texts name several known drugs ("isoniazid 300 mg + rifampicin 600 mg"), or
a combination code (ATC J04AM02, medications.toml `also`), counts as each of them for
interactions, classes and latent-TB treatment; no dose is read for any of them (a dose could
belong to either), and a target order naming two drugs is "not assessed" for its dose.

Route (first found): the dosage route (SNOMED route code or words), the route a code or name
implies (ATC D11AH09, "Opzelura"), dose-form words in the medication text ("cream", "軟膏"),
the drug's usual route. Local routes (topical, inhaled, nasal, ophthalmic, rectal, vaginal)
use the drug's `topical_classes` (none by default).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson

from cds_service.fhir_json import UNSET, MedicationRequest, as_dict
from cds_service.knowledge.index import MedCode, ValueSets, remember
from cds_service.model import Dropped, Medication
from cds_service.normalise.construct import fast_positional
from cds_service.normalise.dosage import Dose, problem, read_dose
from cds_service.normalise.fhir import (
    MEMO_LONGEST,
    as_list,
    codings,
    concept_texts,
    contained,
    first_date,
    parse_date,
    ref_of,
    status_code,
)

LOCAL_ROUTES = frozenset({"topical", "inhaled", "nasal", "ophthalmic", "rectal", "vaginal"})
ACTIVE_STATUS = frozenset({"active", "intended", "on-hold"})
EXCLUDED_STATUS = frozenset({"entered-in-error", "cancelled", "not-taken"})
LIVE_VACCINE = "live_vaccine"
_MR = "MedicationRequest"  # the resourceType of a typed order (fhir_json.MedicationRequest)
_MR_PREFIX = _MR + "/"


@dataclass(frozen=True)
class Identity:
    drug: str | None
    code_route: str | None  # route implied by the matched code or name
    display: str | None  # medication text as sent
    code: str | None  # system|code matched
    texts: tuple[str, ...]  # every text describing the medication (for strength and form)
    unit_mg: float | None = None  # strength per unit of a product code (RxNorm SCD/SBD)
    ml_mg: float | None = None  # strength per mL of a product code (oral solution)
    # the other known drugs its texts name ("isoniazid 300 mg + rifampicin 600 mg"): each
    # counts as a medication of the patient; no dose is read for any of them
    others: tuple[str, ...] = ()


def medication_concept(resource: dict[str, Any]) -> tuple[Any, list[str]]:
    """The medication CodeableConcept of an order/statement and extra descriptive texts."""
    extra: list[str] = []
    cc = resource.get("medicationCodeableConcept")
    if cc is not None:
        return cc, extra
    ref = resource.get("medicationReference")
    r5 = resource.get("medication")
    if isinstance(r5, dict):
        if r5.get("concept") is not None:
            return r5["concept"], extra
        ref = r5.get("reference", ref)
    if isinstance(ref, dict):
        med = contained(resource, ref)
        if isinstance(ref.get("display"), str):
            extra.append(ref["display"])
        if med is not None:
            product = med.get("product") if isinstance(med.get("product"), dict) else {}
            extra.extend(concept_texts(med.get("form") or product.get("form")))  # DSTU2 product
            for ing in as_list(med.get("ingredient") or product.get("ingredient")):
                if isinstance(ing, dict):
                    item = ing.get("itemCodeableConcept") or ing.get("item")
                    if not isinstance(item, dict):
                        continue
                    if isinstance(item.get("display"), str):
                        extra.append(item["display"])  # DSTU2/STU3 Reference(Substance)
                    extra.extend(concept_texts(item.get("concept", item)))  # R5 or R4
            return med.get("code"), extra
    return None, extra


def identify(resource: dict[str, Any], vs: ValueSets) -> Identity:
    """The drug of an order or statement. A code is taken unless the texts sent with it name
    other drugs only: the clinician sees the text, and a mis-mapped code must not turn an
    unrelated drug into a JAK order (nor hide one). Texts naming several known drugs (a
    combination or an order for two drugs) give the others in `others`."""
    cc, extra = medication_concept(resource)
    texts = tuple(concept_texts(cc)) + tuple(extra)
    display = texts[0] if texts else None
    named = {hit.drug: hit for text in texts for hit in vs.medications_in_text(text)}
    coded = _coded_identity(cc, vs, display, texts)
    if coded is not None and (not named or coded.drug in named):
        found = coded
    elif named:
        first = next(iter(named.values()))
        found = Identity(first.drug, first.route, display, None, texts)
    else:
        return Identity(None, None, display, None, texts)
    if len(named) > (found.drug in named):
        others = tuple(d for d in dict.fromkeys((*found.others, *named)) if d != found.drug)
        return replace(found, others=others)
    return found


def _coded_identity(cc: Any, vs: ValueSets, display, texts) -> Identity | None:
    hits: list[tuple[MedCode, str]] = []
    for coding in codings(cc):
        code = coding.get("code")
        if not isinstance(code, str) or not code.strip():
            continue
        system = coding.get("system")
        hit: MedCode | None = vs.medication_code(system, code)
        if hit is None and vs.systems.family(system) == "cvx":
            vaccine = vs.vaccines.get(code.strip())
            if vaccine is not None and vaccine.live:
                hit = MedCode(LIVE_VACCINE)
        if hit is not None:
            hits.append((hit, f"{system or ''}|{code}"))
    if not hits:
        return None
    first, matched = hits[0]
    # a product code among the codings of the same drug (an ingredient and an SCD coding
    # sent together) gives the strength per unit; two products of different strength give none
    unit = {h.unit_mg for h, _ in hits if h.drug == first.drug and h.unit_mg is not None}
    per_ml = {h.ml_mg for h, _ in hits if h.drug == first.drug and h.ml_mg is not None}
    return Identity(
        first.drug,
        first.route,
        display,
        matched,
        texts,
        unit_mg=next(iter(unit)) if len(unit) == 1 else None,
        ml_mg=next(iter(per_ml)) if len(per_ml) == 1 else None,
        others=first.also,
    )


def product_strength(identity: Identity) -> tuple[float | None, float | None]:
    """(mg per unit, mg per mL) that the matched product code gives, if any."""
    return identity.unit_mg, identity.ml_mg


def dosages(resource: dict[str, Any]) -> list[dict[str, Any]]:
    items = resource.get("dosageInstruction")
    if items is None:
        items = resource.get("dosage")
    return [d for d in as_list(items) if isinstance(d, dict)]


def route_of(resource: dict[str, Any], identity: Identity, vs: ValueSets) -> str | None:
    for dose in dosages(resource):
        route = dose.get("route")
        for coding in codings(route):
            code = coding.get("code")
            if isinstance(code, str):
                hit = vs.route_codes.get((vs.systems.family(coding.get("system")), code.strip()))
                if hit is not None:
                    return hit
        for text in concept_texts(route):
            hit = vs.route_in_text(text)
            if hit is not None:
                return hit
    if identity.code_route is not None:
        return identity.code_route
    for text in identity.texts:
        hit = vs.route_in_text(text)
        if hit is not None:
            return hit
    drug = vs.drugs.get(identity.drug or "")
    return drug.route if drug is not None else None


def classes_for(vs: ValueSets, drug_id: str | None, route: str | None) -> frozenset[str]:
    drug = vs.drugs.get(drug_id or "")
    if drug is None:
        return frozenset()
    return drug.topical_classes if route in LOCAL_ROUTES else drug.classes


def normalise_medications(
    requests: list[dict[str, Any]], statements: list[dict[str, Any]], vs: ValueSets
) -> tuple[list[Medication], list[Dropped]]:
    """The patient's medications whose drug is known (unknown drugs are not relevant)."""
    out: list[Medication] = []
    dropped: list[Dropped] = []
    seen: set[str] = set()
    memo: dict[Any, _Reading] = {}  # refills and repeat orders of this record, read once
    for kind, resources in (("MedicationRequest", requests), ("MedicationStatement", statements)):
        for index, resource in enumerate(resources):
            if type(resource) is MedicationRequest:  # decoded typed (fhir_json)
                if _usual(resource):
                    status = resource.status
                    status = status_code(status) if type(status) is str else None
                    if status in EXCLUDED_STATUS:
                        continue
                    rid = resource.id
                    ref = (  # as ref_of
                        _MR_PREFIX + rid if type(rid) is str and rid else f"{_MR}[{index}]"
                    )
                    if ref in seen:  # the same order sent twice
                        continue
                    seen.add(ref)
                    key = _typed_key(resource)
                    reading = memo.get(key)
                    if reading is None:
                        reading = memo[key] = _remembered_read(resource, key, vs)
                    identity, route, classes, dose = reading
                    if identity.drug is None:
                        continue
                    authored = parse_date(resource.authoredOn)
                    if authored is None:  # another date member, or none
                        authored = first_date(as_dict(resource), *_AUTHORED)
                    _add(out, dropped, vs, reading, ref, status, authored)
                    continue
                resource = as_dict(resource)  # any other shape: read as plain JSON
            if not isinstance(resource, dict):
                continue
            status = status_code(resource.get("status"))
            if status in EXCLUDED_STATUS or _not_taken(resource):
                continue
            ref = ref_of(resource, index, kind)
            if ref in seen:  # the same order sent twice
                continue
            seen.add(ref)
            key = _reading_key(resource)
            if key is None:
                reading = _read(resource, vs)
            else:
                reading = memo.get(key)
                if reading is None:
                    reading = memo[key] = _remembered_read(resource, key, vs)
            if reading[0].drug is None:
                continue
            _add(out, dropped, vs, reading, ref, status, first_date(resource, *_AUTHORED))
    return out, dropped


def _add(
    out: list[Medication],
    dropped: list[Dropped],
    vs: ValueSets,
    reading: _Reading,
    ref: str,
    status: str | None,
    authored: Any,
) -> None:
    """The medication(s) of an order or statement of a known drug, read as `reading`."""
    identity, route, classes, dose = reading
    drug = identity.drug
    if dose.problem and "steroid" in classes and status in ACTIVE_STATUS:
        dropped.append(Dropped(ref, f"steroid dose not readable: {dose.problem}"))
    med = _medication(
        drug,
        classes,
        ref,
        status,
        dose.dose_mg,
        dose.per_day,
        route,
        authored,
        identity.display,
        identity.code,
    )
    out.append(med)
    for other in identity.others:
        classes = classes_for(vs, other, route)
        if "steroid" in classes and status in ACTIVE_STATUS:
            dropped.append(Dropped(ref, f"steroid dose not readable: {dose.problem}"))
        out.append(replace(med, drug=other, classes=classes, code=None))


_Reading = tuple[Identity, str | None, frozenset[str], Dose]  # drug, route, classes, dose
_AUTHORED = (  # the date an order or statement was written
    *("authoredOn", "dateWritten", "effectiveDateTime", "effectivePeriod.start"),
    "dateAsserted",
)
_medication = fast_positional(  # one per known order (see construct.py)
    Medication,
    *("drug", "classes", "ref", "status", "dose_mg", "per_day", "route", "authored"),
    *("display", "code"),
)


def reading(resource: dict[str, Any], vs: ValueSets) -> _Reading:
    """The drug (`identify`), route, classes and dose (`read_dose`) of an order or statement
    as plain JSON, remembered across calls by what they are read from (`_reading_key`): the
    same order comes back in call after call (order-select, then order-sign)."""
    key = _reading_key(resource)
    if key is None:
        return _read(resource, vs)
    return _remembered_read(resource, key, vs)


def _read(resource: dict[str, Any], vs: ValueSets) -> _Reading:
    """The drug, route, classes and dose of an order or statement: all read from its
    medication (`medication_concept`) and its dosage lines, nothing else."""
    identity = identify(resource, vs)
    if identity.drug is None:
        return identity, None, frozenset(), Dose()
    route = route_of(resource, identity, vs)
    classes = classes_for(vs, identity.drug, route)
    if identity.others:  # several drugs: counted for each, a dose for none
        dose = Dose(problem=problem("several_drugs"))
    else:
        dose = read_dose(dosages(resource), identity.texts, vs, product_strength(identity))
    return identity, route, classes, dose


def _remembered_read(
    resource: dict[str, Any] | MedicationRequest, key: Any, vs: ValueSets
) -> _Reading:
    """`_read` of a resource whose `_reading_key` (or `_typed_key`) is `key`, remembered in
    the value sets across calls (a pure function of the key and the value sets; bounded):
    the same drugs and dosages come back in chart after chart."""
    cache_key = ("med-read", key)
    found = vs._coding_cache.get(cache_key)
    if found is None:
        if type(resource) is MedicationRequest:
            resource = as_dict(resource)
        found = _read(resource, vs)  # type: ignore[arg-type]
        size = len(key) if type(key) is bytes else len(key[1]) + len(key[2])
        if size <= MEMO_LONGEST:
            remember(vs._coding_cache, cache_key, found)
    return found  # type: ignore[no-any-return]


def _usual(resource: MedicationRequest) -> bool:
    """Is a typed order of the usual shape: its drug in medicationCodeableConcept (or none),
    its dosage in dosageInstruction (or none), nothing that says it is not taken? Then its
    reading depends on those two JSON texts only (`_typed_key`)."""
    return (
        resource.medicationReference is UNSET
        and resource.medication is UNSET
        and resource.contained is UNSET
        and resource.dosage is UNSET
        and resource.wasNotTaken is UNSET
        and resource.taken is UNSET
    )


def _typed_key(resource: MedicationRequest) -> tuple[str, bytes, bytes]:
    """Everything `_read` reads of a typed order of the usual shape: the JSON texts of its
    medicationCodeableConcept and dosageInstruction (b"" when absent)."""
    concept = resource.medicationCodeableConcept
    dosage = resource.dosageInstruction
    return (
        "typed",
        b"" if concept is UNSET else bytes(concept),
        b"" if dosage is UNSET else bytes(dosage),
    )


def _reading_key(resource: dict[str, Any]) -> bytes | None:
    """Everything `_read` reads of `resource`, as JSON bytes (None when it is not JSON):
    the same key, the same reading."""
    try:
        return orjson.dumps((medication_concept(resource), dosages(resource)))
    except (orjson.JSONEncodeError, TypeError):
        return None


def _not_taken(resource: dict[str, Any]) -> bool:
    """A statement that the drug is not taken: DSTU2 wasNotTaken, STU3 taken "n"."""
    if resource.get("wasNotTaken") is True:
        return True
    taken = resource.get("taken")
    return isinstance(taken, str) and taken.strip().casefold() == "n"


def prednisone_equivalent(meds: list[Medication], vs: ValueSets) -> float | None:
    """Prednisone-equivalent mg/day of the active systemic glucocorticoids: sum of dose x
    administrations per day x factor (BNF equivalences, medications.toml). 0.0 when none is
    active; None when an active one has no readable dose (the sum would understate)."""
    total = 0.0
    for med in meds:
        if "steroid" not in med.classes or (med.status or "active") not in ACTIVE_STATUS:
            continue
        drug = vs.drugs.get(med.drug or "")
        factor = drug.prednisone_factor if drug is not None else None
        if factor is None or med.dose_mg is None or med.per_day is None:
            return None
        total += med.dose_mg * med.per_day * factor
    return round(total, 3)

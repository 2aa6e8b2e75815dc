"""Conditions -> `Problem`s with concept ids (SNOMED CT, ICD-10-CM, WHO ICD-10, or names).

- verificationStatus refuted or entered-in-error: excluded (R4 CodeableConcept or STU3 code);
- active = clinicalStatus active / recurrence / relapse; inactive / remission / resolved are
  kept as history (prior DVT, cancer within 5 years) with active = False; without
  clinicalStatus a Condition is active unless it has an abatement;
- onset (onsetDateTime / onsetPeriod.start / onsetString), abatement (abatementDateTime /
  abatementPeriod.end / abatementString), recorded (recordedDate, STU3 assertedDate, DSTU2
  dateRecorded);
- problem-list items and encounter diagnoses are read alike (category is not a filter);
- a Condition none of whose codes or names is in the value sets is not relevant and skipped.
"""

from __future__ import annotations

from typing import Any

from cds_service.knowledge.index import ValueSets
from cds_service.model import Problem
from cds_service.normalise.construct import fast_constructor
from cds_service.normalise.fhir import (
    codings,
    concept_text,
    concept_texts,
    first_date,
    ref_of,
    status_code,
)

EXCLUDED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
ACTIVE = frozenset({"active", "recurrence", "relapse"})
_new_problem = fast_constructor(Problem)  # one per relevant Condition (see construct.py)
INACTIVE = frozenset({"inactive", "remission", "resolved"})


def condition_concepts(vs: ValueSets, code: Any) -> tuple[frozenset[str], str | None]:
    """Concepts (with implied broader ones) of a CodeableConcept, and the system|code matched."""
    found: set[str] = set()
    matched: str | None = None
    for coding in codings(code):
        value = coding.get("code")
        if not isinstance(value, str) or not value.strip():
            continue
        concept = vs.condition_concept(coding.get("system"), value)
        if concept is not None:
            found |= vs.concepts_with_implied(concept)
            matched = matched or f"{coding.get('system') or ''}|{value}"
    if not found:
        for text in concept_texts(code):
            concept = vs.condition_name(text)
            if concept is not None:
                found |= vs.concepts_with_implied(concept)
                break
    return frozenset(found), matched


def normalise_conditions(resources: list[dict[str, Any]], vs: ValueSets) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict):
            continue
        ref = ref_of(resource, index, "Condition")
        if ref in seen:  # the same Condition sent twice (prefetch and search)
            continue
        seen.add(ref)
        if status_code(resource.get("verificationStatus")) in EXCLUDED_VERIFICATION:
            continue
        concepts, matched = condition_concepts(vs, resource.get("code"))
        if not concepts:
            continue
        clinical = status_code(resource.get("clinicalStatus"))
        abatement = first_date(
            resource,
            "abatementDateTime",
            "abatementPeriod.end",
            "abatementPeriod.start",
            "abatementString",
        )
        abated = abatement is not None or resource.get("abatementBoolean") is True
        active = clinical in ACTIVE if clinical in ACTIVE | INACTIVE else not abated
        out.append(
            _new_problem(
                concepts=concepts,
                ref=ref,
                active=active,
                onset=first_date(resource, "onsetDateTime", "onsetPeriod.start", "onsetString"),
                abatement=abatement,
                recorded=first_date(resource, "recordedDate", "assertedDate", "dateRecorded"),
                display=concept_text(resource.get("code")),
                code=matched,
            )
        )
    return out

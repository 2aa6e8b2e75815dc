"""Immunizations -> `Vaccination`s with the CVX code and the live flag of vaccines.toml."""

from __future__ import annotations

from typing import Any

from cds_service.knowledge.index import ValueSets, norm_text
from cds_service.model import Dropped, Vaccination
from cds_service.normalise.fhir import codings, concept_texts, first_date, ref_of, status_code

EXCLUDED_STATUS = frozenset({"not-done", "entered-in-error"})


def vaccine_cvx(vs: ValueSets, vaccine_code: Any) -> str | None:
    """CVX code of a vaccineCode (a CVX coding, else a known vaccine name in its text)."""
    for coding in codings(vaccine_code):
        code = coding.get("code")
        if isinstance(code, str) and vs.systems.family(coding.get("system")) == "cvx":
            return code.strip()
    for text in concept_texts(vaccine_code):
        cvx = vs.vaccine_names.get(norm_text(text))
        if cvx is not None:
            return cvx
    return None


def normalise_immunizations(
    resources: list[dict[str, Any]], vs: ValueSets
) -> tuple[list[Vaccination], list[Dropped]]:
    """Given vaccinations (status not-done / entered-in-error, STU3 notGiven and DSTU2
    wasNotGiven excluded). The date is R4 occurrenceDateTime / occurrenceString, else the
    STU3/DSTU2 `date`."""
    out: list[Vaccination] = []
    dropped: list[Dropped] = []
    seen: set[str] = set()
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict):
            continue
        status = status_code(resource.get("status"))
        if (
            status in EXCLUDED_STATUS
            or resource.get("notGiven") is True  # STU3
            or resource.get("wasNotGiven") is True  # DSTU2
        ):
            continue
        ref = ref_of(resource, index, "Immunization")
        if ref in seen:
            continue
        seen.add(ref)
        cvx = vaccine_cvx(vs, resource.get("vaccineCode"))
        vaccine = vs.vaccines.get(cvx or "")
        if cvx is None:
            dropped.append(Dropped(ref, "vaccine not identified (no CVX code or known name)"))
        elif vaccine is None:
            dropped.append(Dropped(ref, f"CVX {cvx} not in the vaccine value set: live unknown"))
        out.append(
            Vaccination(
                cvx=cvx,
                when=first_date(resource, "occurrenceDateTime", "occurrenceString", "date"),
                ref=ref,
                status=status,
                live=vaccine.live if vaccine is not None else False,
            )
        )
    return out, dropped

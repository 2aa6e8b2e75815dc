"""Patient demographics: age at the order date, administrative gender."""

from __future__ import annotations

from datetime import date
from typing import Any

from cds_service.normalise.fhir import parse_date

GENDERS = frozenset({"male", "female", "other", "unknown"})


def age_on(birth: date, today: date) -> int:
    """Completed years of age on `today` (a birthday on 29 February counts on 1 March)."""
    years = today.year - birth.year
    if (today.month, today.day) < (birth.month, birth.day):
        years -= 1
    return years


def demographics(
    patient: dict[str, Any] | None, today: date
) -> tuple[int | None, str | None, date | None]:
    """(age, sex, birth date) of a Patient resource; None where not readable.

    A birth date given only as a year ("1950") is read as 1 January: the age may then be one
    year too high for part of the year, which errs towards the age-based warnings.
    """
    if not isinstance(patient, dict):
        return None, None, None
    birth = parse_date(patient.get("birthDate"))
    age = age_on(birth, today) if birth is not None and birth <= today else None
    gender = patient.get("gender")
    sex = gender.casefold() if isinstance(gender, str) and gender.casefold() in GENDERS else None
    return age, sex, birth

"""FHIR date, dateTime and instant values read as the day they name, however they are
spelled; what is no date reads as none (the result is then dropped as undated)."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.normalise.fhir import parse_date

CASES = [
    ("2024-05-03", date(2024, 5, 3)),
    ("2024-05-03T10:17:43+08:00", date(2024, 5, 3)),
    ("2024-05-03T23:59:59.123456Z", date(2024, 5, 3)),
    ("2024-05-03T10:17:43+08:00   ", date(2024, 5, 3)),
    ("  2024-05-03T10:17:43+08:00", date(2024, 5, 3)),
    ("\t2024-05-03", date(2024, 5, 3)),
    ("2024-05", date(2024, 5, 1)),
    ("2024-05        ", date(2024, 5, 1)),  # longer than a date, a month when stripped
    ("2024", date(2024, 1, 1)),
    ("2024-13-03T10:00:00Z", None),
    ("2024-02-30T10:00:00Z", None),
    ("03/05/2024 10:17", None),
    ("not a date at all", None),
    ("", None),
    ("202", None),
    (None, None),
    (20240503, None),
]


@pytest.mark.parametrize(("value", "day"), CASES, ids=[repr(v) for v, _ in CASES])
def test_the_day_a_value_names(value, day):
    assert parse_date(value) == day
    assert parse_date(value) == day  # read again (memoised): the same


def test_times_of_the_same_day_read_as_that_day_and_other_days_apart():
    days = {
        parse_date(f"2024-05-{d:02d}T{h:02d}:{m:02d}:00Z")
        for d in (3, 4)
        for h in range(24)
        for m in (0, 59)
    }
    assert days == {date(2024, 5, 3), date(2024, 5, 4)}

"""FHIR date, dateTime and instant values read as the day they name; what is no date reads as
none (the result is then dropped as undated and its rule is "not assessed").

What is a date: FHIR R4's date / dateTime / instant grammar (hl7.org/fhir/R4/datatypes.html),
padded or not with JSON whitespace, plus the common "YYYY-MM-DD hh:mm[:ss]" with a space. Junk
after a date, impossible months or days, other whitespace and non-ASCII digits are no date."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import fhir, normalise
from cds_service.normalise.fhir import forget_values, parse_date

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
    ("2024-05-03T10:17:43Z", date(2024, 5, 3)),
    ("2024-05-03T10:17:43.5-05:00", date(2024, 5, 3)),
    ("2024-05-03T23:59:60+14:00", date(2024, 5, 3)),  # a leap second; the widest zone
    ("2024-02-29", date(2024, 2, 29)),
    ("0001-01-01", date(1, 1, 1)),
    # without the zone FHIR asks for with a time, or without seconds: the day is still plain
    ("2024-05-03T10:17:43", date(2024, 5, 3)),
    ("2024-05-03T10:17", date(2024, 5, 3)),
    # the space for the 'T' that SQL exports and some EHRs send
    ("2024-05-03 10:17", date(2024, 5, 3)),
    ("2024-05-03 10:17:43", date(2024, 5, 3)),
    ("2024-05-03 10:17:43.120", date(2024, 5, 3)),
    ("2024-05-03 10:17:43+02:00", date(2024, 5, 3)),
    ("2024-05-03\r\n", date(2024, 5, 3)),
    # junk after or inside a date
    ("2024      x", None),
    ("2024-05-03 junk", None),
    ("2024-05-03junk", None),
    ("2024-05-03T10:17:43Z junk", None),
    ("2024-05-03T10:17:43+08:00x", None),
    ("2024-05-03T", None),
    ("2024-05-03 ", date(2024, 5, 3)),  # trailing padding only
    ("2024-05-03  10:17", None),
    ("2024-05-03T10:17:43 +08:00", None),
    ("2024-05 junk", None),
    ("2024-05-", None),
    ("2024-", None),
    ("2024x", None),
    ("2024-05T10:00:00Z", None),
    ("2024 -05-03", None),
    ("2024- 05-03", None),
    ("2024-05-03\x00", None),
    ("2024-05-03\n10:17", None),
    # impossible parts
    ("2024-13-03T10:00:00Z", None),
    ("2024-13", None),
    ("2024-00", None),
    ("2024-05-00", None),
    ("2024-05-32", None),
    ("2023-02-29", None),
    ("0000", None),
    ("2024-05-03T24:00:00Z", None),
    ("2024-05-03T10:60:00Z", None),
    ("2024-05-03T10:17:61Z", None),
    ("2024-05-03T10:17:43+15:00", None),
    ("2024-05-03T10:17:43+14:30", None),
    ("2024-05-03T10:17:43z", None),
    ("2024-05-03T10:17:43.Z", None),
    # other spellings ISO 8601 or Python's readers allow but FHIR does not
    ("20240503", None),
    ("2024-5-3", None),
    ("2024-W18-5", None),
    ("2024-124", None),
    ("+2024-05-03", None),
    ("-2024-05-03", None),
    ("24-05-03", None),
    ("2024/05/03", None),
    # digits that are not ASCII (int() and fromisoformat read some of them)
    ("\uff12\uff10\uff12\uff14-05-03", None),  # full-width
    ("\u0662\u0660\u0662\u0664-\u0660\u0665-\u0660\u0663", None),  # Arabic-Indic
    ("2024-05-0\u0663", None),
    ("\u0968\u0966\u0968\u096a", None),  # Devanagari year
    ("2024-\uff10\uff15", None),
    ("2024-05-03T1\u0660:17:43Z", None),
    # whitespace that is not JSON whitespace
    ("\u00a02024-05-03", None),
    ("2024-05-03\u3000", None),
    ("\u20032024", None),
    ("2024-05-03\u200b", None),
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


def test_a_junk_value_is_no_date_even_after_a_good_one_of_that_day():
    """The memo must not lend one value's day to another that starts with the same characters."""
    assert parse_date("2024-05-03T10:17:43Z") == date(2024, 5, 3)
    assert parse_date("2024-05-03T10:17:43Z and more") is None
    assert parse_date("2024-05-03 junk") is None
    assert parse_date("2024-05-03") == date(2024, 5, 3)


def test_a_str_subclass_reads_as_its_text():
    class Text(str):
        pass

    assert parse_date(Text("2024-05-03T10:17:43Z")) == date(2024, 5, 3)
    assert parse_date(Text("2024-05-03 junk")) is None


def test_a_bad_time_reads_as_no_date_after_good_times_of_other_days():
    """The time part is read once per call: a bad one is not lent a good one's reading."""
    assert parse_date("2024-05-03T10:17:43+08:00") == date(2024, 5, 3)
    assert parse_date("2024-05-04T10:17:43+08:00") == date(2024, 5, 4)
    assert parse_date("2024-05-05T25:17:43+08:00") is None
    assert parse_date("2024-05-05T10:17:43+15:00") is None
    forget_values()
    assert parse_date("2024-05-06T10:17:43+08:00") == date(2024, 5, 6)
    assert parse_date("2024-05-06T25:17:43+08:00") is None


def test_a_chart_s_date_times_are_not_kept_for_the_next_call():
    knowledge = load_knowledge()
    sent = "2024-05-03T10:17:43+08:00"
    first = PatientRecord(
        patient_id="p",
        observations=[
            {
                "resourceType": "Observation",
                "id": "o1",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
                "effectiveDateTime": sent,
                "valueQuantity": {"value": 3.0, "code": "mg/L"},
            }
        ],
    )
    facts = normalise(first, [], knowledge, date(2024, 6, 1))
    assert facts.observations["crp"][0].when == date(2024, 5, 3)
    # gone once the chart is read, not only when the next call starts
    assert sent not in fhir._SEEN
    assert sent[10:] not in fhir._TIMES
    normalise(PatientRecord(patient_id="q"), [], knowledge, date(2024, 6, 1))
    assert sent not in fhir._SEEN

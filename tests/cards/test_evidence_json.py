"""A finding's evidence in the card extension: the one-pass form equals the general JSON-safe
conversion of Evidence.as_json for every kind of value an item may carry."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from cards.render import _evidence_json, _json_safe
from cds_service.model import Evidence

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.dates(),
    st.just([1, math.nan]),
)
_TEXTS = st.one_of(st.none(), st.text(max_size=5))


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=5),
    st.text(max_size=5),
    _VALUES,
    _TEXTS,
    st.one_of(st.none(), st.dates()),
    st.lists(st.tuples(st.text(max_size=3), st.floats(), _TEXTS), max_size=2),
    st.booleans(),
    _TEXTS,
)
def test_evidence_json_equals_the_json_safe_as_json(
    ref, label, value, unit, when, derived, by_name, sent
):
    e = Evidence(ref, label, value, unit, when, tuple(derived), by_name, sent)
    assert _evidence_json(e) == _json_safe(e.as_json())
    assert list(_evidence_json(e)) == list(_json_safe(e.as_json()))  # same member order


def test_non_finite_values_are_null():
    e = Evidence("Observation/1", "crp", math.inf, "mg/L", date(2026, 1, 2))
    assert _evidence_json(e) == {
        "ref": "Observation/1",
        "label": "crp",
        "value": None,
        "unit": "mg/L",
        "date": "2026-01-02",
    }

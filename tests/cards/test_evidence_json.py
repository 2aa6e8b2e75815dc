"""A finding's evidence and a score's inputs in the card extension: the one-pass forms equal
the general JSON-safe conversion (of Evidence.as_json, of the inputs) for every kind of value
an item may carry."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from cards.render import _evidence_json, _Iso, _json_safe, _plain_dict
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
    iso = _Iso()
    assert _evidence_json(e, iso) == _json_safe(e.as_json())
    assert list(_evidence_json(e, iso)) == list(_json_safe(e.as_json()))  # same member order


def test_non_finite_values_are_null():
    e = Evidence("Observation/1", "crp", math.inf, "mg/L", date(2026, 1, 2))
    assert _evidence_json(e, _Iso()) == {
        "ref": "Observation/1",
        "label": "crp",
        "value": None,
        "unit": "mg/L",
        "date": "2026-01-02",
    }


_INPUT_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5.0]),  # finite values whose sum is not
    st.text(max_size=3),
    st.dates(),
    st.dictionaries(st.text(max_size=2), st.floats(allow_nan=True), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(st.text(max_size=4), st.integers()), _INPUT_VALUES, max_size=6))
def test_score_inputs_equal_their_json_safe_form(inputs):
    out = _plain_dict(inputs)
    assert out == _json_safe(inputs)
    assert list(out) == list(_json_safe(inputs))  # same member order
    assert out is not inputs  # a copy: the card never aliases the assessment

"""Facts.observations holds, per concept, an `ObservedList`: the results newest first, each
built when a rule first reads it. Read in any order it gives what the plain JSON reading gives,
behaves as a list where assess reads it, and leaves the results no rule reads unbuilt."""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any

import orjson
import pytest

from bench import bodies
from cds_service.fhir_json import bundle_typed, decode_resource
from cds_service.knowledge import load_knowledge
from cds_service.model import Observed, sent_as
from cds_service.normalise.observations import ObservedList, normalise_observations

K = load_knowledge()


def _chart(size: int) -> list[dict[str, Any]]:
    prefetch = bodies.patient_resources(size, today=date(2026, 12, 1))
    return [e["resource"] for e in prefetch["observations"]["entry"]]


def _typed(resources: list[dict[str, Any]]) -> list[Any]:
    decoded = decode_resource(
        orjson.dumps({"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]})
    )
    return bundle_typed(decoded)


def test_results_read_in_any_order_are_those_of_the_plain_reading():
    resources = _chart(600)
    plain, plain_dropped = normalise_observations(resources, K.vs)  # dicts: built as read
    eager = {c: list(v) for c, v in plain.items()}
    lazy, dropped = normalise_observations(_typed(resources), K.vs)
    assert dropped == plain_dropped
    assert set(lazy) == set(eager)
    rnd = random.Random(3)
    for concept, values in lazy.items():
        want = eager[concept]
        assert len(values) == len(want) > 1
        positions = list(range(-len(want), len(want)))
        rnd.shuffle(positions)
        for i in positions:  # one by one, from both ends, before the list is ever iterated
            assert values[i] == want[i]
            assert values[i] is values[i]  # built once
        assert list(values) == want
        days = [o.when for o in values]
        assert days == sorted(days, reverse=True)  # newest first


def test_a_rule_reading_the_latest_result_builds_that_one_only():
    lazy, _ = normalise_observations(_typed(_chart(600)), K.vs)
    crp = lazy["crp"]
    latest = crp[0]
    assert isinstance(latest, Observed) and latest.concept == "crp"
    built = [type(item) is Observed for item in crp._items]
    assert built[0] and not any(built[1:])


def test_it_reads_as_a_list_where_assess_reads_it():
    lazy, _ = normalise_observations(_typed(_chart(120)), K.vs)
    values = lazy["esr"]
    as_list = list(values)
    assert values == as_list and as_list == values and values == lazy["esr"]
    assert values != tuple(as_list)  # as a list is never equal to a tuple
    assert values[1:3] == as_list[1:3] and type(values[1:3]) is list
    assert values[::-1] == as_list[::-1]
    assert values[:0] == [] and bool(values) and len(values) == len(as_list)
    assert repr(values) == repr(as_list)
    assert values + [] == as_list and [] + values == as_list
    assert values.index(as_list[-1]) == len(as_list) - 1 and as_list[0] in values
    assert next(iter(values)) is values[0]
    with pytest.raises(IndexError):
        values[len(as_list)]
    with pytest.raises(TypeError):
        hash(values)
    assert not ObservedList([]) and ObservedList([]) == []


def _crp(rid: str, day: str, quantity: dict[str, Any], **members: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
        "effectiveDateTime": day,
        "valueQuantity": quantity,
        **members,
    }


def test_bounds_and_flags_are_read_when_a_rule_reads_them_as_plain_json_reads_them():
    """A result sent as a bound ("<0.5 mg/dL") or with an interpretation flag is kept for
    building later like a plain number, and built as the plain JSON reading builds it."""
    flag = [{"coding": [{"code": "NEG"}]}]
    resources = [
        _crp("lt", "2026-11-01", {"value": 0.5, "code": "mg/dL", "comparator": "<"}),
        _crp("le", "2026-11-02", {"value": 0.5, "code": "mg/dL", "comparator": "≤"}),
        _crp("eq", "2026-11-03", {"value": 0.5, "code": "mg/dL", "comparator": "="}),
        _crp("empty", "2026-11-04", {"value": 0.5, "code": "mg/dL", "comparator": ""}),
        _crp("flag", "2026-11-05", {"value": 3, "code": "mg/L"}, interpretation=flag),
        _crp("odd-flag", "2026-11-06", {"value": 3, "code": "mg/L"}, interpretation=[{"x": 1}]),
        _crp("null-flag", "2026-11-07", {"value": 3, "code": "mg/L"}, interpretation=None),
    ]
    plain, plain_dropped = normalise_observations(resources, K.vs)
    lazy, dropped = normalise_observations(_typed(resources), K.vs)
    assert all(type(item) is tuple and len(item) > 3 for item in lazy["crp"]._items)
    assert dropped == plain_dropped == []
    read = list(lazy["crp"])
    assert read == list(plain["crp"])
    by_ref = {o.ref.split("/")[1]: o for o in read}
    assert (by_ref["lt"].comparator, by_ref["lt"].original) == ("<", "<0.5 mg/dL")
    assert (by_ref["le"].comparator, by_ref["le"].original) == ("<=", "<=0.5 mg/dL")
    assert by_ref["eq"].comparator is None and by_ref["empty"].comparator is None
    assert by_ref["flag"].interpretation == "negative" and by_ref["flag"].value == 3.0
    assert by_ref["odd-flag"].interpretation is None is by_ref["null-flag"].interpretation


def test_peek_gives_date_value_and_unit_of_a_result_without_building_it():
    resources = _chart(600)
    plain, _ = normalise_observations(resources, K.vs)
    lazy, _ = normalise_observations(_typed(resources), K.vs)
    for concept, values in lazy.items():
        peeked = [values.peek(i) for i in range(len(values))]
        assert not any(type(item) is Observed for item in values._items)  # none built
        assert peeked == [(o.when, o.value, o.unit) for o in plain[concept]]
        assert list(values) == list(plain[concept])
        assert [values.peek(i) for i in range(len(values))] == peeked  # the same once built


def _evidence_of(o: Observed) -> tuple[Any, ...]:
    sent = sent_as(o.original, o.value, o.unit) if o.comparable else None
    return o.ref, o.concept, o.when, o.value, o.unit, sent


def test_evidence_parts_are_those_of_the_built_result_without_building_it():
    resources = _chart(600)
    plain, _ = normalise_observations(resources, K.vs)
    lazy, _ = normalise_observations(_typed(resources), K.vs)
    for concept, values in lazy.items():
        parts = [values.evidence_parts(i) for i in range(len(values))]
        assert not any(type(item) is Observed for item in values._items)  # none built
        assert parts == [_evidence_of(o) for o in plain[concept]]
        assert list(values) == list(plain[concept])
        assert [values.evidence_parts(i) for i in range(len(values))] == parts  # once built


@pytest.mark.parametrize("comparator", [None, "", "<", ">="])
def test_evidence_parts_show_what_the_chart_sent_at_every_edge_of_the_number_text(comparator):
    """The usual result (no comparator, the canonical unit) is known to need no `sent`
    without writing its text: at the values where `:g` turns to an exponent (1e-05, 1e+06),
    around them, and with units sent_as reads otherwise, `sent` is what sent_as of the built
    result's text gives."""
    values = [0.0, -0.0, 1e-4, 0.00011, 0.000109, 9.99e-05, 1e-05, -1e-05, 12.5, 73.1, -3.0]
    values += [999_998.9, 999_999.0, 999_999.4, 999_999.5, 999_999.6, 1e6, -1e6, 1e300, 5e-324]
    units = [
        ("mg/L", "mg/L", 1.0),
        ("mg/dL", "mg/L", 10.0),
        ("{score}", "{score}", 1.0),
        ("1", "1", 1.0),
        ("", "", 1.0),
        ("mm/h", "mm/h", 1.0),
        ("e", "e", 1.0),
        ("5 mm", "5 mm", 1.0),
    ]
    entries = [
        (date(2026, 11, 1), f"o{i}-{j}", v, ("crp", None, factor, unit, code, None, comparator))
        for i, v in enumerate(values)
        for j, (code, unit, factor) in enumerate(units)
    ]
    lazy = ObservedList(list(entries))
    parts = [lazy.evidence_parts(i) for i in range(len(entries))]
    assert parts == [_evidence_of(o) for o in ObservedList(list(entries))]
    assert any(p[5] is not None for p in parts) and any(p[5] is None for p in parts)


def test_usable_days_are_the_peeked_finite_results_in_the_unit_built_or_not():
    """The score reader's scan: positions and day ordinals of the results whose peeked value
    is a finite number in the unit asked (or without unit), for any run, before and after the
    results are built; it builds none."""
    resources = _chart(600)
    lazy, _ = normalise_observations(_typed(resources), K.vs)
    units = {c: {values.peek(i)[2] for i in range(len(values))} for c, values in lazy.items()}
    rng = random.Random(5)
    for built in (False, True):
        for concept, values in lazy.items():
            for unit in [*units[concept], "other-unit", None]:
                start = rng.randrange(len(values) + 1)
                stop = rng.randrange(start, len(values) + 3)
                expected = [
                    (i, -when.toordinal())
                    for i in range(start, min(stop, len(values)))
                    for when, value, u in [values.peek(i)]
                    if value is not None and math.isfinite(value) and u in (None, unit)
                ]
                positions, days = values.usable_days(unit, start, stop)
                assert list(zip(positions, days, strict=True)) == expected
                if unit in units[concept] and start == 0 and stop >= len(values):
                    assert positions  # the chart's own unit finds its results
            assert built or not any(type(item) is Observed for item in values._items)
            if not built:
                list(values)  # build them all for the second pass


def test_a_unit_sent_without_its_code_and_panels_read_as_plain_json_reads_them():
    """A quantity with its human unit only is kept for building later like one with a UCUM
    code; a blood-pressure panel (no component any concept reads) is skipped; a panel with a
    component a concept reads is read from that component."""
    loinc = "http://loinc.org"

    def component(code: str, value: float, unit: str) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": loinc, "code": code}]},
            "valueQuantity": {"value": value, "unit": unit, "code": unit},
        }

    def panel(rid: str, code: str, *components: dict[str, Any]) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "code": {"coding": [{"system": loinc, "code": code}]},
            "effectiveDateTime": "2026-11-10",
            "component": list(components),
        }

    resources = [
        _crp("unit-only", "2026-11-01", {"value": 1.5, "unit": "mg/dL"}),
        _crp("units-only", "2026-11-02", {"value": 2.5, "units": "mg/dL"}),
        panel(
            "bp", "85354-9", component("8480-6", 120, "mm[Hg]"), component("8462-4", 80, "mm[Hg]")
        ),
        panel("labs", "24323-8", component("1988-5", 7.0, "mg/L")),
    ]
    plain, plain_dropped = normalise_observations(resources, K.vs)
    lazy, dropped = normalise_observations(_typed(resources), K.vs)
    assert [len(item) > 3 for item in lazy["crp"]._items] == [False, True, True]  # panel: read
    assert dropped == plain_dropped and set(lazy) == set(plain) == {"crp"}
    read = list(lazy["crp"])
    assert read == list(plain["crp"])
    assert [(o.ref, o.value, o.original) for o in read] == [
        ("Observation/labs", 7.0, "7 mg/L"),
        ("Observation/units-only", 25.0, "2.5 mg/dL"),
        ("Observation/unit-only", 15.0, "1.5 mg/dL"),
    ]

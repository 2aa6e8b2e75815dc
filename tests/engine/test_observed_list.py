"""Facts.observations holds, per concept, an `ObservedList`: the results newest first, each
built when a rule first reads it. Read in any order it gives what the plain JSON reading gives,
behaves as a list where assess reads it, and leaves the results no rule reads unbuilt."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import orjson
import pytest

from bench import bodies
from cds_service.fhir_json import bundle_typed, decode_resource
from cds_service.knowledge import load_knowledge
from cds_service.model import Observed
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

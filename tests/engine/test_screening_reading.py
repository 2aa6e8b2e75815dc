"""screening.newest / any_observed: the same answers as the first of `observed` (after a
condition) and its truth, found by reading each concept's results newest first only as far as
needed. screening.first_problems: the first problem of each concept, as a look-up in
`problems` finds it."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.assess import context as q
from cds_service.assess import screening as s
from cds_service.model import Facts, Observed, Problem

TODAY = date(2026, 11, 23)
CONCEPTS = ("hdl", "ldl", "bmi")

# (concept, days before today, value): several results on one day, some without a number
_ROWS = st.lists(
    st.tuples(
        st.sampled_from(CONCEPTS),
        st.integers(0, 40),
        st.one_of(st.none(), st.floats(min_value=0, max_value=90), st.just(math.nan)),
    ),
    max_size=30,
)


def _facts(rows: list[tuple[str, int, float | None]]) -> Facts:
    by: dict[str, list[Observed]] = {}
    for i, (concept, back, value) in enumerate(rows):
        o = Observed(concept, TODAY - timedelta(days=back), f"Observation/{i}", value, "mg/dL")
        by.setdefault(concept, []).append(o)
    for values in by.values():
        values.sort(key=lambda o: o.when, reverse=True)  # newest first, as Facts keeps them
    return Facts(today=TODAY, orders=[], observations=by)


def _high(o: Observed) -> bool:
    return o.value is not None and o.value > 45


@settings(max_examples=200, deadline=None)
@given(
    _ROWS,
    st.lists(st.sampled_from(CONCEPTS), min_size=1, max_size=3),
    st.one_of(st.none(), st.integers(0, 45)),
    st.sampled_from([None, s.bounds, _high]),
)
def test_newest_is_the_first_qualifying_result_of_observed(rows, concepts, back, where):
    facts = _facts(rows)
    start = None if back is None else TODAY - timedelta(days=back)
    every = s.observed(facts, concepts, start)
    qualifying = [o for o in every if where is None or where(o)]
    assert s.newest(facts, concepts, start, where) is (qualifying[0] if qualifying else None)
    assert s.any_observed(facts, concepts, start) is bool(every)


class _Counted(Sequence[Observed]):
    """A concept's results that count how many were read."""

    def __init__(self, items: list[Observed]) -> None:
        self.items = items
        self.read = 0

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        self.read = max(self.read, i + 1 if i >= 0 else len(self.items))
        return self.items[i]

    def __iter__(self) -> Iterator[Observed]:
        for i, o in enumerate(self.items):
            self.read = max(self.read, i + 1)
            yield o


def test_a_long_charts_older_results_stay_unread():
    bmi = _Counted(
        [
            Observed("bmi", TODAY - timedelta(days=7 * n), f"Observation/{n}", 31.0, "kg/m2")
            for n in range(300)
        ]
    )
    facts = Facts(today=TODAY, orders=[], observations={"bmi": bmi})
    found = s.newest(facts, ["bmi"], TODAY - timedelta(days=365 * 5), s.bounds)
    assert found is bmi.items[0]
    assert s.any_observed(facts, ["bmi"], TODAY - timedelta(days=365))
    assert bmi.read == 1


@settings(max_examples=100, deadline=None)
@given(_ROWS, st.integers(0, 45))
def test_observed_since_is_every_result_of_the_window_newest_first(rows, days):
    facts = _facts(rows)
    start = TODAY - timedelta(days=days)
    for concept in CONCEPTS:
        every = facts.observations.get(concept, [])
        assert q.observed_since(facts, concept, days) == [o for o in every if o.when >= start]


PROBLEM_CONCEPTS = ("hypertension", "diabetes", "obesity", "copd")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sets(st.sampled_from(PROBLEM_CONCEPTS), min_size=1), st.booleans()),
        max_size=12,
    ),
    st.lists(st.sampled_from(PROBLEM_CONCEPTS), max_size=5),
    st.booleans(),
)
def test_first_problems_is_the_first_problem_of_each_concept(rows, concepts, active_only):
    problems = [
        Problem(frozenset(names), f"Condition/{i}", active)
        for i, (names, active) in enumerate(rows)
    ]
    facts = Facts(today=TODAY, orders=[], problems=problems)
    found = s.problems(facts, concepts, active_only=active_only)
    expected = [
        (name, first)
        for name in concepts
        if (first := next((p for p in found if name in p.concepts), None)) is not None
    ]
    got = s.first_problems(facts, concepts, active_only=active_only)
    assert [(name, p.ref) for name, p in got] == [(name, p.ref) for name, p in expected]
    s.release(facts)

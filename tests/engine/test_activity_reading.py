"""compute_scores reads each concept's results newest first and only as far back as it needs.

The look-ups of its per-concept reader are checked against the plain definitions over every
usable result (the reader's fast path must give the same answers), and a long chart's old
results are shown to stay unread for the last visits' scores."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any, overload

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import bodies
from cds_service.assess.activity import _EMPTY, _Index, compute_scores
from cds_service.fhir_json import bundle_typed, decode_resource
from cds_service.knowledge import Knowledge, load_knowledge
from cds_service.model import Facts, Observed
from cds_service.normalise.observations import normalise_observations

TODAY = date(2026, 11, 23)
UNIT = "mg/L"

_VALUES = st.one_of(
    st.floats(min_value=0, max_value=100),
    st.sampled_from([None, math.nan, math.inf, -math.inf]),
)
# (days before today, value, unit): many on the same day, some unusable
_ROWS = st.lists(
    st.tuples(st.integers(0, 60), _VALUES, st.sampled_from([UNIT, UNIT, None, "mg/dL"])),
    max_size=30,
)


def _chart(rows: list[tuple[int, float | None, str | None]]) -> list[Observed]:
    """Results newest first, as Facts keeps them (results of one day in list order)."""
    made = [
        Observed("crp", TODAY - timedelta(days=back), f"Observation/{i}", value, unit)
        for i, (back, value, unit) in enumerate(rows)
    ]
    made.sort(key=lambda o: o.when, reverse=True)  # stable: one day's results keep their order
    return made


def _usable(chart: list[Observed]) -> list[Observed]:
    return [
        o
        for o in chart
        if o.value is not None and math.isfinite(o.value) and o.unit in (None, UNIT)
    ]


def _closest(usable: list[Observed], day: date, window: int) -> Observed | None:
    """The definition: the smallest gap; on a tie the newer day; within one day the result
    listed last (as the sorted list of the engine before the reader read lazily)."""
    best: Observed | None = None
    for o in sorted(usable, key=lambda o: o.when):  # oldest first, one day in list order
        gap = abs((o.when - day).days)
        if gap <= window and (best is None or gap <= abs((best.when - day).days)):
            best = o
    return best


@settings(max_examples=150, deadline=None)
@given(_ROWS, st.lists(st.tuples(st.integers(-5, 65), st.integers(0, 14)), max_size=8))
def test_closest_is_the_nearest_usable_result_newer_on_a_tie(rows, asks):
    chart = _chart(rows)
    usable = _usable(chart)
    index = _Index(chart, UNIT)
    for back, window in asks:  # in any order: the reader reads further back as asked
        day = TODAY - timedelta(days=back)
        assert index.closest(day, window) is _closest(usable, day, window)
        assert index.has_within(day.toordinal(), window) == (
            _closest(usable, day, window) is not None
        )


@settings(max_examples=100, deadline=None)
@given(_ROWS, _ROWS, st.integers(0, 14), st.integers(0, 70), st.integers(0, 70))
def test_visit_days_and_windows_are_those_of_every_usable_result(rows, other_rows, window, a, b):
    chart, other = _chart(rows), _chart(other_rows)
    usable, other_usable = _usable(chart), _usable(other)
    days = sorted({o.when.toordinal() for o in usable}, reverse=True)
    assert list(_Index(chart, UNIT).visit_days()) == days
    assert list(_Index(chart, UNIT).newest_first()) == usable
    lo, hi = (
        (TODAY - timedelta(days=max(a, b))).toordinal(),
        (TODAY - timedelta(days=min(a, b))).toordinal(),
    )
    assert _Index(chart, UNIT).days_between(lo, hi) == sorted(d for d in days if lo <= d <= hi)
    without = [
        d for d in days if not any(abs(o.when.toordinal() - d) <= window for o in other_usable)
    ]
    assert _Index(chart, UNIT).days_without(_Index(other, UNIT), window) == without


class _Counted(Sequence[Observed]):
    """A concept's results that count how far back they were read."""

    def __init__(self, items: list[Observed]) -> None:
        self.items = items
        self.read = 0

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, i: int) -> Observed: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Observed]: ...
    def __getitem__(self, i: int | slice) -> Observed | Sequence[Observed]:
        if isinstance(i, slice):
            raise AssertionError("not sliced")
        self.read = max(self.read, i + 1 if i >= 0 else len(self.items))
        return self.items[i]

    def __iter__(self) -> Iterator[Observed]:
        for i, o in enumerate(self.items):
            self.read = max(self.read, i + 1)
            yield o


def test_the_last_visits_scores_leave_a_long_charts_old_results_unread():
    units = {
        "tjc28": "{count}",
        "sjc28": "{count}",
        "ptga_mm": "mm",
        "prga_mm": "mm",
        "crp": "mg/L",
    }
    values = {"tjc28": 4.0, "sjc28": 2.0, "ptga_mm": 40.0, "prga_mm": 30.0, "crp": 12.0}
    visits = [TODAY - timedelta(days=30 * n) for n in range(200)]  # monthly for 16 years
    charts = {
        c: _Counted([Observed(c, d, f"Observation/{c}-{d}", values[c], units[c]) for d in visits])
        for c in units
    }
    scores = compute_scores(Facts(today=TODAY, orders=[], observations=charts), load_knowledge())
    cdai = [s for s in scores if s.id == "CDAI"]
    assert [s.when for s in cdai] == visits[:3]
    assert [s.value for s in cdai] == [13.0, 13.0, 13.0]
    # the last 3 visits and the EULAR baseline (up to a year back), never the 16 years; the
    # joint counts and PtGA are read whole: a 3-variable DAS28 is scored at any visit without
    # a PtGA, however old
    read = {c: chart.read for c, chart in charts.items()}
    assert all(0 < read[c] <= 16 for c in ("sjc28", "prga_mm", "crp")), read
    assert read["tjc28"] == read["ptga_mm"] == len(visits)


def _normalised(bundle: dict[str, Any], knowledge: Knowledge) -> dict[str, Any]:
    return normalise_observations(
        bundle_typed(decode_resource(orjson.dumps(bundle))), knowledge.vs
    )[0]


def test_scores_of_a_long_typed_chart_build_only_the_results_they_use():
    """Dates, values and units are peeked and a component's evidence is read in parts: the
    3-variable DAS28 search over every tender joint count and patient global, and the scores
    shown, build none of them."""
    knowledge = load_knowledge()
    prefetch = bodies.patient_resources(3000, today=TODAY)
    bundle = {"resourceType": "Bundle", "entry": prefetch["observations"]["entry"]}
    lazy = _normalised(bundle, knowledge)
    eager = {c: list(v) for c, v in _normalised(bundle, knowledge).items()}
    scores = compute_scores(Facts(today=TODAY, orders=[], observations=lazy), knowledge)
    assert scores == compute_scores(Facts(today=TODAY, orders=[], observations=eager), knowledge)
    assert any(s.id == "DAS28-ESR" for s in scores)
    for concept in ("tjc28", "ptga_mm"):
        items = lazy[concept]._items
        built = sum(1 for item in items if type(item) is Observed)
        assert len(items) > 50 and built == 0, (concept, built, len(items))


def test_look_ups_of_a_concept_not_on_file_leave_nothing_behind_across_calls():
    """The shared reader of absent concepts (recorded totals, a missing component) remembers
    no look-up: a process scoring many charts must not grow with their visit dates."""
    knowledge = load_knowledge()
    units = {"tjc28": "{count}", "sjc28": "{count}", "esr": "mm/h", "ptga_mm": "mm"}
    for shift in range(40):
        charts = {
            c: [
                Observed(c, TODAY - timedelta(days=shift + 30 * n), f"Observation/{c}{n}", 3.0, u)
                for n in range(4)
            ]
            for c, u in units.items()
        }
        compute_scores(Facts(today=TODAY, orders=[], observations=charts), knowledge)
    assert not _EMPTY._closest and not _EMPTY._picks and not _EMPTY._without


def test_of_two_totals_recorded_on_one_day_the_one_listed_last_is_shown():
    """Totals without components, two on one day (the order the engine always read them in:
    the later one of a day is within the visit window of the first and is not shown again)."""
    day = TODAY - timedelta(days=20)
    listed = [
        Observed("cdai_total", day, "Observation/b", 30.0, "{score}"),
        Observed("cdai_total", day, "Observation/a", 12.0, "{score}"),
        Observed("cdai_total", day - timedelta(days=90), "Observation/c", 8.0, "{score}"),
    ]
    facts = Facts(today=TODAY, orders=[], observations={"cdai_total": listed})
    cdai = [s for s in compute_scores(facts, load_knowledge()) if s.id == "CDAI"]
    assert [(s.value, s.when) for s in cdai] == [(12.0, day), (8.0, day - timedelta(days=90))]

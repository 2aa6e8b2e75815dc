"""compute_scores keeps its answers by what it reads (the results of each score concept as
normalise holds them, the day and the trend count): a chart scored again gets the same scores,
and a chart that differs in any result, or another day, gets its own."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from cds_service.assess import activity
from cds_service.assess.activity import compute_scores
from cds_service.knowledge import load_knowledge
from cds_service.model import Facts, Observed
from cds_service.normalise.observations import ObservedList

TODAY = date(2026, 11, 23)
UNITS = {"tjc28": "{count}", "sjc28": "{count}", "esr": "mm/h", "ptga_mm": "mm"}
VISIT = {"tjc28": 4.0, "sjc28": 2.0, "esr": 20.0, "ptga_mm": 40.0}


knowledge = cache(load_knowledge)  # one Knowledge, as a serving process has


def _chart(
    visits: int, changed: dict[tuple[int, str], float] | None = None, patient: str = "p"
) -> dict[str, ObservedList]:
    """Monthly visits, newest first, held as normalise holds them; `changed`: (visit, concept)
    -> another value."""
    changed = changed or {}
    out = {}
    for concept, unit in UNITS.items():
        entries = []
        for n in range(visits):
            when = TODAY - timedelta(days=10 + 30 * n)
            value = changed.get((n, concept), VISIT[concept])
            ref = f"Observation/{patient}-{concept}-{n}"
            entries.append((when, ref, Observed(concept, when, ref, value, unit)))
        out[concept] = ObservedList(entries)
    return out


def _das28(observations: dict[str, ObservedList], today: date = TODAY) -> list[tuple]:
    facts = Facts(today=today, orders=[], observations=observations)
    scores = compute_scores(facts, knowledge())
    return [(s.when, s.value, s.stale) for s in scores if s.id == "DAS28-ESR"]


def test_a_chart_scored_again_gets_the_same_scores_in_a_list_of_its_own():
    first = compute_scores(Facts(today=TODAY, orders=[], observations=_chart(3)), knowledge())
    first.clear()  # what a caller does with its list is its own
    again = compute_scores(Facts(today=TODAY, orders=[], observations=_chart(3)), knowledge())
    assert [s.id for s in again].count("DAS28-ESR") == 3


def test_a_chart_differing_only_in_a_middle_result_gets_its_own_scores():
    """Same count, same first and last results of every concept: the middle visit's tender
    joint count differs, and so does that visit's DAS28."""
    plain = _das28(_chart(3))
    other = _das28(_chart(3, {(1, "tjc28"): 16.0}))
    assert plain[0] == other[0] and plain[2] == other[2]
    assert other[1][1] > plain[1][1]
    assert _das28(_chart(3)) == plain  # and the first chart is still scored as before


def test_the_same_results_on_a_later_day_are_scored_for_that_day():
    assert [stale for _, _, stale in _das28(_chart(1))] == [False]
    later = TODAY + timedelta(days=365)
    assert [stale for _, _, stale in _das28(_chart(1), today=later)] == [True]


def test_the_answers_kept_are_bounded():
    for patient in range(activity.SCORES_KEPT + 20):
        _das28(_chart(2, patient=str(patient)))
    assert len(activity._SCORES) <= activity.SCORES_KEPT

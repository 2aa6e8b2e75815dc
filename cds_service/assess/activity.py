"""Disease activity from the patient's observations: visits -> components -> scores.

`compute_scores(facts, knowledge)` finds the visits (dates of the anchor component: the tender
joint count for RA scores, the pain VAS for PMR-AS), takes each component from that visit (the
observation closest to the visit date within the window of knowledge/scores.toml, all components
within that window of each other), computes every score of clinical/SPEC.md §1 it can, newest
visit first, and keeps the last `trend_count` per score. It also shows totals the EHR recorded
(flagging a recomputed value that differs by more than `mismatch_tolerance`), marks scores older
than `stale_days` as stale, and derives EULAR-RESPONSE and PMR-FLARE from the score series.

Pure: no I/O; all parameters come from the knowledge (read once per Knowledge object).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from operator import attrgetter
from typing import Any

from cds_service.assess import scores as sc
from cds_service.assess.screening import make_evidence
from cds_service.knowledge import Knowledge
from cds_service.model import Evidence, Facts, Observed, Score, sent_as
from cds_service.normalise.construct import fast_positional

# Formula arguments, in call order. The first concept of a group is the visit anchor.
RA_ANCHOR = "tjc28"
PMR_ANCHOR = "patient_pain_mm"

_FORMULAS: dict[str, tuple[tuple[str, ...], Callable[..., float]]] = {
    "DAS28-ESR": (("tjc28", "sjc28", "esr", "ptga_mm"), sc.das28_esr),
    "DAS28-CRP": (("tjc28", "sjc28", "crp", "ptga_mm"), sc.das28_crp),
    "DAS28-ESR-3": (("tjc28", "sjc28", "esr"), sc.das28_esr_3),
    "DAS28-CRP-3": (("tjc28", "sjc28", "crp"), sc.das28_crp_3),
    "CDAI": (("tjc28", "sjc28", "ptga_mm", "prga_mm"), sc.cdai),
    "SDAI": (("tjc28", "sjc28", "ptga_mm", "prga_mm", "crp"), sc.sdai),
    "PMR-AS-CRP": (
        ("crp", "patient_pain_mm", "prga_mm", "morning_stiffness_min", "elevation_upper_limbs"),
        sc.pmr_as_crp,
    ),
    "PMR-AS-ESR": (
        ("esr", "patient_pain_mm", "prga_mm", "morning_stiffness_min", "elevation_upper_limbs"),
        sc.pmr_as_esr,
    ),
}
_ANCHOR = {sid: (PMR_ANCHOR if sid.startswith("PMR") else RA_ANCHOR) for sid in _FORMULAS}
_COMPONENT_SET = {sid: frozenset(components) for sid, (components, _) in _FORMULAS.items()}
# 3-variable forms: computed at a visit only when the 4-variable form lacks its PtGA.
_THREE_VARIABLE_OF = {"DAS28-ESR-3": "DAS28-ESR", "DAS28-CRP-3": "DAS28-CRP"}
# Totals the EHR may store, by score id (concepts of concepts.toml).
RECORDED_TOTALS = {
    "DAS28-ESR": "das28_esr_total",
    "DAS28-CRP": "das28_crp_total",
    "CDAI": "cdai_total",
    "SDAI": "sdai_total",
    "PMR-AS-CRP": "pmr_as_total",
}
_NEEDED = frozenset(
    [c for comps, _ in _FORMULAS.values() for c in comps] + list(RECORDED_TOTALS.values())
)
_NEEDED_ORDER = tuple(sorted(_NEEDED))
DAS28_FORMS = ("DAS28-ESR", "DAS28-CRP", "DAS28-ESR-3", "DAS28-CRP-3")
_WHEN = attrgetter("when")
_INF = math.inf
# Score(...) without the frozen-dataclass __init__ (normalise/construct.py): a dozen per request
_make_score = fast_positional(
    Score, "id", "value", "category", "when", "inputs", "evidence", "stale", "problem"
)


# Inputs shown next to a score after its components (canonical units): the converted forms
# its formula uses, in this order. (input key, component, the ScoreSpecs factor it is
# multiplied by, decimals it is rounded to)
_DERIVED = (
    ("crp_mg_dl", "crp", "crp_mg_dl_per_mg_l", 3),
    ("ptga_0_10", "ptga_mm", "vas_cm_per_mm", 2),
    ("prga_0_10", "prga_mm", "vas_cm_per_mm", 2),
    ("patient_pain_0_10", "patient_pain_mm", "vas_cm_per_mm", 2),
)
# per score id: (position of the component in the formula's arguments, input key, factor,
# decimals) of each derived input it shows
_Derived = tuple[tuple[int, str, float, int], ...]


@dataclass(frozen=True)
class _Params:
    window: int
    stale: int
    trend: int
    tolerance: float
    canonical: dict[str, str]
    derived: dict[str, _Derived]


_PARAMS: tuple[sc.ScoreSpecs | None, Knowledge | None, _Params | None] = (None, None, None)


def _params(knowledge: Knowledge, specs: sc.ScoreSpecs) -> _Params:
    """`_read_params`, kept for the knowledge and specs seen last (identity-checked: both are
    made once per process; another pair just rebuilds)."""
    global _PARAMS
    cached_specs, cached_knowledge, found = _PARAMS
    if cached_specs is specs and cached_knowledge is knowledge and found is not None:
        return found
    found = _read_params(knowledge, specs)
    _PARAMS = (specs, knowledge, found)
    return found


def _read_params(knowledge: Knowledge, specs: sc.ScoreSpecs) -> _Params:
    concepts = knowledge.concepts.get("observation", {})
    # canonical units of the concepts a score reads (the only ones looked up)
    units = {k: concepts[k].get("unit", "") for k in _NEEDED if k in concepts}
    v = specs.visit
    return _Params(
        window=int(v["window_days"]),
        stale=int(v["stale_days"]),
        trend=int(v["trend_count"]),
        tolerance=float(v["mismatch_tolerance"]),
        canonical=units,
        derived={
            score_id: tuple(
                (components.index(comp), key, float(getattr(specs, factor)), decimals)
                for key, comp, factor, decimals in _DERIVED
                if comp in components
            )
            for score_id, (components, _) in _FORMULAS.items()
        },
    )


def _valid_total(o: Observed) -> bool:
    """A total the EHR stored is shown only when it is a plausible score (not negative)."""
    return o.value is not None and o.value >= 0


def _usable_days(
    values: Sequence[Observed], unit: str | None, start: int, stop: int
) -> tuple[list[int], list[int]]:
    """`ObservedList.usable_days` of a plain list of Observed."""
    positions: list[int] = []
    days: list[int] = []
    for i in range(start, min(stop, len(values))):
        o = values[i]
        value = o.value
        if value is None or not -_INF < value < _INF or (o.unit is not None and o.unit != unit):
            continue
        positions.append(i)
        days.append(-o.when.toordinal())
    return positions, days


# A component taken at a visit: (its value, its evidence, its day ordinal); None: none there
_Pick = tuple[float | None, Evidence, int]
# what an Observed's evidence shows (`ObservedList.evidence_parts`)
_Parts = tuple[str, str, date, float | None, str | None, str | None]


def _parts(values: Sequence[Observed], i: int) -> _Parts:
    """`ObservedList.evidence_parts` of a plain list of Observed."""
    o = values[i]
    sent = sent_as(o.original, o.value, o.unit) if o.comparable else None
    return o.ref, o.concept, o.when, o.value, o.unit, sent


class _Index:
    """The usable observations of one concept, newest first, read from Facts only as far back
    as the look-ups need (the last visits' scores never read a long chart's old results).

    Relies on Facts keeping each concept's results newest first (model.py; normalise sorts
    them). `pos` holds the positions (in the concept's list) of the usable results read so far
    and `neg_days` their day ordinals negated (ascending, for bisection). Dates, values and
    units are read with `ObservedList.usable_days` when the list has it, and a score's
    component with `ObservedList.evidence_parts`: a score builds no Observed (a recorded
    total is built when shown). Made for one `compute_scores` call: the scores of a visit share its
    components, so each look-up and each evidence item is computed once per call and reused."""

    __slots__ = (
        "_canonical",
        "_closest",
        "_parts",
        "_picks",
        "_without",
        "_next",
        "_scan",
        "_values",
        "neg_days",
        "pos",
    )

    def __init__(self, values: Sequence[Observed], canonical: str | None = None) -> None:
        self._values = values
        # positions and negated day ordinals of the usable results of a run, read in one pass
        self._scan: Callable[[str | None, int, int], tuple[list[int], list[int]]] = getattr(
            values, "usable_days", None
        ) or partial(_usable_days, values)
        # (ref, concept, when, value, unit, sent) of a result, not built
        self._parts: Callable[[int], _Parts] = getattr(values, "evidence_parts", None) or partial(
            _parts, values
        )
        self._next: int | None = 0 if len(values) else None  # next position to read
        self._canonical = canonical
        self.pos: list[int] = []
        self.neg_days: list[int] = []
        self._closest: dict[tuple[int, int], Observed | None] = {}
        self._picks: dict[int, _Pick] = {}  # by position in the concept's list
        self._without: dict[tuple[int, int], list[int]] = {}

    def _read(self, older_than: int | None, more: int = 8) -> None:
        """Read usable results until one older than day ordinal `older_than` is in (None:
        until `more` more are in), or the list ends. Read in growing runs (16, 32...; the
        whole list for `older_than` 0): a run may read a few more than asked."""
        i = self._next
        if i is None:
            return
        values, canonical = self._values, self._canonical
        pos, neg = self.pos, self.neg_days
        scan = self._scan
        stop = len(pos) + more
        n = len(values)
        run = n if older_than == 0 else 16
        while i < n:
            end = min(n, i + run)
            positions, days = scan(canonical, i, end)
            pos += positions
            neg += days
            i = end
            if neg and (-neg[-1] < older_than if older_than is not None else len(pos) >= stop):
                self._next = i if i < n else None
                return
            run *= 2
        self._next = None

    def read_all(self) -> None:
        """Read every usable result."""
        if self._next is not None:
            self._read(0)  # no result is older than day ordinal 0 (1 January of year 1 is 1)

    def _read_to(self, day: int) -> None:
        """Make sure every usable result on or after day ordinal `day` is read."""
        if self._next is not None and not (self.neg_days and -self.neg_days[-1] < day):
            self._read(day)

    def closest(self, day: date, window: int) -> Observed | None:
        """The observation closest to `day` within `window` days (ties: the newer day; within
        one day, the result listed last)."""
        return self.closest_to(day.toordinal(), window)

    def closest_to(self, d: int, window: int) -> Observed | None:
        """`closest` of the day of ordinal `d`."""
        if self._next is None and not self.pos:
            return None  # nothing to find (and nothing memoised in the shared empty index)
        key = (d, window)
        found = self._closest.get(key, self)
        if found is not self:
            return found  # type: ignore[return-value]
        best = self._best(d, window)
        found = None if best is None else self._values[self.pos[best]]
        self._closest[key] = found
        return found

    def _best(self, d: int, window: int) -> int | None:
        """Where in `pos` / `neg_days` the result `closest_to` finds is, or None."""
        self._read_to(d - window)
        neg = self.neg_days
        lo = bisect_left(neg, -(d + window))
        hi = bisect_right(neg, -(d - window))
        best: int | None = None
        best_gap = window + 1
        best_day = 0
        for i in range(lo, hi):  # newest first
            gap = abs(-neg[i] - d)
            if gap < best_gap or (gap == best_gap and -neg[i] == best_day):
                best, best_gap, best_day = i, gap, -neg[i]
        return best

    def pick(self, d: int, window: int) -> _Pick | None:
        """The value, evidence and day ordinal of the result `closest_to` finds (the same
        tuple for a result picked at two visits), read without building its Observed."""
        neg = self.neg_days
        if self._next is not None and not (neg and -neg[-1] < d - window):
            self._read(d - window)  # `_read_to`
        lo = bisect_left(neg, -(d + window))
        hi = bisect_right(neg, -(d - window))
        if hi - lo == 1:  # the usual: one result within the window (`_best` finds it)
            best = lo
        else:
            found_best = self._best(d, window)
            if found_best is None:
                return None
            best = found_best
        position = self.pos[best]
        found = self._picks.get(position)
        if found is None:
            ref, concept, when, value, unit, sent = self._parts(position)
            evidence = make_evidence(ref, concept, value, unit, when, (), False, sent)
            found = self._picks[position] = (value, evidence, -neg[best])
        return found

    def has_within(self, d: int, window: int) -> bool:
        """Some observation lies within `window` days of day ordinal `d`."""
        self._read_to(d - window)
        neg = self.neg_days
        lo = bisect_left(neg, -(d + window))
        return lo < len(neg) and -neg[lo] >= d - window

    def days_without(self, other: _Index, window: int) -> list[int]:
        """The distinct day ordinals of this index, newest first, with no observation of
        `other` within `window` days (read whole: every day is looked at; the DAS28-ESR and
        DAS28-CRP 3-variable forms ask the same)."""
        key = (id(other), window)
        found = self._without.get(key)
        if found is None:
            found = self._without[key] = self._days_without(other, window)
        return found

    def _days_without(self, other: _Index, window: int) -> list[int]:
        self.read_all()
        other.read_all()
        days = [-n for n in dict.fromkeys(self.neg_days)]
        neg = other.neg_days
        if not neg:
            return days
        n = len(neg)
        return [
            d
            for d in days
            if not ((lo := bisect_left(neg, -(d + window))) < n and -neg[lo] >= d - window)
        ]

    def _read_positions(self) -> Iterator[int]:
        """0, 1, 2... over the observations newest first, reading more of them as consumed."""
        i = 0
        while True:
            if i >= len(self.pos):
                if self._next is None:
                    return
                self._read(None)
                if i >= len(self.pos):
                    return
            yield i
            i += 1

    def visit_days(self) -> Iterator[int]:
        """The distinct day ordinals of the observations, newest first (read as consumed)."""
        previous = None
        for i in self._read_positions():
            d = -self.neg_days[i]
            if d != previous:
                previous = d
                yield d

    def days_between(self, lo: int, hi: int) -> list[int]:
        """The distinct day ordinals from `lo` to `hi` (both included), oldest first."""
        self._read_to(lo)
        neg = self.neg_days
        start = bisect_left(neg, -hi)
        end = bisect_right(neg, -lo)
        return sorted({-n for n in neg[start:end]})

    def newest_first(self) -> Iterator[Observed]:
        """The observations, newest first (read as consumed)."""
        for i in self._read_positions():
            yield self._values[self.pos[i]]


_EMPTY = _Index(())


def _evidence(o: Observed) -> Evidence:
    sent = sent_as(o.original, o.value, o.unit) if o.comparable else None
    return make_evidence(o.ref, o.concept, o.value, o.unit, o.when, (), False, sent)


# per `compute_scores` call: day ordinal of a visit -> concept -> its `_Pick`, and derived
# input key (`_DERIVED`) -> its value (the scores of a visit share their components: each is
# looked up and converted once per visit, not once per score)
_Visits = dict[int, dict[str, Any]]
_MISSING: Any = object()
_NO_DAY = 1 << 30  # above every day ordinal (date.max is 3 652 059)
_VISIT = 0  # key of a visit's (date, stale) in its dict (the other keys are texts)


def _score_at(
    score_id: str,
    ordinal: int,
    obs: dict[str, _Index],
    specs: sc.ScoreSpecs,
    p: _Params,
    today: date,
    visits: _Visits,
) -> Score | None:
    """The score at the visit of day ordinal `ordinal`, or None when a component is not at
    that visit. Its inputs are the components' values (canonical units), then the converted
    forms of `_DERIVED`."""
    components, fn = _FORMULAS[score_id]
    visit = visits.get(ordinal)
    if visit is None:
        visit = visits[ordinal] = {}
    window = p.window
    values: list[Any] = []
    evidence: list[Evidence] = []
    inputs: dict[str, Any] = {}  # the components' values, then the converted forms
    first, last = _NO_DAY, 0
    for comp in components:
        got = visit.get(comp, _MISSING)
        if got is _MISSING:
            got = visit[comp] = obs.get(comp, _EMPTY).pick(ordinal, window)
        if got is None:
            return None
        value, ev, d = got
        values.append(value)
        evidence.append(ev)
        inputs[comp] = value
        if d < first:
            first = d
        if d > last:
            last = d
    if last - first > window:
        return None  # not one visit
    # the visit's date and staleness: the same for each of its scores
    shared = visit.get(_VISIT)
    if shared is None:
        shared = visit[_VISIT] = (
            date.fromordinal(ordinal),
            today.toordinal() - ordinal > p.stale,
        )
    day, stale = shared
    for i, key, factor, decimals in p.derived[score_id]:
        converted = visit.get(key)  # the scores of a visit show the same converted inputs
        if converted is None:
            if values[i] is None:
                continue
            converted = visit[key] = round(values[i] * factor, decimals)
        inputs[key] = converted
    try:
        value = fn(*values, specs=specs)
    except sc.InvalidInput as exc:
        return _make_score(score_id, None, None, day, inputs, evidence, stale, exc.reason)
    shown = sc.round_score(score_id, value, specs)
    category = sc.category_of_shown(score_id, shown, specs)  # = categorise(value): rounds once
    return _make_score(score_id, shown, category, day, inputs, evidence, stale, None)


def _with_recorded(score: Score, total: Observed | None, tolerance: float) -> Score:
    if total is None or total.value is None:
        return score
    mismatch = score.value is not None and abs(score.value - total.value) > tolerance + 1e-9
    evidence = [*score.evidence, _evidence(total)]
    return replace(score, recorded_total=total.value, mismatch=mismatch, evidence=evidence)


def _recorded_only(
    score_id: str, total: Observed, specs: sc.ScoreSpecs, p: _Params, today: date
) -> Score:
    value = float(total.value or 0.0)
    return Score(
        id=score_id,
        value=value,
        category=sc.categorise(score_id, value, specs),
        when=total.when,
        inputs={"recorded_total": value},
        evidence=[_evidence(total)],
        stale=(today - total.when).days > p.stale,
        recorded_total=value,
    )


def _visit_scores(
    score_id: str,
    ordinals: Iterable[int],
    obs: dict[str, _Index],
    specs: sc.ScoreSpecs,
    p: _Params,
    today: date,
    want: int,
    visits: _Visits,
    *,
    valid_only: bool = False,
) -> tuple[list[Score], set[str]]:
    """Scores at the visits of `ordinals` (in that order) until `want` are found, with the
    totals the EHR recorded at those visits; also returns the refs of the totals used.
    (A 3-variable form's caller passes only the visits without a PtGA.)"""
    totals = obs.get(RECORDED_TOTALS.get(score_id, ""))  # None: no total on file
    used: set[str] = set()
    out: list[Score] = []
    for ordinal in ordinals:
        if len(out) >= want:
            break
        score = _score_at(score_id, ordinal, obs, specs, p, today, visits)
        if score is None or (valid_only and score.value is None):
            continue
        total = None if totals is None else totals.closest_to(ordinal, p.window)
        if total is not None and _valid_total(total) and total.ref not in used:
            used.add(total.ref)
            score = _with_recorded(score, total, p.tolerance)
        out.append(score)
    return out, used


def _days_newest_first(index: _Index) -> Iterator[Observed]:
    """The observations by day, newest day first; within one day, the one listed last first
    (the order recorded totals were always considered in: of two totals of one visit, the one
    listed last is shown)."""
    day: list[Observed] = []
    for o in index.newest_first():
        if day and o.when != day[0].when:
            yield from reversed(day)
            day = []
        day.append(o)
    yield from reversed(day)


def _series(
    score_id: str,
    obs: dict[str, _Index],
    specs: sc.ScoreSpecs,
    p: _Params,
    today: date,
    visits: _Visits,
) -> list[Score]:
    """The last `trend_count` visits' scores of one id, newest first, recorded totals included."""
    out: list[Score] = []
    used: set[str] = set()
    if _COMPONENT_SET[score_id] <= obs.keys():  # else no visit can have them all
        anchor = obs[_ANCHOR[score_id]]
        anchors: Iterable[int]
        if score_id in _THREE_VARIABLE_OF:  # computed at the visits without a PtGA
            anchors = anchor.days_without(obs.get("ptga_mm", _EMPTY), p.window)
        else:
            anchors = anchor.visit_days()
        out, used = _visit_scores(score_id, anchors, obs, specs, p, today, p.trend, visits)
    totals = obs.get(RECORDED_TOTALS.get(score_id, ""))  # None: no total on file
    if totals is None:
        return out  # newest first already: one score per visit day, at most `trend`
    recorded_only = 0
    for total in _days_newest_first(totals):
        if recorded_only >= p.trend:
            break  # older than `trend` shown already: cut below (the sort keeps list order)
        if total.ref not in used and _valid_total(total):
            if not any(abs((s.when - total.when).days) <= p.window for s in out if s.when):
                out.append(_recorded_only(score_id, total, specs, p, today))
                recorded_only += 1
    out.sort(key=lambda s: s.when or date.min, reverse=True)
    return out[: p.trend]


def _eular(
    series: dict[str, list[Score]],
    obs: dict[str, _Index],
    specs: sc.ScoreSpecs,
    p: _Params,
    today: date,
    visits: _Visits,
) -> Score | None:
    """EULAR response of the newest DAS28 against the oldest computed DAS28 of the same form
    `baseline_min_days`-`baseline_max_days` before it (the service knows no treatment start)."""
    e = specs.eular
    for form in DAS28_FORMS:
        current = next((s for s in series.get(form, []) if s.value is not None and s.when), None)
        if current is None or current.when is None or current.value is None:
            continue
        top = current.when.toordinal()
        lo, hi = top - int(e["baseline_max_days"]), top - int(e["baseline_min_days"])
        days = obs.get(_ANCHOR[form], _EMPTY).days_between(lo, hi)
        if form in _THREE_VARIABLE_OF:  # computed at the visits without a PtGA
            ptga = obs.get("ptga_mm", _EMPTY)
            days = [d for d in days if not ptga.has_within(d, p.window)]
        found, _ = _visit_scores(form, days, obs, specs, p, today, 1, visits, valid_only=True)
        if not found:
            continue
        baseline = found[0]
        assert baseline.value is not None
        try:
            category = sc.eular_response(baseline.value, current.value, specs)
        except sc.InvalidInput as exc:
            return Score("EULAR-RESPONSE", None, None, current.when, problem=exc.reason)
        return _make_score(
            "EULAR-RESPONSE",
            round(baseline.value - current.value, 2),
            category,
            current.when,
            {
                "form": form,
                "baseline": baseline.value,
                "baseline_date": baseline.when.isoformat() if baseline.when else None,
                "current": current.value,
            },
            [*current.evidence, *baseline.evidence],
            current.stale,
            None,
        )
    return None


def _flare(series: list[Score], specs: sc.ScoreSpecs) -> Score | None:
    valid = [s for s in series if s.value is not None and s.when]
    if not valid:
        return None
    current = valid[0]
    previous = valid[1] if len(valid) > 1 else None
    assert current.value is not None
    prev_value = previous.value if previous else None
    category = sc.pmr_flare(current.value, prev_value, specs)
    delta = round(current.value - prev_value, 2) if prev_value is not None else None
    return Score(
        id="PMR-FLARE",
        value=current.value,
        category=category,
        when=current.when,
        inputs={
            "pmr_as": current.value,
            "previous": prev_value,
            "previous_date": previous.when.isoformat() if previous and previous.when else None,
            "delta": delta,
        },
        evidence=list(current.evidence),
        stale=current.stale,
    )


def compute_scores(
    facts: Facts, knowledge: Knowledge, trend_count: int | None = None
) -> list[Score]:
    """All scores of SPEC.md §1 the record allows: per id, the last `trend_count`, newest first.

    `trend_count` overrides the knowledge's count (the trend chart asks for every visit).
    """
    specs = sc.score_specs(knowledge)
    p = _params(knowledge, specs)
    if trend_count is not None:
        p = replace(p, trend=trend_count)
    observations = facts.observations
    obs = {c: _Index(v, p.canonical.get(c)) for c in _NEEDED_ORDER if (v := observations.get(c))}
    series: dict[str, list[Score]] = {}
    visits: _Visits = {}
    for score_id in _FORMULAS:
        if specs.enabled.get(score_id, False):
            series[score_id] = _series(score_id, obs, specs, p, facts.today, visits)
    out: list[Score] = []
    for score_id in sc.SCORE_IDS:
        if score_id in series:
            out.extend(series[score_id])
        elif score_id == "EULAR-RESPONSE" and specs.enabled.get(score_id, False):
            eular = _eular(series, obs, specs, p, facts.today, visits)
            if eular is not None:
                out.append(eular)
        elif score_id == "PMR-FLARE" and specs.enabled.get(score_id, False):
            flare = _flare(series.get("PMR-AS-CRP", []), specs)
            if flare is not None:
                out.append(flare)
    return out

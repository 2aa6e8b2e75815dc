"""Disease activity over time, for the trend app (/apps/activity/): scores, labs, treatments.

`build_trends(record, facts, knowledge)` takes the normalised facts of one patient and returns,
per chart of cds_service/apps/activity/charts.toml (RA, PMR, myositis), every visit's score
(computed by `compute_scores`, the engine of the cards, with no limit on the visits), the lab
values of the chart's concepts, and the treatment periods of the patient's medications by
class (JAK inhibitors, biologics, csDMARDs, glucocorticoids with their daily dose).

A period starts at the order's date (authoredOn, or a statement's effective start) and ends at
its validity or effective end; an active order without an end runs to today; an order that is
no longer active and states no end is drawn as its start only ("end not recorded").

Pure: no I/O (the chart settings are package data read once, like the card texts).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from cds_service.assess.activity import compute_scores
from cds_service.knowledge import Knowledge
from cds_service.model import Facts, Medication, Observed, PatientRecord, Score
from cds_service.normalise.fhir import first_date, ref_of
from cds_service.normalise.medications import ACTIVE_STATUS

CHARTS_FILE = Path(__file__).resolve().parents[1] / "apps" / "activity" / "charts.toml"
ALL_VISITS = 10_000  # compute_scores keeps this many visits per score: every one


@dataclass(frozen=True)
class ChartSpec:
    id: str
    conditions: frozenset[str]
    scores: tuple[str, ...]
    labs: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    charts: tuple[ChartSpec, ...]
    classes: tuple[str, ...]
    min_span_days: int


@cache
def settings() -> Settings:
    with CHARTS_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    charts = tuple(
        ChartSpec(
            id=cid,
            conditions=frozenset(c["conditions"]),
            scores=tuple(c["scores"]),
            labs=tuple(c["labs"]),
        )
        for cid, c in data["chart"].items()
    )
    t = data["treatments"]
    return Settings(charts, tuple(t["classes"]), int(t["min_span_days"]))


@dataclass(frozen=True)
class Period:
    """One order or statement of a drug of a charted class."""

    drug: str
    drug_class: str
    ref: str
    start: date
    end: date | None  # None: not recorded (drawn as the start only)
    ongoing: bool  # active without an end: runs to today
    mg_per_day: float | None = None  # glucocorticoids: dose x administrations per day
    display: str | None = None


@dataclass(frozen=True)
class Chart:
    id: str  # "ra" | "pmr" | "myositis"
    scores: dict[str, list[Score]]  # score id -> visits, oldest first (only scores with values)
    labs: dict[str, list[Observed]]  # concept -> values, oldest first


@dataclass(frozen=True)
class Trends:
    today: date
    stale_days: int
    charts: list[Chart] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)


def _end_date(resource: dict[str, Any]) -> date | None:
    return first_date(
        resource,
        "dispenseRequest.validityPeriod.end",
        "effectivePeriod.end",
    )


def _raw_by_ref(record: PatientRecord) -> dict[str, dict[str, Any]]:
    """The record's medication resources by the ref normalise gave them."""
    out: dict[str, dict[str, Any]] = {}
    for kind, resources in (
        ("MedicationRequest", record.medication_requests),
        ("MedicationStatement", record.medication_statements),
    ):
        for index, resource in enumerate(resources):
            if isinstance(resource, dict):
                out[ref_of(resource, index, kind)] = resource
    return out


def _class_of(med: Medication, classes: tuple[str, ...]) -> str | None:
    return next((c for c in classes if c in med.classes), None)


def treatment_periods(
    record: PatientRecord, facts: Facts, classes: tuple[str, ...]
) -> list[Period]:
    raw = _raw_by_ref(record)
    out: list[Period] = []
    for med in facts.medications:
        drug_class = _class_of(med, classes)
        if drug_class is None or med.drug is None or med.authored is None:
            continue
        end = _end_date(raw.get(med.ref, {}))
        if end is not None and end < med.authored:
            end = None  # an end before the start is not a period
        ongoing = end is None and (med.status or "active") in ACTIVE_STATUS
        dose = None
        if "steroid" in med.classes and med.dose_mg is not None and med.per_day is not None:
            dose = round(med.dose_mg * med.per_day, 2)
        out.append(
            Period(
                drug=med.drug,
                drug_class=drug_class,
                ref=med.ref,
                start=med.authored,
                end=end,
                ongoing=ongoing,
                mg_per_day=dose,
                display=med.display,
            )
        )
    rank = {c: i for i, c in enumerate(classes)}
    out.sort(key=lambda p: (rank[p.drug_class], p.drug, p.start))
    return out


def build_trends(record: PatientRecord, facts: Facts, knowledge: Knowledge) -> Trends:
    """The charts of the patient (see the module docstring), in charts.toml order."""
    s = settings()
    scores = compute_scores(facts, knowledge, trend_count=ALL_VISITS)
    by_id: dict[str, list[Score]] = {}
    for score in scores:
        if score.value is not None and score.when is not None:
            by_id.setdefault(score.id, []).append(score)
    for values in by_id.values():
        values.sort(key=lambda sc: sc.when or date.min)
    concepts = {c for p in facts.problems if p.active for c in p.concepts}
    charts: list[Chart] = []
    for spec in s.charts:
        chart_scores = {sid: by_id[sid] for sid in spec.scores if sid in by_id}
        labs = {
            concept: sorted(
                (o for o in facts.observations.get(concept, []) if _plottable(o)),
                key=lambda o: o.when,
            )
            for concept in spec.labs
        }
        labs = {k: v for k, v in labs.items() if v}
        has_condition = bool(spec.conditions & concepts)
        if chart_scores or has_condition:
            charts.append(Chart(spec.id, chart_scores, labs))
    stale = int(knowledge.files["scores"]["visit"]["stale_days"])
    periods = treatment_periods(record, facts, s.classes)
    return Trends(today=facts.today, stale_days=stale, charts=charts, periods=periods)


def _plottable(o: Observed) -> bool:
    return o.value is not None and o.comparable and o.comparator is None

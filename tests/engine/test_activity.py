"""compute_scores: components from one visit, trends, staleness, recorded totals, units."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.assess.activity import compute_scores
from cds_service.knowledge import load_knowledge
from cds_service.model import Facts, Observed, Score

TODAY = date(2026, 11, 23)
UNITS = {
    "tjc28": "{count}",
    "sjc28": "{count}",
    "ptga_mm": "mm",
    "prga_mm": "mm",
    "patient_pain_mm": "mm",
    "esr": "mm/h",
    "crp": "mg/L",
    "morning_stiffness_min": "min",
    "elevation_upper_limbs": "{score}",
    "cdai_total": "{score}",
    "sdai_total": "{score}",
    "das28_esr_total": "{score}",
    "pmr_as_total": "{score}",
}


@pytest.fixture(scope="module")
def knowledge():
    return load_knowledge()


def obs(concept: str, value: float, when: date, unit: str | None = None) -> Observed:
    return Observed(
        concept=concept,
        when=when,
        ref=f"Observation/{concept}-{when.isoformat()}",
        value=value,
        unit=unit if unit is not None else UNITS[concept],
    )


def visit(when: date, **values: float) -> list[Observed]:
    return [obs(c, v, when) for c, v in values.items()]


def facts(*groups: list[Observed], today: date = TODAY) -> Facts:
    by: dict[str, list[Observed]] = {}
    for group in groups:
        for o in group:
            by.setdefault(o.concept, []).append(o)
    for values in by.values():
        values.sort(key=lambda o: o.when, reverse=True)
    return Facts(today=today, orders=[], observations=by)


def of(scores: list[Score], score_id: str) -> list[Score]:
    return [s for s in scores if s.id == score_id]


RA_VISIT = {"tjc28": 4, "sjc28": 2, "esr": 20, "crp": 12, "ptga_mm": 40, "prga_mm": 30}


def test_one_visit_gives_every_ra_score_with_its_inputs(knowledge):
    d = TODAY - timedelta(days=10)
    scores = compute_scores(facts(visit(d, **RA_VISIT)), knowledge)
    assert {s.id for s in scores} == {"DAS28-ESR", "DAS28-CRP", "CDAI", "SDAI"}
    das = of(scores, "DAS28-ESR")[0]
    assert (das.value, das.category, das.when, das.stale) == (4.17, "moderate", d, False)
    assert das.inputs == {"tjc28": 4, "sjc28": 2, "esr": 20, "ptga_mm": 40, "ptga_0_10": 4.0}
    assert {e.label for e in das.evidence} == {"tjc28", "sjc28", "esr", "ptga_mm"}
    assert all(e.ref.startswith("Observation/") and e.when == d for e in das.evidence)
    # SDAI adds CRP in mg/dL: 12 mg/L -> 1.2; 4 + 2 + 4.0 + 3.0 + 1.2 = 14.2
    sdai = of(scores, "SDAI")[0]
    assert sdai.value == 14.2
    assert sdai.inputs["crp"] == 12 and sdai.inputs["crp_mg_dl"] == 1.2
    assert of(scores, "CDAI")[0].value == 13.0


def test_components_within_the_window_make_one_visit(knowledge):
    d = TODAY - timedelta(days=20)
    joints = visit(d, tjc28=4, sjc28=2, ptga_mm=40)
    lab_7_days_before = [obs("esr", 20, d - timedelta(days=7))]
    scores = compute_scores(facts(joints, lab_7_days_before), knowledge)
    assert of(scores, "DAS28-ESR")[0].value == 4.17


def test_components_more_than_the_window_apart_are_not_combined(knowledge):
    d = TODAY - timedelta(days=20)
    joints = visit(d, tjc28=4, sjc28=2, ptga_mm=40)
    lab_8_days_before = [obs("esr", 20, d - timedelta(days=8))]
    scores = compute_scores(facts(joints, lab_8_days_before), knowledge)
    assert of(scores, "DAS28-ESR") == []


def test_the_closest_component_to_the_visit_is_used(knowledge):
    d = TODAY - timedelta(days=30)
    joints = visit(d, tjc28=4, sjc28=2, ptga_mm=40)
    esr = [obs("esr", 80, d - timedelta(days=6)), obs("esr", 20, d + timedelta(days=1))]
    das = of(compute_scores(facts(joints, esr), knowledge), "DAS28-ESR")[0]
    assert das.inputs["esr"] == 20


def test_last_three_visits_newest_first(knowledge):
    days = [TODAY - timedelta(days=n) for n in (10, 40, 70, 100)]
    groups = [visit(d, tjc28=n, sjc28=1, prga_mm=10, ptga_mm=10) for n, d in enumerate(days)]
    cdai = of(compute_scores(facts(*groups), knowledge), "CDAI")
    assert [s.when for s in cdai] == days[:3]
    # tjc 0, 1, 2 + sjc 1 + 1.0 + 1.0
    assert [s.value for s in cdai] == [3.0, 4.0, 5.0]


def test_stale_after_120_days(knowledge):
    fresh = visit(TODAY - timedelta(days=120), tjc28=1, sjc28=1, ptga_mm=10, prga_mm=10)
    old = visit(TODAY - timedelta(days=121), tjc28=1, sjc28=1, ptga_mm=10, prga_mm=10)
    assert of(compute_scores(facts(fresh), knowledge), "CDAI")[0].stale is False
    assert of(compute_scores(facts(old), knowledge), "CDAI")[0].stale is True


@pytest.mark.parametrize(
    ("recorded", "mismatch"), [(13.0, False), (13.1, False), (13.2, True), (12.8, True)]
)
def test_recorded_total_is_shown_and_a_difference_over_0_1_flagged(knowledge, recorded, mismatch):
    d = TODAY - timedelta(days=5)
    group = visit(d, tjc28=4, sjc28=2, ptga_mm=40, prga_mm=30)
    total = [obs("cdai_total", recorded, d)]
    cdai = of(compute_scores(facts(group, total), knowledge), "CDAI")[0]
    assert cdai.value == 13.0
    assert cdai.recorded_total == recorded
    assert cdai.mismatch is mismatch
    assert "cdai_total" in {e.label for e in cdai.evidence}


def test_recorded_total_without_components_is_shown_as_recorded(knowledge):
    d = TODAY - timedelta(days=15)
    scores = compute_scores(facts([obs("sdai_total", 27.5, d)]), knowledge)
    sdai = of(scores, "SDAI")[0]
    assert (sdai.value, sdai.category, sdai.recorded_total, sdai.mismatch) == (
        27.5,
        "high",
        27.5,
        False,
    )
    assert sdai.inputs == {"recorded_total": 27.5}


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"tjc28": 29, "sjc28": 2, "ptga_mm": 40, "prga_mm": 30}, "tjc28 must be <= 28"),
        ({"tjc28": 4, "sjc28": 2, "ptga_mm": 140, "prga_mm": 30}, "ptga_mm must be <= 100"),
    ],
)
def test_out_of_range_component_gives_a_score_without_value_and_the_reason(
    knowledge, values, problem
):
    d = TODAY - timedelta(days=3)
    cdai = of(compute_scores(facts(visit(d, **values)), knowledge), "CDAI")[0]
    assert cdai.value is None and cdai.category is None
    assert cdai.problem == problem
    assert cdai.inputs["tjc28"] == values["tjc28"]  # inputs shown even so


def test_esr_zero_is_rejected_for_das28(knowledge):
    d = TODAY - timedelta(days=3)
    das = of(
        compute_scores(facts(visit(d, tjc28=1, sjc28=1, esr=0, ptga_mm=10)), knowledge), "DAS28-ESR"
    )
    assert das[0].value is None and das[0].problem == "esr must be > 0"


def test_value_in_a_unit_other_than_the_canonical_one_is_not_used(knowledge):
    # normalise converts CRP to mg/L; a value left in mg/dL must never be read as mg/L
    d = TODAY - timedelta(days=3)
    group = visit(d, tjc28=4, sjc28=2, ptga_mm=40, prga_mm=30) + [obs("crp", 1.2, d, unit="mg/dL")]
    scores = compute_scores(facts(group), knowledge)
    assert of(scores, "SDAI") == [] and of(scores, "DAS28-CRP") == []


def test_three_variable_forms_only_without_patient_global(knowledge):
    d = TODAY - timedelta(days=3)
    without_global = compute_scores(facts(visit(d, tjc28=4, sjc28=2, esr=20, crp=12)), knowledge)
    assert {s.id for s in without_global} == {"DAS28-ESR-3", "DAS28-CRP-3"}
    assert of(without_global, "DAS28-ESR-3")[0].value == 4.06
    assert of(without_global, "DAS28-CRP-3")[0].value == 3.83
    with_global = compute_scores(
        facts(visit(d, tjc28=4, sjc28=2, esr=20, crp=12, ptga_mm=40)), knowledge
    )
    assert not {"DAS28-ESR-3", "DAS28-CRP-3"} & {s.id for s in with_global}


def test_eular_response_from_the_baseline_28_to_365_days_before(knowledge):
    base = visit(TODAY - timedelta(days=100), tjc28=16, sjc28=9, esr=40, ptga_mm=70)
    now = visit(TODAY - timedelta(days=2), tjc28=1, sjc28=0, esr=10, ptga_mm=20)
    scores = compute_scores(facts(base, now), knowledge)
    eular = of(scores, "EULAR-RESPONSE")[0]
    das = of(scores, "DAS28-ESR")
    # baseline 0.56*4 + 0.28*3 + 0.70*3.688879 + 0.98 = 6.64
    # current 0.56 + 0 + 1.611810 + 0.28 = 2.45
    assert [s.value for s in das] == [2.45, 6.64]
    assert eular.category == "good" and eular.value == 4.19
    assert eular.inputs["baseline"] == 6.64 and eular.inputs["form"] == "DAS28-ESR"


def test_no_eular_response_when_the_previous_das28_is_too_recent(knowledge):
    base = visit(TODAY - timedelta(days=20), tjc28=16, sjc28=9, esr=40, ptga_mm=70)
    now = visit(TODAY - timedelta(days=2), tjc28=1, sjc28=0, esr=10, ptga_mm=20)
    assert of(compute_scores(facts(base, now), knowledge), "EULAR-RESPONSE") == []


PMR = {
    "crp": 22,
    "patient_pain_mm": 66,
    "prga_mm": 68,
    "morning_stiffness_min": 120,
    "elevation_upper_limbs": 1,
}


def test_pmr_as_crp_and_flare(knowledge):
    before = visit(
        TODAY - timedelta(days=60),
        crp=3,
        patient_pain_mm=10,
        prga_mm=10,
        morning_stiffness_min=0,
        elevation_upper_limbs=0,
    )
    now = visit(TODAY - timedelta(days=1), **PMR)
    scores = compute_scores(facts(before, now), knowledge)
    pmr = of(scores, "PMR-AS-CRP")
    # 2.2 + 6.6 + 6.8 + 12 + 1 = 28.6; before 0.3 + 1 + 1 = 2.3
    assert [(s.value, s.category) for s in pmr] == [(28.6, "high"), (2.3, "low")]
    assert pmr[0].inputs["crp_mg_dl"] == 2.2 and pmr[0].inputs["patient_pain_0_10"] == 6.6
    flare = of(scores, "PMR-FLARE")[0]
    assert flare.category == "yes" and flare.inputs["delta"] == 26.3
    assert of(scores, "PMR-AS-ESR") == []  # shipped disabled (*verify*)


def test_pmr_as_esr_when_the_institution_enables_it(knowledge):
    files = dict(knowledge.files)
    files["scores"] = {
        **files["scores"],
        "PMR-AS-ESR": {**files["scores"]["PMR-AS-ESR"], "enabled": True},
    }
    enabled = dataclasses.replace(knowledge, files=files)
    now = visit(TODAY - timedelta(days=1), **PMR, esr=40)
    pmr_esr = of(compute_scores(facts(now), enabled), "PMR-AS-ESR")[0]
    # 40*0.1 + 6.6 + 6.8 + 12 + 1 = 30.4
    assert pmr_esr.value == 30.4


def test_nothing_on_file_gives_no_scores(knowledge):
    assert compute_scores(Facts(today=TODAY, orders=[]), knowledge) == []


# ------------------------------------------------------------------------------ through normalise


def _quantity(code: str, value: float, unit: str, when: str, n: int) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"o{n}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


def test_scores_from_fhir_observations_with_loinc_codes_and_mixed_units(knowledge):
    from cds_service.model import PatientRecord
    from cds_service.normalise import normalise

    when = "2026-11-10T09:30:00+09:00"
    observations = [
        _quantity("88981-6", 4, "{count}", when, 1),  # tender joints [CDAI]
        _quantity("88980-8", 2, "{count}", when, 2),  # swollen joints [CDAI]
        _quantity("75894-6", 4, "cm", when, 3),  # patient global 0-10
        _quantity("75846-6", 3, "cm", when, 4),  # evaluator global 0-10
        _quantity("1988-5", 1.2, "mg/dL", "2026-11-08", 5),  # CRP sent in mg/dL
        _quantity("4537-7", 20, "mm/h", "2026-11-08", 6),  # ESR Westergren
        _quantity("75847-4", 13, "{score}", when, 7),  # CDAI total recorded by the EHR
    ]
    record = PatientRecord(patient_id="p1", observations=observations)
    f = normalise(record, [], knowledge, TODAY)
    scores = compute_scores(f, knowledge)
    by_id = {s.id: s for s in scores}
    assert by_id["CDAI"].value == 13.0 and by_id["CDAI"].recorded_total == 13.0
    assert by_id["CDAI"].mismatch is False
    # CRP 1.2 mg/dL -> 12 mg/L canonical; SDAI adds 1.2 (mg/dL): 13 + 1.2
    assert by_id["SDAI"].inputs["crp"] == pytest.approx(12.0)
    assert by_id["SDAI"].value == 14.2
    assert by_id["DAS28-ESR"].value == 4.17  # PtGA 4 cm read as 40 mm
    assert by_id["DAS28-CRP"].value == 3.96
    assert {e.ref for e in by_id["SDAI"].evidence} >= {"Observation/o1", "Observation/o5"}


def test_score_inputs_are_concepts_with_the_units_the_formulas_assume(knowledge):
    from cds_service.assess.activity import _FORMULAS, RECORDED_TOTALS

    units = {k: v["unit"] for k, v in knowledge.concepts["observation"].items()}
    used = {c for comps, _ in _FORMULAS.values() for c in comps} | set(RECORDED_TOTALS.values())
    assert used <= set(units)
    # the conversion factors of scores.toml assume these canonical units
    assert (units["crp"], units["esr"], units["ptga_mm"], units["prga_mm"]) == (
        "mg/L",
        "mm/h",
        "mm",
        "mm",
    )
    assert units["patient_pain_mm"] == "mm" and units["morning_stiffness_min"] == "min"


_ANY_VALUE = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-100, max_value=10_000)
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(UNITS)),
            _ANY_VALUE,
            st.integers(min_value=0, max_value=400),
        ),
        max_size=40,
    )
)
def test_compute_scores_never_raises_and_never_categorises_a_rejected_input(knowledge, rows):
    f = facts([obs(c, v, TODAY - timedelta(days=d)) for c, v, d in rows])
    for score in compute_scores(f, knowledge):
        if score.value is None:
            assert score.problem and score.category is None
        else:
            assert score.category is not None and score.problem is None
            assert math.isfinite(score.value)
        if score.recorded_total is not None:
            assert score.recorded_total >= 0


@pytest.mark.parametrize("garbage", [float("nan"), float("inf"), -4.0])
def test_an_implausible_recorded_total_is_not_shown(knowledge, garbage):
    scores = compute_scores(
        facts([obs("cdai_total", garbage, TODAY - timedelta(days=3))]), knowledge
    )
    assert scores == []

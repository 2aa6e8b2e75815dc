"""Observations -> concepts in canonical units (issue 5 point 2; SPEC.md section 1 input rules).

Each test builds Observations the way EHRs send them (LOINC codes, UCUM or sloppy units, coded
answers, text in four languages) and checks what the engine will see.
"""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise

K = load_knowledge()
TODAY = date(2026, 11, 23)
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"


def obs(code: str, rid: str = "o1", when: str = "2026-10-01", system: str = LOINC, **value):
    resource = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "effectiveDateTime": when,
    }
    resource.update(value)
    return resource


def qty(value, unit=None, code=None, comparator=None):
    q = {"value": value}
    if unit is not None:
        q["unit"] = unit
    if code is not None:
        q["code"] = code
        q["system"] = "http://unitsofmeasure.org"
    if comparator is not None:
        q["comparator"] = comparator
    return {"valueQuantity": q}


def facts_of(*observations):
    record = PatientRecord(patient_id="p", observations=list(observations))
    return normalise(record, [], K, TODAY)


def only(facts, concept):
    values = facts.observations.get(concept, [])
    assert len(values) == 1, (concept, values, facts.dropped)
    return values[0]


@pytest.mark.parametrize(
    ("code", "value", "unit", "concept", "expected"),
    [
        ("1988-5", 1.2, "mg/dL", "crp", 12.0),  # 1 mg/dL = 10 mg/L
        ("1988-5", 8, "mg/L", "crp", 8.0),
        ("30522-7", 3, "ug/mL", "crp", 3.0),
        ("751-8", 1.2, "10*9/L", "anc", 1200.0),
        ("751-8", 0.8, "10*3/uL", "anc", 800.0),
        ("751-8", 950, "cells/uL", "anc", 950.0),
        ("731-0", 450, "/mm3", "alc", 450.0),
        ("777-3", 12.5, "10^4/uL", "platelets", 125000.0),  # Japanese reporting
        ("777-3", 15.2, "万/μL", "platelets", 152000.0),
        ("6690-2", 5.4, "×10^3/µL", "wbc", 5.4),
        ("98979-8", 61, "mL/min/1.73m²", "egfr", 61.0),
        ("718-7", 85, "g/L", "hb", 8.5),
        ("2160-0", 88.4, "umol/L", "creatinine", 1.0),  # creatinine 88.4 umol/L = 1 mg/dL
        ("2160-0", 132.6, "µmol/L", "creatinine", 1.5),
        ("2093-3", 5.0, "mmol/L", "total_cholesterol", 193.35),  # x 38.67
        ("2085-9", 1.0, "mmol/l", "hdl", 38.67),
        ("2571-8", 2.0, "mmol/L", "triglycerides", 177.14),  # x 88.57
        ("39803-2", 2500, "ng/mL", "ifx_trough", 2.5),
        ("2276-4", 600, "ug/L", "ferritin", 600.0),
        ("98979-8", 45, "mL/min/{1.73_m2}", "egfr", 45.0),
        ("33914-3", 52, "mL/min", "egfr", 52.0),  # SPEC section 6: sent without BSA part
        ("4537-7", 28, "mm/h", "esr", 28.0),
        ("29463-7", 154, "[lb_av]", "body_weight", 69.853225),
    ],
)
def test_units_are_converted_to_the_canonical_unit(code, value, unit, concept, expected):
    o = only(facts_of(obs(code, **qty(value, code=unit))), concept)
    assert o.value == pytest.approx(expected, rel=1e-4)
    assert o.unit == K.concepts["observation"][concept]["unit"]


def test_unit_given_only_as_human_text_is_read():
    o = only(facts_of(obs("1988-5", **qty(0.4, unit="mg/dl"))), "crp")
    assert o.value == pytest.approx(4.0)
    assert o.original == "0.4 mg/dl"


def test_human_unit_is_used_when_the_unit_code_is_not_ucum():
    q = {
        "valueQuantity": {
            "value": 1.1,
            "unit": "mg/dL",
            "code": "258797006",
            "system": "http://snomed.info/sct",
        }
    }
    assert only(facts_of(obs("1988-5", **q)), "crp").value == pytest.approx(11.0)


def test_unconvertible_unit_is_dropped_with_the_reason_never_assumed():
    facts = facts_of(obs("1988-5", **qty(5, code="mmol")))
    assert "crp" not in facts.observations
    assert any("not convertible for crp" in d.reason for d in facts.dropped)


def test_lab_value_without_unit_is_dropped_not_read_as_normal():
    facts = facts_of(obs("751-8", **qty(1.5)))
    assert "anc" not in facts.observations
    assert [d.reason for d in facts.dropped] == ["no unit for anc"]


def test_vas_in_cm_is_converted_to_mm_and_unitless_vas_is_dropped():
    facts = facts_of(
        obs("72514-3", "pain-cm", **qty(6.5, code="cm")),
        obs("75894-6", "ptga-bare", **qty(4)),  # 0-10 numeric rating code: cm of a 10 cm VAS
        obs("75846-6", "prga-mm", **qty(35, code="mm")),
    )
    assert only(facts, "patient_pain_mm").value == 65.0
    assert only(facts, "ptga_mm").value == 40.0
    assert only(facts, "prga_mm").value == 35.0


def test_out_of_range_inputs_are_passed_on_for_the_scores_to_reject_with_the_reason():
    facts = facts_of(
        obs("75894-6", "a", **qty(45, code="{score}")),  # 0-100 value sent on a 0-10 code
        obs("88981-6", "b", valueInteger=29),
        obs("4537-7", "c", **qty(-3, code="mm/h")),
    )
    assert only(facts, "ptga_mm").value == 450.0
    assert only(facts, "ptga_mm").original == "45 {score}"
    assert only(facts, "tjc28").value == 29
    assert only(facts, "esr").value == -3
    assert facts.dropped == []


def test_cdai_panel_components_become_separate_concepts():
    panel = obs(
        "75842-5",
        "cdai-1",
        component=[
            {"code": {"coding": [{"system": LOINC, "code": "88981-6"}]}, "valueInteger": 6},
            {"code": {"coding": [{"system": LOINC, "code": "88980-8"}]}, **qty(3, code="{#}")},
            {"code": {"coding": [{"system": LOINC, "code": "75894-6"}]}, **qty(5.5)},
            {"code": {"coding": [{"system": LOINC, "code": "75846-6"}]}, **qty(4, code="{score}")},
            {"code": {"coding": [{"system": LOINC, "code": "75847-4"}]}, **qty(19.5)},
        ],
    )
    facts = facts_of(panel)
    assert only(facts, "tjc28").value == 6
    assert only(facts, "sjc28").value == 3
    assert only(facts, "ptga_mm").value == 55.0
    assert only(facts, "prga_mm").value == 40.0
    assert only(facts, "cdai_total").value == 19.5
    assert {o.ref for v in facts.observations.values() for o in v} == {"Observation/cdai-1"}
    assert facts.dropped == []


def test_value_string_with_comparator_and_unit():
    o = only(facts_of(obs("1988-5", valueString="<0.5 mg/dL")), "crp")
    assert (o.value, o.comparator, o.original) == (5.0, "<", "<0.5 mg/dL")


def test_full_width_digits_and_zero_width_space_in_values_and_codes():
    facts = facts_of(
        obs("1988-5", "a", valueString="１．２ mg/dL"),
        obs("718-7\u200b", "b", **qty(10.2, unit="g/\u200bdL")),
    )
    assert only(facts, "crp").value == pytest.approx(12.0)
    assert only(facts, "hb").value == pytest.approx(10.2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("positive", "positive"),
        ("Positive.", "positive"),
        ("陽性", "positive"),
        ("阳性", "positive"),
        ("陰性", "negative"),
        ("阴性", "negative"),
        ("Not detected", "negative"),
        ("detected", "positive"),
        ("判定保留", "indeterminate"),
        ("(-)", "negative"),
    ],
)
def test_text_answers_in_four_languages(text, expected):
    o = only(facts_of(obs("5196-1", valueString=text)), "hbsag")
    assert o.interpretation == expected
    assert o.value is None


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (SCT, "10828004", "positive"),
        (SCT, "260385009", "negative"),
        (SCT, "260373001", "positive"),
        (SCT, "260415000", "negative"),
        (SCT, "11214006", "positive"),
        (SCT, "131194007", "negative"),
        (LOINC, "LA6576-8", "positive"),
        (LOINC, "LA11883-8", "negative"),
        ("urn:oid:2.16.840.1.113883.6.96", "10828004", "positive"),
    ],
)
def test_coded_answers(system, code, expected):
    answer = {"valueCodeableConcept": {"coding": [{"system": system, "code": code}]}}
    o = only(facts_of(obs("16933-4", **answer)), "anti_hbc")
    assert o.interpretation == expected


def test_unrecognised_answer_is_dropped_not_read_as_negative():
    facts = facts_of(obs("71773-6", valueString="see comment"))
    assert "igra" not in facts.observations
    assert facts.dropped[0].reason == "text result not recognised for igra"


def test_numeric_qualitative_result_is_read_from_its_interpretation_flag_only():
    flagged = obs(
        "2118-8",
        "h1",
        **qty(1200, code="[IU]/L"),
        interpretation=[{"coding": [{"code": "POS"}]}],
    )
    bare = obs("71773-6", "i1", **qty(0.12, code="[IU]/mL"))
    facts = facts_of(flagged, bare)
    assert only(facts, "hcg").interpretation == "positive"
    assert "igra" not in facts.observations
    assert "without interpretation for igra" in facts.dropped[0].reason


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"coding": [{"system": SCT, "code": "449868002"}]}, "current"),
        ({"coding": [{"system": SCT, "code": "8517006"}]}, "former"),
        ({"coding": [{"system": SCT, "code": "266919005"}]}, "never"),
        ({"coding": [{"system": SCT, "code": "77176002"}]}, "current"),
        ({"coding": [{"system": LOINC, "code": "LA15920-4"}]}, "former"),
        ({"coding": [{"system": SCT, "code": "266927001"}]}, "unknown"),
        ({"text": "過去喫煙者"}, "former"),
        ({"text": "Never smoker"}, "never"),
    ],
)
def test_smoking_status_answers(answer, expected):
    o = only(facts_of(obs("72166-2", valueCodeableConcept=answer)), "smoking_status")
    assert o.interpretation == expected


def test_anti_infliximab_antibodies_in_assay_units_are_kept_but_not_comparable():
    local = {"observations": {"ifx_antibody": {"codes": [{"system": "urn:lab", "code": "ATI"}]}}}
    knowledge = load_knowledge(local_codes=local)
    record = PatientRecord(
        patient_id="p",
        observations=[
            obs("ATI", "m", system="urn:lab", **qty(0.08, code="ug/mL")),
            obs("ATI", "u", "2026-09-01", system="urn:lab", **qty(35, code="U/mL")),
        ],
    )
    values = normalise(record, [], knowledge, TODAY).observations["ifx_antibody"]
    assert [(o.value, o.unit, o.comparable) for o in values] == [
        (80.0, "ug/L", True),
        (35, "U/mL", False),
    ]


def test_entered_in_error_and_cancelled_results_are_ignored():
    facts = facts_of(
        obs("1988-5", "bad", status="entered-in-error", **qty(99, code="mg/L")),
        obs("1988-5", "cx", status="cancelled", **qty(99, code="mg/L")),
        obs("1988-5", "ok", status="amended", **qty(4, code="mg/L")),
    )
    assert [o.ref for o in facts.observations["crp"]] == ["Observation/ok"]


def test_dates_come_from_period_instant_or_issued_and_results_are_newest_first():
    a = obs("1988-5", "a", **qty(1, code="mg/L"))
    b = obs("1988-5", "b", **qty(2, code="mg/L"))
    del b["effectiveDateTime"]
    b["effectivePeriod"] = {"start": "2026-11-01T08:00:00+09:00"}
    c = obs("1988-5", "c", **qty(3, code="mg/L"))
    del c["effectiveDateTime"]
    c["issued"] = "2026-06-15T10:00:00.000Z"
    d = obs("1988-5", "d", **qty(4, code="mg/L"))
    del d["effectiveDateTime"]
    facts = facts_of(a, b, c, d)
    assert [(o.ref, o.when) for o in facts.observations["crp"]] == [
        ("Observation/b", date(2026, 11, 1)),
        ("Observation/a", date(2026, 10, 1)),
        ("Observation/c", date(2026, 6, 15)),
    ]
    assert [x.reason for x in facts.dropped] == ["no date for crp"]


def test_observation_without_id_gets_a_positional_reference():
    o = obs("1988-5", **qty(1, code="mg/L"))
    del o["id"]
    assert only(facts_of(o), "crp").ref == "Observation[0]"


def test_results_without_id_are_referenced_by_their_own_position_among_others():
    first = obs("1988-5", when="2026-10-01", **qty(1, code="mg/L"))
    second = obs("1988-5", when="2026-10-02", **qty(2, code="mg/L"))
    for o in (first, second):
        del o["id"]
    typed = obs("4537-7", "esr-1", **qty(20, code="mm/h"))
    # the same object sent twice without an id is two positions, two results
    facts = facts_of(typed, "garbage", first, typed, second, first)
    assert [(o.ref, o.value) for o in facts.observations["crp"]] == [
        ("Observation[4]", 2.0),
        ("Observation[5]", 1.0),
        ("Observation[2]", 1.0),
    ]
    assert [o.ref for o in facts.observations["esr"]] == ["Observation/esr-1"]


def test_garbage_does_not_crash():
    garbage = [
        "text",
        None,
        {"resourceType": "Observation"},
        {"resourceType": "Observation", "code": "1988-5"},
        {"resourceType": "Observation", "code": {"coding": "x"}},
        obs("1988-5", "q", valueQuantity="12"),
        obs("1988-5", "r", valueQuantity={"value": "abc", "code": "mg/L"}),
        obs("1988-5", "s", effectiveDateTime="yesterday", **qty(1, code="mg/L")),
    ]
    facts = normalise(PatientRecord(patient_id="p", observations=garbage), [], K, TODAY)
    assert facts.observations == {}
    assert len(facts.dropped) == 3


@pytest.mark.parametrize(
    "quantity",
    [
        {"value": 1.2, "unit": "mg/dL", "code": "mg/dL"},
        {"value": 3, "unit": "mg/dL", "code": "mg/dL"},
        {"value": 1.2, "unit": "milligram per decilitre", "code": "mg/dL"},
        {"value": 1.2, "code": "mg/dL", "comparator": "<"},
        {"value": 1.2, "code": "mg/dL", "comparator": "≤"},
        {"value": 1.2, "code": "258797006", "unit": "mg/dL"},
        {"value": 1.2, "code": "mmol/L"},
        {"value": "1.2", "code": "mg/dL"},
        {"value": True, "code": "mg/dL"},
        {"value": 0, "code": "mg/dL"},
        {"value": 1.2, "code": None, "unit": "mg/dL"},
        {"value": 1.2, "units": "mg/dL"},
    ],
)
def test_the_usual_quantity_is_read_as_the_general_reader_reads_it(quantity):
    """The short path for plain numeric results gives the same value, unit, original text and
    flags as the general reader, and leaves every other shape to it."""
    from cds_service.normalise.observations import _plain_quantity, read_value

    vs = K.vs
    hit = vs.observation_coding(LOINC, "1988-5")
    assert hit is not None
    resource = obs("1988-5", valueQuantity=quantity)
    general = read_value(vs, hit[0], resource, resource, "Observation/o1", TODAY, hit[1])
    short = _plain_quantity(vs, hit[0], resource, resource, "Observation/o1", TODAY, hit[1])
    assert short is None or short == general
    if set(quantity) <= {"value", "unit", "code"} and quantity["value"] == 1.2:
        if quantity.get("code") == "mg/dL":
            assert short is not None and short.value == 12.0 and short.unit == "mg/L"

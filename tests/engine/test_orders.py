"""Order recognition (SPEC.md section 2): drug by RxNorm, ATC (exact, never prefix) or name in
English / Japanese / Chinese; dose and frequency from dosageInstruction; route; indication."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise, recognise_orders

K = load_knowledge()
TODAY = date(2026, 11, 23)
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
SCT = "http://snomed.info/sct"
CM = "http://hl7.org/fhir/sid/icd-10-cm"
WHO = "http://hl7.org/fhir/sid/icd-10"


def order(codings=(), text=None, rid="draft-1", dosage=None, **extra):
    cc: dict = {"coding": list(codings)}
    if text is not None:
        cc["text"] = text
    resource = {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": cc,
    }
    if dosage is not None:
        resource["dosageInstruction"] = dosage
    resource.update(extra)
    return resource


def dose(value, unit, freq=1, period=1, period_unit="d"):
    return [
        {
            "timing": {"repeat": {"frequency": freq, "period": period, "periodUnit": period_unit}},
            "doseAndRate": [{"doseQuantity": {"value": value, "unit": unit}}],
        }
    ]


def one(resource, selections=None):
    (o,) = recognise_orders([resource], K, selections)
    return o


@pytest.mark.parametrize(
    ("codings", "text", "drug", "klass"),
    [
        ([{"system": RX, "code": "1357536"}], None, "tofacitinib", "jaki"),
        ([{"system": ATC, "code": "L04AF01"}], None, "tofacitinib", "jaki"),
        ([{"system": ATC, "code": "L04AA29"}], None, "tofacitinib", "jaki"),  # pre-2024 code
        ([{"system": ATC, "code": "L04AA37"}], None, "baricitinib", "jaki"),
        ([{"system": ATC, "code": "L04AF07"}], None, "deucravacitinib", "tyk2"),
        ([{"system": ATC, "code": "D11AH08"}], None, "abrocitinib", "jaki"),
        ([{"system": ATC, "code": "L01EJ01"}], None, "ruxolitinib", "jaki"),
        (
            [
                {
                    "system": RX,
                    "code": "99999999",
                    "display": "upadacitinib 15 MG Extended Release Oral Tablet",
                }
            ],
            None,
            "upadacitinib",
            "jaki",
        ),
        ([], "ゼルヤンツ錠5mg", "tofacitinib", "jaki"),
        ([], "オルミエント錠4mg", "baricitinib", "jaki"),
        ([], "リンヴォック錠15mg", "upadacitinib", "jaki"),
        ([], "ジセレカ錠200mg", "filgotinib", "jaki"),
        ([], "スマイラフ錠100mg", "peficitinib", "jaki"),
        ([], "サイバインコ錠100mg", "abrocitinib", "jaki"),
        ([], "托法替布片 5mg", "tofacitinib", "jaki"),
        ([], "枸橼酸托法替尼片", "tofacitinib", "jaki"),
        ([], "巴瑞替尼片", "baricitinib", "jaki"),
        ([], "乌帕替尼缓释片", "upadacitinib", "jaki"),
        ([], "烏帕替尼持續性藥效錠", "upadacitinib", "jaki"),
        ([], "阿布昔替尼片", "abrocitinib", "jaki"),
        ([], "磷酸蘆可替尼錠", "ruxolitinib", "jaki"),
        ([], "Litfulo 50 mg capsule", "ritlecitinib", "jaki"),
        ([], "SOTYKTU 6 MG Oral Tablet", "deucravacitinib", "tyk2"),
        ([], "Xel\u200bjanz 5 mg", "tofacitinib", "jaki"),  # zero-width space inside the name
        ([], "ＸＥＬＪＡＮＺ", "tofacitinib", "jaki"),  # full-width
        ([], "Inflectra 100 MG Injection", "infliximab", "biologic"),
        ([], "レミケード点滴静注用100", "infliximab", "biologic"),
        ([], "Hyrimoz 40 MG/0.4ML", "adalimumab", "biologic"),
        ([{"system": ATC, "code": "L04AC07"}], None, "tocilizumab", "biologic"),
        ([{"system": ATC, "code": "L01XC02"}], None, "rituximab", "biologic"),
    ],
)
def test_drug_is_recognised_by_code_or_name(codings, text, drug, klass):
    o = one(order(codings, text))
    assert (o.drug, o.drug_class) == (drug, klass)
    assert o.ref == "MedicationRequest/draft-1"


@pytest.mark.parametrize(
    "code",
    [
        "L04AF",  # a group, not a drug
        "D11AH",  # the group that also holds dupilumab, crisaborole, topical tacrolimus
        "D11AH05",  # dupilumab
        "D11AH01",  # topical tacrolimus
        "L04AF0",
    ],
)
def test_atc_is_never_matched_by_prefix(code):
    assert recognise_orders([order([{"system": ATC, "code": code}])], K) == []


def test_non_target_drugs_and_other_order_types_give_no_order():
    drafts = [
        order(text="Methotrexate 2.5 MG Oral Tablet"),
        {"resourceType": "ServiceRequest", "id": "s", "code": {"text": "tofacitinib level"}},
        {"resourceType": "MedicationRequest", "id": "x"},
        "garbage",
    ]
    assert recognise_orders(drafts, K) == []


def test_contained_medication_reference():
    resource = order(rid="m1", dosage=dose(2, "mg"))
    del resource["medicationCodeableConcept"]
    resource["contained"] = [
        {
            "resourceType": "Medication",
            "id": "med",
            "code": {"coding": [{"system": ATC, "code": "L04AF02"}]},
        }
    ]
    resource["medicationReference"] = {"reference": "#med"}
    o = one(resource)
    assert (o.drug, o.dose_mg, o.per_day) == ("baricitinib", 2.0, 1.0)


def test_stu3_medication_order_with_dose_on_the_dosage():
    resource = {
        "resourceType": "MedicationOrder",
        "id": "mo",
        "status": "draft",
        "medicationCodeableConcept": {"text": "Xeljanz"},
        "dosageInstruction": [
            {
                "timing": {"code": {"coding": [{"code": "BID"}]}},
                "doseQuantity": {"value": 5, "unit": "mg"},
            }
        ],
    }
    o = one(resource)
    assert (o.ref, o.drug, o.dose_mg, o.per_day, o.dose_problem) == (
        "MedicationOrder/mo",
        "tofacitinib",
        5.0,
        2.0,
        None,
    )


def test_dose_in_tablets_uses_the_strength_of_the_product_name():
    o = one(order(text="tofacitinib 5 MG Oral Tablet", dosage=dose(2, "tablet", freq=2)))
    assert (o.dose_mg, o.per_day) == (10.0, 2.0)


def test_dose_and_rate_as_a_single_object_and_japanese_units():
    dosage = [
        {
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": {"doseQuantity": {"value": 1, "unit": "錠"}},
        }
    ]
    o = one(order(text="オルミエント錠4mg", dosage=dosage))
    assert (o.dose_mg, o.per_day) == (4.0, 1.0)


def test_weekly_and_every_other_week_and_monthly_frequencies():
    assert one(order(text="etanercept", dosage=dose(50, "mg", 1, 1, "wk"))).per_day == (
        pytest.approx(1 / 7)
    )
    assert one(order(text="Humira", dosage=dose(40, "mg", 1, 2, "wk"))).per_day == (
        pytest.approx(1 / 14)
    )
    o = one(order(text="tocilizumab", dosage=dose(162, "mg", 1, 1, "mo")))
    assert o.per_day == pytest.approx(1 / 30.4375)


@pytest.mark.parametrize(
    ("dosage", "problem"),
    [
        (None, "no dosage instructions"),
        ([{"text": "5 mg twice daily"}], "no dose quantity"),
        (dose(1, "puff"), "dose unit 'puff' not readable"),
        (dose(1, "tablet"), "dose in tablet and no strength in the medication name"),
        ([{"doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}]}], "no frequency"),
        (
            [
                {
                    "doseAndRate": [{"doseRange": {"low": {"value": 5}}}],
                    "timing": {"code": {"text": "BID"}},
                }
            ],
            "dose given as a range",
        ),
    ],
)
def test_unreadable_dose_is_reported_not_guessed(dosage, problem):
    o = one(order(text="Xeljanz", dosage=dosage))
    assert o.dose_problem == problem
    assert o.dose_mg is None or problem == "no frequency"


def test_several_dosage_lines_with_the_same_dose_add_up():
    line = dose(5, "mg", 1, 1, "d")[0]
    o = one(order(text="tofacitinib", dosage=[line, line]))
    assert (o.dose_mg, o.per_day) == (5.0, 2.0)


def test_ruxolitinib_cream_and_delgocitinib_are_topical_oral_ruxolitinib_is_not():
    cream = one(order([{"system": ATC, "code": "D11AH09"}], "Opzelura 1.5% cream"))
    corectim = one(order(text="コレクチム軟膏0.5%", dosage=dose(1, "g")))
    oral = one(order(text="Jakafi 10 MG Oral Tablet", dosage=dose(1, "tablet", 2)))
    by_route = one(
        order(
            text="ruxolitinib", dosage=[{"route": {"coding": [{"system": SCT, "code": "6064005"}]}}]
        )
    )
    assert (cream.topical, cream.route, cream.dose_problem) == (True, "topical", None)
    assert (corectim.drug, corectim.topical) == ("delgocitinib", True)
    assert (oral.topical, oral.route, oral.dose_mg, oral.per_day) == (False, "oral", 10.0, 2.0)
    assert by_route.topical is True


def test_order_select_reads_only_the_selected_orders():
    drafts = [order(text="Xeljanz", rid="a"), order(text="Olumiant", rid="b")]
    assert [o.drug for o in recognise_orders(drafts, K, ["MedicationRequest/b"])] == ["baricitinib"]
    assert [o.drug for o in recognise_orders(drafts, K, ["a"])] == ["tofacitinib"]
    assert recognise_orders(drafts, K, []) == []
    assert len(recognise_orders(drafts, K)) == 2


def condition(system, code, rid, active=True):
    return {
        "resourceType": "Condition",
        "id": rid,
        "code": {"coding": [{"system": system, "code": code}]},
        "clinicalStatus": {"coding": [{"code": "active" if active else "resolved"}]},
    }


def facts_for(resource, conditions=(), observations=()):
    orders = recognise_orders([resource], K)
    record = PatientRecord(
        patient_id="p", conditions=list(conditions), observations=list(observations)
    )
    return normalise(record, orders, K, TODAY).orders[0]


def test_indication_from_reason_code_in_icd10():
    o = facts_for(
        order(text="Olumiant", reasonCode=[{"coding": [{"system": CM, "code": "M35.3"}]}]),
        [condition(SCT, "69896004", "ra")],
    )
    assert (o.indication, o.indication_source) == ("pmr", "reasonCode")


def test_indication_from_reason_reference_contained_or_in_the_record():
    contained = order(text="Rinvoq", reasonReference=[{"reference": "#dx"}])
    contained["contained"] = [
        {
            "resourceType": "Condition",
            "id": "dx",
            "code": {"coding": [{"system": WHO, "code": "M33.1"}]},
        }
    ]
    in_record = order(text="Rinvoq", reasonReference=[{"reference": "Condition/c9"}])
    assert facts_for(contained).indication == "myositis"
    assert facts_for(in_record, [condition(SCT, "398909004", "c9")]).indication == "rosacea"


def test_indication_from_active_conditions_by_labelled_indication_then_priority():
    conditions = [
        condition(SCT, "24079001", "ad"),
        condition(SCT, "69896004", "ra"),
        condition(SCT, "398909004", "ros"),
        condition(SCT, "65323003", "pmr", False),
    ]
    abro = facts_for(order(text="Cibinqo"), conditions)
    tofa = facts_for(order(text="Xeljanz"), conditions)
    assert (abro.indication, abro.indication_source) == ("atopic_dermatitis", "conditions")
    assert (tofa.indication, tofa.indication_source) == ("ra", "conditions")


def test_unknown_indication_is_none():
    o = facts_for(order(text="Xeljanz"), [condition(SCT, "65323003", "pmr", active=False)])
    assert (o.indication, o.indication_source) == (None, None)


def test_weight_based_infliximab_dose_uses_the_latest_body_weight():
    weight = {
        "resourceType": "Observation",
        "id": "w",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "effectiveDateTime": "2026-10-01",
        "valueQuantity": {"value": 62, "code": "kg"},
    }
    ifx = order(text="infliximab", dosage=dose(5, "mg/kg", 1, 8, "wk"))
    o = facts_for(ifx, observations=[weight])
    assert (o.dose_mg_per_kg, o.dose_mg, o.dose_problem) == (5.0, 310.0, None)
    o = facts_for(ifx)
    assert (o.dose_mg, o.dose_problem) == (
        None,
        "weight-based dose and no body weight in the last year",
    )


def test_text_naming_another_drug_wins_over_a_mismapped_code():
    # a code of tofacitinib sent with the text of methotrexate is not a JAK order...
    mismapped = order([{"system": RX, "code": "1357536", "display": "Methotrexate 2.5 MG"}])
    assert recognise_orders([mismapped], K) == []
    # ...and a code of methotrexate sent with the text "Olumiant" is the baricitinib order
    o = one(order([{"system": RX, "code": "6851"}], "Olumiant 2 MG Oral Tablet"))
    assert (o.drug, o.drug_class) == ("baricitinib", "jaki")


def test_dstu2_period_units_spelling():
    resource = order(
        text="Xeljanz",
        dosage=[
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnits": "d"}},
                "doseQuantity": {"value": 5, "unit": "mg"},
            }
        ],
    )
    assert (one(resource).dose_mg, one(resource).per_day) == (5.0, 2.0)

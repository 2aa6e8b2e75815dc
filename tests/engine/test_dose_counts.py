"""Doses as clients send them: counts of tablets as UCUM annotations ({pill}, {tbl}...) or
without unit, multiplied by the strength of the RxNorm product code (medications.toml) or the
single strength named in the medication text; never guessed when code and text disagree."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise, recognise_orders

K = load_knowledge()
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"


def draft(codings, text=None, qty=None, freq=2):
    cc: dict = {"coding": codings}
    if text is not None:
        cc["text"] = text
    return {
        "resourceType": "MedicationRequest",
        "id": "request-123",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": cc,
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": freq, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": qty}],
            }
        ],
    }


def one(resource):
    (order,) = recognise_orders([resource], K)
    return order


SCD_5 = {"system": RX, "code": "1357541", "display": "tofacitinib 5 MG Oral Tablet"}


@pytest.mark.parametrize("code", ["{pill}", "{tbl}", "{tablet}", "{capsule}", "{cap}", "{dose}"])
def test_ucum_annotation_counts_tablets_of_the_named_product(code):
    order = one(draft([SCD_5], qty={"value": 2, "system": UCUM, "code": code}))
    assert (order.dose_mg, order.per_day, order.dose_problem) == (10.0, 2.0, None)


def test_product_code_alone_gives_the_strength():
    # no display and no text: only medications.toml knows that 1357541 is a 5 mg tablet
    order = one(draft([{"system": RX, "code": "1357541"}], qty={"value": 2, "code": "{pill}"}))
    assert (order.drug, order.dose_mg) == ("tofacitinib", 10.0)


def test_bare_count_of_an_extended_release_product_code():
    order = one(draft([{"system": RX, "code": "1741046"}], qty={"value": 1}, freq=1))
    assert (order.dose_mg, order.per_day) == (11.0, 1.0)


def test_strength_in_the_display_of_an_unknown_product_code_is_read():
    coding = {"system": RX, "code": "999999991", "display": "baricitinib 4 MG Oral Tablet"}
    order = one(draft([coding], qty={"value": 1, "code": "{tbl}"}, freq=1))
    assert (order.drug, order.dose_mg) == ("baricitinib", 4.0)


def test_code_and_text_with_different_strengths_are_not_guessed():
    order = one(draft([SCD_5], text="tofacitinib 10 mg tablet", qty={"value": 1, "code": "{pill}"}))
    assert order.dose_mg is None
    assert order.dose_problem == (
        "the product code and the medication name give different strengths"
    )


def test_count_without_any_strength_is_reported():
    ingredient = {"system": RX, "code": "1357536", "display": "tofacitinib"}
    order = one(draft([ingredient], qty={"value": 2, "code": "{pill}"}))
    assert order.dose_mg is None
    assert order.dose_problem == "dose in {pill} and no strength in the medication name"


def test_mass_units_still_win_over_the_product_strength():
    order = one(draft([SCD_5], qty={"value": 5, "unit": "mg", "code": "mg"}))
    assert order.dose_mg == 5.0


def test_dstu1_units_member_is_read():
    order = one(draft([SCD_5], qty={"value": 10, "units": "mg"}))
    assert order.dose_mg == 10.0


# ------------------------------------------------------------ older FHIR versions' statements


def _statement(extra):
    return {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "completed",
        "medicationCodeableConcept": {"text": "ketoconazole 200 mg tablet"},
        **extra,
    }


@pytest.mark.parametrize(
    ("extra", "counted"),
    [
        ({}, True),
        ({"wasNotTaken": True}, False),  # DSTU2
        ({"taken": "n"}, False),  # STU3
        ({"taken": "y"}, True),
        ({"status": "not-taken"}, False),  # R4
    ],
)
def test_a_statement_that_the_drug_is_not_taken_is_not_a_medication(extra, counted):
    record = PatientRecord(patient_id="p", medication_statements=[_statement(extra)])
    facts = normalise(record, [], K, date(2026, 12, 4))
    assert [m.drug for m in facts.medications] == (["ketoconazole"] if counted else [])


def test_dstu2_medication_with_product_form_and_ingredient_reference_gives_the_strength():
    order = draft([], qty={"value": 2, "code": "{tbl}"})
    del order["medicationCodeableConcept"]
    order["resourceType"] = "MedicationOrder"
    order["medicationReference"] = {"reference": "#med"}
    order["contained"] = [
        {
            "resourceType": "Medication",
            "id": "med",
            "code": {"text": "Xeljanz"},
            "product": {
                "form": {"text": "tablet"},
                "ingredient": [
                    {"item": {"reference": "Substance/x", "display": "tofacitinib 5 mg"}}
                ],
            },
        }
    ]
    result = one(order)
    assert (result.drug, result.dose_mg) == ("tofacitinib", 10.0)


@pytest.mark.parametrize(
    ("code", "drug", "mg"),
    [
        ("1357547", "tofacitinib", 5.0),  # SBD [Xeljanz]
        ("1193337", "ruxolitinib", 10.0),  # SBD [Jakafi]
        ("197832", "isoniazid", 300.0),
        ("242671", "rifapentine", 150.0),
        ("198202", "rifampicin", 300.0),
    ],
)
def test_product_codes_alone_give_drug_and_strength(code, drug, mg):
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RX, "code": code}]},
        "dosage": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseQuantity": {"value": 1, "code": "{tbl}"},
            }
        ],
    }
    record = PatientRecord(patient_id="p", medication_statements=[statement])
    (med,) = normalise(record, [], K, date(2026, 12, 4)).medications
    assert (med.drug, med.dose_mg) == (drug, mg)


@pytest.mark.parametrize(("code", "mg"), [("1193339", 5.0), ("1193345", 15.0), ("1193353", 25.0)])
def test_ruxolitinib_tablet_codes_are_oral_with_their_strength(code, mg):
    order = one(draft([{"system": RX, "code": code}], qty={"value": 2, "code": "{tbl}"}))
    assert (order.drug, order.route, order.topical, order.dose_mg) == (
        "ruxolitinib",
        "oral",
        False,
        2 * mg,
    )

"""Patient medications, prednisone-equivalent dose, age, vaccinations (issue 5 point 2)."""

from __future__ import annotations

from datetime import date

import pytest

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord, Unavailable
from cds_service.normalise import normalise

K = load_knowledge()
TODAY = date(2026, 11, 23)
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"


def med(
    rid,
    text=None,
    coding=None,
    status="active",
    dose=None,
    unit=None,
    freq=1,
    period=1,
    period_unit="d",
    route=None,
    kind="MedicationRequest",
):
    cc: dict = {}
    if text:
        cc["text"] = text
    if coding:
        cc["coding"] = [coding]
    resource = {"resourceType": kind, "id": rid, "status": status, "medicationCodeableConcept": cc}
    if dose is not None:
        q = {"value": dose}
        if unit:
            q["unit"] = unit
        dosage = {
            "timing": {"repeat": {"frequency": freq, "period": period, "periodUnit": period_unit}},
            "doseAndRate": [{"doseQuantity": q}],
        }
        if route:
            dosage["route"] = {"text": route}
        resource["dosageInstruction" if kind == "MedicationRequest" else "dosage"] = [dosage]
    return resource


def facts_of(requests=(), statements=(), **kw):
    record = PatientRecord(
        patient_id="p",
        medication_requests=list(requests),
        medication_statements=list(statements),
        **kw,
    )
    return normalise(record, [], K, TODAY)


def test_prednisone_equivalent_sums_active_systemic_steroids():
    facts = facts_of(
        [
            med("mp", "Methylprednisolone 4 MG Oral Tablet", dose=1, unit="tablet", freq=2),
            med(
                "pd",
                coding={
                    "system": RX,
                    "code": "312617",  # Synthea shape: bare "1"
                    "display": "predniSONE 5 MG Oral Tablet",
                },
                dose=1,
            ),
            med("old", "prednisolone 20 mg", dose=20, unit="mg", status="stopped"),
        ],
        [med("dx", "デキサメタゾン錠0.5mg", dose=0.75, unit="mg", kind="MedicationStatement")],
    )
    # methylprednisolone 4 mg x 2/day x 1.25 + prednisone 5 mg x 1 + dexamethasone 0.75 x 6.67
    assert facts.prednisone_mg_day == pytest.approx(10 + 5 + 5.0025, abs=0.001)


def test_topical_and_inhaled_steroids_are_not_systemic():
    facts = facts_of(
        [
            med(
                "hc",
                coding={
                    "system": RX,
                    "code": "106258",
                    "display": "Hydrocortisone 10 MG/ML Topical Cream",
                },
                dose=1,
                unit="g",
            ),
            med("bm", "ベタメタゾン軟膏", dose=1, unit="g"),
            med("dx", "dexamethasone", dose=4, unit="mg", route="ophthalmic"),
        ]
    )
    assert facts.prednisone_mg_day == 0.0
    assert all("steroid" not in m.classes for m in facts.medications)
    assert {m.route for m in facts.medications} == {"topical", "ophthalmic"}


def test_unreadable_steroid_dose_gives_no_sum_and_says_why():
    facts = facts_of([med("p", "prednisolone", dose=1, unit="puff")])
    assert facts.prednisone_mg_day is None
    assert facts.dropped[0].ref == "MedicationRequest/p"
    assert "steroid dose not readable" in facts.dropped[0].reason


def test_no_steroid_means_zero():
    assert (
        facts_of(
            [
                med(
                    "m",
                    "methotrexate 2.5 MG Oral Tablet",
                    dose=6,
                    unit="tablet",
                    period=1,
                    period_unit="wk",
                )
            ]
        ).prednisone_mg_day
        == 0.0
    )


def test_classes_for_interactions_and_immunosuppression():
    facts = facts_of(
        [
            med("a", coding={"system": ATC, "code": "J02AC01"}),  # fluconazole
            med("b", "Probenecid 500 MG Oral Tablet"),
            med("c", coding={"system": ATC, "code": "D11AH01"}),  # topical tacrolimus
            med("d", coding={"system": ATC, "code": "L04AD02"}),  # systemic tacrolimus
            med("e", "クラリスロマイシン錠200mg"),
            med("f", "sulfamethoxazole 800 MG / trimethoprim 160 MG Oral Tablet"),
            med("g", "Eliquis 5 MG Oral Tablet"),
            med("h", "Levonorgestrel 0.15 MG / Ethinyl Estradiol 0.03 MG Oral Tablet"),
            med("i", "Aspirin 81 MG Oral Tablet"),
            med("j", "恩替卡韦片"),
        ]
    )
    got = {m.ref.split("/")[1]: (m.drug, set(m.classes)) for m in facts.medications}
    assert got == {
        "a": ("fluconazole", {"cyp3a4_moderate_inhibitor_cyp2c19", "cyp2c19_strong_inhibitor"}),
        "b": ("probenecid", {"oat3_strong_inhibitor"}),
        "c": ("tacrolimus", set()),
        "d": ("tacrolimus", {"potent_immunosuppressant"}),
        "e": ("clarithromycin", {"cyp3a4_strong_inhibitor"}),
        "f": ("trimethoprim_sulfamethoxazole", {"pjp_prophylaxis"}),
        "g": ("apixaban", {"anticoagulant"}),
        "h": ("ethinylestradiol", {"combined_hormonal"}),
        "j": ("entecavir", {"hbv_antiviral"}),
    }


def test_entered_in_error_medication_is_ignored_and_status_is_kept():
    facts = facts_of(
        [med("x", "warfarin", status="entered-in-error"), med("y", "warfarin", status="completed")]
    )
    assert [(m.ref, m.status) for m in facts.medications] == [("MedicationRequest/y", "completed")]


def test_live_vaccine_ordered_as_a_medication_by_cvx():
    facts = facts_of([med("v", coding={"system": CVX, "code": "121"})])
    assert facts.medications[0].classes == {"live_vaccine"}


@pytest.mark.parametrize(
    ("birth", "age"),
    [("1961-11-23", 65), ("1961-11-24", 64), ("1961-11", 65), ("2000-02-29", 26)],
)
def test_age_at_the_order_date(birth, age):
    facts = facts_of(patient={"resourceType": "Patient", "birthDate": birth, "gender": "female"})
    assert (facts.age, facts.sex) == (age, "female")


def test_missing_birth_date_leaves_age_unknown():
    facts = facts_of(patient={"resourceType": "Patient", "gender": "MALE"})
    assert (facts.age, facts.sex, facts.birth_date) == (None, "male", None)


def imm(rid, cvx=None, text=None, status="completed", when="2026-11-01"):
    cc: dict = {}
    if cvx:
        cc["coding"] = [{"system": CVX, "code": cvx}]
    if text:
        cc["text"] = text
    return {
        "resourceType": "Immunization",
        "id": rid,
        "status": status,
        "vaccineCode": cc,
        "occurrenceDateTime": when,
    }


def test_vaccinations_carry_cvx_and_live_flag():
    facts = facts_of(
        immunizations=[
            imm("rzv", "187"),
            imm("zvl", "121", when="2020-01-05"),
            imm("nd", "187", status="not-done"),
            imm("sh", text="シングリックス筋注用"),
            imm("sh2", text="Shingrix"),
            imm("u", "999"),
        ]
    )
    got = [(v.ref, v.cvx, v.live, v.when) for v in facts.vaccinations]
    assert got == [
        ("Immunization/rzv", "187", False, date(2026, 11, 1)),
        ("Immunization/zvl", "121", True, date(2020, 1, 5)),
        ("Immunization/sh", None, False, date(2026, 11, 1)),
        ("Immunization/sh2", "187", False, date(2026, 11, 1)),
        ("Immunization/u", "999", False, date(2026, 11, 1)),
    ]
    assert {d.ref for d in facts.dropped} == {"Immunization/sh", "Immunization/u"}


def test_unavailable_data_is_passed_on():
    facts = facts_of(unavailable=[Unavailable("observations", "timeout")])
    assert facts.unavailable == [Unavailable("observations", "timeout")]


def test_non_breaking_hyphen_and_full_width_letters_in_drug_names():
    facts = facts_of([med("a", "Co\u2011trimoxazole 480 mg"), med("b", "ＳＴ合剤配合錠")])
    assert [m.drug for m in facts.medications] == ["trimethoprim_sulfamethoxazole"] * 2

"""FHIR suggestions: valid R4, the labelled dose in the draft, tests and vaccine as proposals."""

from __future__ import annotations

import copy

import pytest

from cards.catalogue import catalogue
from cards.suggestions import (
    build_suggestion,
    dose_of,
    dose_text,
    dose_update_resource,
    timing_for,
    zoster_vaccine_request,
)
from tests.cards import samples
from tests.cards.fhir_check import validate_r4
from tests.sandbox import captures


@pytest.mark.parametrize(
    ("per_day", "repeat", "english"),
    [
        (2, {"frequency": 2, "period": 1, "periodUnit": "d"}, "5 mg twice daily"),
        (1, {"frequency": 1, "period": 1, "periodUnit": "d"}, "5 mg once daily"),
        (0.5, {"frequency": 1, "period": 2, "periodUnit": "d"}, "5 mg every other day"),
        (1 / 7, {"frequency": 1, "period": 1, "periodUnit": "wk"}, "5 mg once weekly"),
        (0.017857, {"frequency": 1, "period": 8, "periodUnit": "wk"}, "5 mg every 8 weeks"),
        (1 / 3, {"frequency": 1, "period": 3, "periodUnit": "d"}, "5 mg every 3 days"),
    ],
)
def test_frequency_as_fhir_timing_and_text(per_day: float, repeat: dict, english: str) -> None:
    assert timing_for(per_day) == repeat
    assert dose_text(catalogue("en"), 5, per_day) == english


def test_dose_update_of_an_stu3_shaped_draft() -> None:
    """doseQuantity on the dosage (STU3) and doseAndRate as one object become the R4 shape."""
    draft = copy.deepcopy(samples.TOFA_DRAFT)
    dosage = draft["dosageInstruction"][0]
    dosage.pop("doseAndRate")
    dosage["doseQuantity"] = {"value": 10, "unit": "mg"}
    updated = dose_update_resource(draft, 5, 2, "5 mg twice daily")
    assert updated is not None
    validate_r4(updated)
    assert dose_of(updated) == (5.0, {"frequency": 2, "period": 1, "periodUnit": "d"})
    assert "doseQuantity" not in updated["dosageInstruction"][0]
    assert draft["dosageInstruction"][0]["doseQuantity"]["value"] == 10  # the draft untouched


def test_dose_update_of_the_sandbox_draft_with_a_single_category() -> None:
    """The CDS Hooks sandbox's draft (tests/data/sandbox, as captured) sends `category` as one
    object where R4 repeats it; the update puts it in a list instead of being dropped."""
    entry = captures.body("rx-sign-2-tablets-bid")["context"]["draftOrders"]["entry"][0]
    draft = entry["resource"]
    assert isinstance(draft["category"], dict)
    updated = dose_update_resource(draft, 5, 2, "5 mg twice daily")
    assert updated is not None
    validate_r4(updated)
    assert updated["category"] == [draft["category"]]
    assert dose_of(updated) == (5.0, {"frequency": 2, "period": 1, "periodUnit": "d"})
    one_subject = {**draft, "subject": [draft["subject"]]}  # a single member sent as a list
    assert dose_update_resource(one_subject, 5, 2, "x") is None


def test_no_update_without_an_id_or_for_other_resources() -> None:
    draft = copy.deepcopy(samples.TOFA_DRAFT)
    draft.pop("id")
    assert dose_update_resource(draft, 5, 2, "x") is None
    legacy = {**samples.TOFA_DRAFT, "resourceType": "MedicationOrder"}
    assert dose_update_resource(legacy, 5, 2, "x") is None
    invalid = {**samples.TOFA_DRAFT, "subject": "Patient/p1"}  # not a Reference
    assert dose_update_resource(invalid, 5, 2, "x") is None


def test_hepatitis_b_serology_is_one_suggestion_with_a_request_per_marker(knowledge) -> None:
    s = build_suggestion(
        "order-test", {"test": "hbv_serology"}, samples.TOFA, catalogue("ja"), knowledge
    )
    assert s is not None
    codes = [a["resource"]["code"]["coding"][0]["code"] for a in s["actions"]]
    assert codes == [c["code"] for c in knowledge.files["tests"]["hbv_serology"]["codes"]]
    assert len(codes) >= 2
    for action in s["actions"]:
        resource = validate_r4(action["resource"])
        assert resource.subject.reference == "Patient/p1"
        assert action["resource"]["code"]["text"] == catalogue("ja").get("test", "hbv_serology")


def test_zoster_vaccine_is_a_proposal_never_an_immunization(knowledge) -> None:
    resource = zoster_vaccine_request({"reference": "Patient/p1"}, "RZV", "2 doses")
    assert resource is not None
    model = validate_r4(resource)
    assert resource["resourceType"] == "MedicationRequest"
    assert model.intent == "proposal" and model.status == "draft"
    coding = resource["medicationCodeableConcept"]["coding"][0]
    assert (coding["system"], coding["code"]) == ("http://hl7.org/fhir/sid/cvx", "187")
    live = build_suggestion("vaccinate", {"cvx": "121"}, samples.TOFA, catalogue("en"), knowledge)
    assert live is None  # the live zoster vaccine is never proposed


def test_no_suggestion_without_a_patient_reference(knowledge) -> None:
    order = samples.TOFA.__class__(**{**samples.TOFA.__dict__, "resource": {"id": "x"}})
    assert (
        build_suggestion("order-test", {"test": "igra"}, order, catalogue("en"), knowledge) is None
    )
    assert build_suggestion("vaccinate", {"cvx": "187"}, order, catalogue("en"), knowledge) is None


def test_stop_order_deletes_the_draft(knowledge) -> None:
    s = build_suggestion("stop-order", {}, samples.TOFA, catalogue("zh-CN"), knowledge)
    assert s is not None
    assert s["actions"] == [
        {"type": "delete", "description": s["label"], "resourceId": "MedicationRequest/draft-tofa"}
    ]
    assert "托法替布" in s["label"]


def test_the_patient_reference_is_judged_by_its_text_call_after_call(knowledge) -> None:
    """Whether a patient reference is valid R4 is remembered by its text (bounded): an empty
    reference drops the vaccine proposal on every call, before and after valid ones, and a
    process serving many patients keeps at most REFERENCES_KEPT answers."""
    from cards import suggestions

    for n in range(suggestions.REFERENCES_KEPT + 50):
        subject = {"reference": f"Patient/p{n}"}
        resource = zoster_vaccine_request(subject, "RZV", "2 doses")
        assert resource is not None and resource["subject"] == subject
        assert zoster_vaccine_request({"reference": ""}, "RZV", "2 doses") is None
        assert len(suggestions._REFERENCES) <= suggestions.REFERENCES_KEPT
    assert zoster_vaccine_request({"reference": "Patient/p1"}, "RZV", "2 doses") is not None
    extra = {"reference": "Patient/p1", "display": ""}  # not only a reference: validated as is
    assert zoster_vaccine_request(extra, "RZV", "2 doses") is None


_REFERENCE_TEXTS = [
    "Patient/p1",
    "Patient/123-abc.x",
    "urn:uuid:8b2f3c1e-6f0a-4c7e-9d7b-2a1f0c3e4d5a",
    "https://ehr.example.org/fhir/Patient/42/_history/3",
    "#contained-patient",
    "Patient/a b",
    " Patient/p1 ",
    "x" * 100_000,
    "\x00Patient/p1",
    "Patient/\x7f",
    "",
    " ",
    "\t\r\n",
    "\x0b",
    "\x0c\x0b",
    "\x1c\x1d\x1e\x1f",
    "\u00a0",
    "\u2003\u3000",
    "\u0085",
    "Patient/\u00e9",
    "\u60a3\u8005/1",
]


@pytest.mark.parametrize("text", _REFERENCE_TEXTS)
def test_a_patient_reference_is_judged_as_fhir_resources_judges_it(text: str) -> None:
    """The vaccine proposal carries the patient's reference exactly when fhir.resources finds
    `{"reference": text}` a valid R4 Reference, whether or not the text is of the usual kind
    the service accepts without asking it."""
    from fhir.resources.R4B.reference import Reference
    from pydantic import ValidationError

    try:
        Reference.model_validate({"reference": text})
        valid = True
    except ValidationError:
        valid = False
    resource = zoster_vaccine_request({"reference": text}, "RZV", "2 doses")
    assert (resource is not None) == valid
    if valid:
        assert resource is not None and resource["subject"] == {"reference": text}


def test_test_orders_and_the_vaccine_are_built_afresh_for_each_patient(knowledge) -> None:
    """The suggestions that depend only on the knowledge and the language are prepared once,
    yet every answer is its own JSON (changing one changes no other), carries its own patient,
    and a draft whose patient reference is not valid R4 gets none of them."""
    first = build_suggestion(
        "order-test", {"test": "hbv_serology"}, samples.TOFA, catalogue("en"), knowledge
    )
    assert first is not None
    first["actions"][0]["resource"]["code"]["coding"][0]["code"] = "changed"
    other_patient = {**samples.TOFA.resource, "subject": {"reference": "Patient/p2"}}
    order = samples.TOFA.__class__(**{**samples.TOFA.__dict__, "resource": other_patient})
    second = build_suggestion(
        "order-test", {"test": "hbv_serology"}, order, catalogue("en"), knowledge
    )
    assert second is not None and first["uuid"] != second["uuid"]
    codes = [a["resource"]["code"]["coding"][0]["code"] for a in second["actions"]]
    assert codes == [c["code"] for c in knowledge.files["tests"]["hbv_serology"]["codes"]]
    assert {a["resource"]["subject"]["reference"] for a in second["actions"]} == {"Patient/p2"}
    for action in second["actions"]:
        validate_r4(action["resource"])
    no_patient = {**samples.TOFA.resource, "subject": {"reference": ""}}
    broken = samples.TOFA.__class__(**{**samples.TOFA.__dict__, "resource": no_patient})
    for kind, params in (("order-test", {"test": "igra"}), ("vaccinate", {"cvx": "187"})):
        assert build_suggestion(kind, params, broken, catalogue("ja"), knowledge) is None
        assert build_suggestion(kind, params, order, catalogue("ja"), knowledge) is not None

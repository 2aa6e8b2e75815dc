"""What `rheum-cds try` sends, checked without servers: the draft order it builds for a drug
name is the order the service recognises (drug, dose, frequency, route), in every language
the value sets know; prefetch templates expand as the CDS Hooks spec says."""

from __future__ import annotations

import pytest
from fhir.resources.R4B import get_fhir_model_class

from cds_service.commands.try_hook import (
    TryError,
    draft_medication_request,
    expand_template,
    hook_context,
    parse_reason,
)
from cds_service.knowledge import load_knowledge
from cds_service.normalise.orders import recognise_orders

KNOWLEDGE = load_knowledge()

CASES = [
    ("tofacitinib", 5.0, 2.0, "tofacitinib", "oral"),
    ("ゼルヤンツ", 5.0, 2.0, "tofacitinib", "oral"),
    ("托法替布", 11.0, 1.0, "tofacitinib", "oral"),
    ("Olumiant", 4.0, 1.0, "baricitinib", "oral"),
    ("upadacitinib", 15.0, 1.0, "upadacitinib", "oral"),
    ("ruxolitinib cream", None, 2.0, "ruxolitinib", "topical"),
    ("infliximab", 400.0, 1 / 56, "infliximab", "iv"),
    ("adalimumab", 40.0, 1 / 14, "adalimumab", "sc"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_draft_order_is_recognised_as_sent(case: tuple) -> None:
    name, dose, per_day, drug, route = case
    draft = draft_medication_request(KNOWLEDGE, "p1", name, dose, per_day)
    get_fhir_model_class("MedicationRequest").model_validate(draft)
    (order,) = recognise_orders([draft], KNOWLEDGE)
    assert order.drug == drug
    assert order.route == route
    if dose is not None:  # (a frequency without a dose is not read as a dose)
        assert order.dose_mg == pytest.approx(dose)
        assert order.per_day == pytest.approx(per_day, rel=0.01)
    coding = draft["medicationCodeableConcept"]["coding"]
    if coding:  # the RxNorm code comes from the service's own value sets
        hit = KNOWLEDGE.vs.medication_code(coding[0]["system"], coding[0]["code"])
        assert hit is not None and hit.drug == drug


def test_unknown_drug_is_refused_with_its_name() -> None:
    with pytest.raises(TryError, match="aspirinx"):
        draft_medication_request(KNOWLEDGE, "p1", "aspirinx", 100, 1)


def test_order_select_names_the_draft_and_reason_is_carried() -> None:
    reason = parse_reason("http://snomed.info/sct|398909004|Rosacea")
    draft = draft_medication_request(KNOWLEDGE, "p1", "ruxolitinib cream", reason=reason)
    context = hook_context("order-select", "p1", "Practitioner/u1", draft)
    assert context["selections"] == [f"MedicationRequest/{draft['id']}"]
    assert context["draftOrders"]["entry"][0]["resource"] is draft
    assert draft["reasonCode"][0]["coding"][0]["code"] == "398909004"
    with pytest.raises(TryError):
        parse_reason("398909004")
    bare = draft_medication_request(
        KNOWLEDGE, "p1", "tofacitinib", reason=parse_reason("http://snomed.info/sct|69896004")
    )
    get_fhir_model_class("MedicationRequest").model_validate(bare)
    with pytest.raises(TryError, match="positive"):
        draft_medication_request(KNOWLEDGE, "p1", "tofacitinib", 5, 0)


def test_prefetch_template_expansion() -> None:
    context = {"patientId": "demo-1", "userId": "Practitioner/u 1"}
    assert expand_template("Patient/{{context.patientId}}", context) == "Patient/demo-1"
    assert expand_template("Practitioner/{{userPractitionerId}}", context) == "Practitioner/u%201"


# --------------------------------------------------------------------------- the sandbox's shape


def test_draft_order_is_the_one_the_sandbox_sends() -> None:
    """`rheum-cds try --drug tofacitinib --dose 10 --per-day 2` builds the draft order the CDS
    Hooks sandbox sent for "tofacitinib 5 MG Oral Tablet", Number 2, twice daily (captured in
    tests/data/sandbox): RxNorm SCD, `{pill}` without unit. Only the id differs, and category is
    the R4 array where the sandbox sends one object."""
    from datetime import date

    from tests.sandbox import captures

    sent = captures.capture("rx-sign-2-tablets-bid")["request_body"]
    [entry] = sent["context"]["draftOrders"]["entry"]
    expected = dict(entry["resource"])
    draft = draft_medication_request(
        KNOWLEDGE, "demo-ra-elderly-smoker", "tofacitinib", 10, 2, today=date(2026, 12, 4)
    )
    assert draft.pop("category") == [expected.pop("category")]
    draft.pop("id"), expected.pop("id")
    assert draft == expected
    context = hook_context("order-sign", "demo-ra-elderly-smoker", "Practitioner/x", draft)
    assert set(context["draftOrders"]) == set(sent["context"]["draftOrders"])  # no Bundle type
    (order,) = recognise_orders([draft], KNOWLEDGE)
    assert order.dose_mg == pytest.approx(10) and order.per_day == pytest.approx(2)


@pytest.mark.parametrize(
    ("dose", "product", "count"),
    [(5, "1357541", 1), (10, "1357541", 2), (11, "1741046", 1), (22, "1741046", 2)],
)
def test_dose_is_ordered_as_a_number_of_tablets_of_a_listed_product(
    dose: float, product: str, count: int
) -> None:
    draft = draft_medication_request(KNOWLEDGE, "p1", "tofacitinib", dose, 1)
    assert draft["medicationCodeableConcept"]["coding"][0]["code"] == product
    quantity = draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    assert quantity == {"value": count, "system": "http://unitsofmeasure.org", "code": "{pill}"}


def test_a_dose_no_listed_product_gives_is_sent_in_mg() -> None:
    draft = draft_medication_request(KNOWLEDGE, "p1", "tofacitinib", 7.5, 1)
    quantity = draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    assert quantity["code"] == "mg" and quantity["value"] == 7.5


def test_calls_are_signed_as_the_sandbox_signs() -> None:
    """ES384, header typ/kid/jku, claims iss, aud = the exact URL, exp = iat + 300, jti a UUID:
    the header and claim names of the sandbox's own tokens (tests/data/sandbox)."""
    import uuid

    import jwt

    from cds_service.client_token import ClientSigner
    from cds_service.commands.try_hook import sandbox_style_token
    from tests.sandbox import captures

    signer = ClientSigner.generate("ES384", issuer="https://ehr.test", kid="k1", jku="https://j")
    url = "http://localhost:8080/cds-services/rheum-order-sign"
    token = sandbox_style_token(signer, url)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    sandbox = captures.capture("rx-sign-tofacitinib")
    assert set(header) == set(sandbox["jwt_header"])
    assert header["alg"] == sandbox["jwt_header"]["alg"] == "ES384"
    assert set(claims) == set(sandbox["jwt_claims"])
    assert claims["aud"] == url
    assert claims["exp"] - claims["iat"] == 300
    assert str(uuid.UUID(claims["jti"])) == claims["jti"]

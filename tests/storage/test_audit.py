"""The audit trail of real hook calls: one row per call, patient id only as a keyed hash, and
the uuids of the cards answered remembered so that feedback on them counts as known."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask

from cds_service.storage import get_storage

HOOK = "/cds-services/rheum-order-sign"
PATIENT_ID = "audit-patient-4711"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def order(code: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"draft-{code}",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}], "text": text},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}],
            }
        ],
    }


def empty_bundle() -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}


def hook_body(draft: dict[str, Any]) -> dict[str, Any]:
    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/1",
            "patientId": PATIENT_ID,
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": draft}]},
        },
        "prefetch": {
            "patient": {
                "resourceType": "Patient",
                "id": PATIENT_ID,
                "gender": "female",
                "birthDate": "1948-05-01",
            },
            "conditions": {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "Condition",
                            "id": "ra",
                            "clinicalStatus": {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/"
                                        "condition-clinical",
                                        "code": "active",
                                    }
                                ]
                            },
                            "code": {
                                "coding": [{"system": "http://snomed.info/sct", "code": "69896004"}]
                            },
                            "subject": {"reference": f"Patient/{PATIENT_ID}"},
                        }
                    }
                ],
            },
            "observations": empty_bundle(),
            "medicationRequests": empty_bundle(),
            "immunizations": empty_bundle(),
        },
    }


def call(app: Flask, body: dict[str, Any]) -> Any:
    # buffered: the response is closed at once, which runs the post-response audit write
    return app.test_client().post(HOOK, json=body, buffered=True)


def test_each_hook_call_leaves_one_audit_row_without_the_patient_id(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    body = hook_body(order("161", "paracetamol 500 mg"))  # no target drug: no cards, no fetch
    response = call(app, body)
    assert response.status_code == 200
    with app.app_context():
        storage = get_storage()
        [row] = storage.audit_rows()
        assert row["service_id"] == "rheum-order-sign"
        assert row["hook"] == "order-sign"
        assert row["hook_instance"] == body["hookInstance"]
        assert row["status"] == 200
        assert row["patient_hash"] == storage.hash_patient_id(PATIENT_ID)
        assert row["fhir_calls"] == 0
        assert "total" in row["timings_ms"]
        assert PATIENT_ID not in repr(row)


def test_feedback_on_cards_the_service_answered_counts_as_known(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    response = call(app, hook_body(order("1357536", "tofacitinib 5 mg tablet")))
    assert response.status_code == 200
    cards = response.json["cards"]
    assert cards, "a 78-year-old starting tofacitinib gets at least one card"
    with app.app_context():
        storage = get_storage()
        [row] = storage.audit_rows()
        assert row["card_count"] == len(cards)
        assert row["rule_ids"]
        for card in cards:
            assert storage.issued_card(card["uuid"]) == "rheum-order-sign"
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-23T10:15:30.123Z",
            }
            for card in cards
        ]
    }
    answer = app.test_client().post(HOOK + "/feedback", json=feedback)
    assert answer.status_code == 200
    with app.app_context():
        assert all(r["known_card"] for r in get_storage().feedback_rows())

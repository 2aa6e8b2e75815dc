"""Hook request bodies as EHRs send them (shapes of DESIGN.md "What real requests look like")."""

from __future__ import annotations

import copy
from typing import Any

import msgspec
import orjson

from cds_service import fhir_json

PATIENT_ID = "rheum-test-1"
NO_PREFETCH_KEYS = ("patient", "conditions", "observations", "medicationRequests", "immunizations")

TOFACITINIB = {
    "resourceType": "MedicationRequest",
    "id": "draft-tofa",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": f"Patient/{PATIENT_ID}"},
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "1357536",
                "display": "tofacitinib",
            }
        ],
        "text": "tofacitinib 5 mg tablet",
    },
    "dosageInstruction": [
        {
            "text": "5 mg twice daily",
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
            "route": {"coding": [{"system": "http://snomed.info/sct", "code": "26643006"}]},
            "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}],
        }
    ],
}

PARACETAMOL = {
    "resourceType": "MedicationRequest",
    "id": "draft-para",
    "status": "draft",
    "intent": "order",
    "subject": {"reference": f"Patient/{PATIENT_ID}"},
    "medicationCodeableConcept": {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "161",
                "display": "acetaminophen",
            }
        ],
        "text": "paracetamol 500 mg tablet",
    },
}

PATIENT = {
    "resourceType": "Patient",
    "id": PATIENT_ID,
    "gender": "female",
    "birthDate": "1956-03-02",
}

CRP = {
    "resourceType": "Observation",
    "id": "obs-crp",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5"}]},
    "subject": {"reference": f"Patient/{PATIENT_ID}"},
    "effectiveDateTime": "2026-10-02",
    "valueQuantity": {
        "value": 12,
        "unit": "mg/L",
        "system": "http://unitsofmeasure.org",
        "code": "mg/L",
    },
}

RA = {
    "resourceType": "Condition",
    "id": "cond-ra",
    "clinicalStatus": {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
        ]
    },
    "code": {
        "coding": [{"system": "http://snomed.info/sct", "code": "69896004"}],
        "text": "Rheumatoid arthritis",
    },
    "subject": {"reference": f"Patient/{PATIENT_ID}"},
}


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"http://ehr.example/fhir/{r['resourceType']}/{r.get('id')}", "resource": r}
            for r in resources
        ],
    }


def full_prefetch() -> dict[str, Any]:
    return {
        "patient": copy.deepcopy(PATIENT),
        "conditions": searchset(copy.deepcopy(RA)),
        "observations": searchset(copy.deepcopy(CRP)),
        "medicationRequests": searchset(),
        "immunizations": searchset(),
    }


def order_sign(
    *orders: dict[str, Any],
    prefetch: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/example",
            "patientId": PATIENT_ID,
            "draftOrders": {
                "resourceType": "Bundle",
                "entry": [{"resource": copy.deepcopy(o)} for o in (orders or (TOFACITINIB,))],
            },
        },
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server is not None:
        body["fhirServer"] = fhir_server
        body["fhirAuthorization"] = {
            "access_token": token or "test-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "cds-service",
        }
    return body


def order_select(*orders: dict[str, Any], **kw: Any) -> dict[str, Any]:
    body = order_sign(*orders, **kw)
    body["hook"] = "order-select"
    body["context"]["selections"] = [
        f"{o['resourceType']}/{o['id']}" for o in (orders or (TOFACITINIB,))
    ]
    return body


def patient_view(**kw: Any) -> dict[str, Any]:
    body = order_sign(**kw)
    body["hook"] = "patient-view"
    del body["context"]["draftOrders"]
    return body


TYPED = {
    "Observation": fhir_json.Observation,
    "Condition": fhir_json.Condition,
    "MedicationRequest": fhir_json.MedicationRequest,
}


def plain(resources: list[Any]) -> list[dict[str, Any]]:
    """Resources of a PatientRecord as plain JSON dicts, Observations, Conditions and
    MedicationRequests with the members the typed reading keeps (they come typed from
    Bundles: cds_service.fhir_json)."""
    return [
        fhir_json.as_dict(r)
        if not isinstance(r, dict)
        else kept(r)
        if r.get("resourceType") in TYPED
        else r
        for r in resources
    ]


def kept(resource: dict[str, Any]) -> dict[str, Any]:
    """The members of an Observation, Condition or MedicationRequest that the typed reading
    keeps (those normalise reads)."""
    typed = msgspec.json.decode(orjson.dumps(resource), type=TYPED[resource["resourceType"]])
    return {"resourceType": resource["resourceType"], **fhir_json.as_dict(typed)}

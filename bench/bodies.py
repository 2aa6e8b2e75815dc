"""Synthetic order-sign request bodies of a chosen size, with realistic codes and units.

The mix follows DESIGN.md's budget example (Patient, ~80 % Observations, ~16 % Conditions,
~3 % MedicationRequests, a few Immunizations). Codes are common LOINC / SNOMED / RxNorm codes,
some of which the engine uses and some it ignores, as a real chart has both.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

# (code, display, unit, low, high) — engine concepts and everyday noise.
OBSERVATIONS: list[tuple[str, str, str, float, float]] = [
    ("88981-6", "Tender joints [#] 28", "{#}", 0, 20),
    ("88980-8", "Swollen joints [#] 28", "{#}", 0, 15),
    ("75894-6", "Patient global assessment", "mm", 5, 90),
    ("75846-6", "Evaluator global assessment", "mm", 5, 90),
    ("4537-7", "ESR by Westergren", "mm/h", 4, 80),
    ("1988-5", "CRP [Mass/volume]", "mg/L", 0.5, 60),
    ("718-7", "Hemoglobin", "g/dL", 8.5, 15.5),
    ("777-3", "Platelets", "10*3/uL", 120, 420),
    ("751-8", "Neutrophils [#/volume]", "10*3/uL", 1.2, 8),
    ("731-0", "Lymphocytes [#/volume]", "10*3/uL", 0.6, 3.5),
    ("1742-6", "ALT", "U/L", 8, 60),
    ("1920-8", "AST", "U/L", 8, 55),
    ("2160-0", "Creatinine", "mg/dL", 0.6, 1.6),
    ("98979-8", "eGFR CKD-EPI 2021", "mL/min/{1.73_m2}", 35, 100),
    ("2093-3", "Cholesterol", "mg/dL", 150, 260),
    ("2085-9", "HDL cholesterol", "mg/dL", 30, 80),
    ("39156-5", "BMI", "kg/m2", 19, 34),
    ("8867-4", "Heart rate", "/min", 55, 100),
    ("2339-0", "Glucose", "mg/dL", 70, 160),
    ("2276-4", "Ferritin", "ng/mL", 20, 400),
    ("2157-6", "CK", "U/L", 40, 300),
]

CONDITIONS: list[tuple[str, str]] = [
    ("69896004", "Rheumatoid arthritis"),
    ("38341003", "Hypertensive disorder"),
    ("44054006", "Diabetes mellitus type 2"),
    ("55822004", "Hyperlipidemia"),
    ("195967001", "Asthma"),
    ("10509002", "Acute bronchitis"),
    ("444814009", "Viral sinusitis"),
    ("40055000", "Chronic sinusitis"),
    ("162864005", "Body mass index 30+ - obesity"),
    ("15777000", "Prediabetes"),
]

MEDICATIONS: list[tuple[str, str]] = [
    ("105586", "methotrexate 2.5 MG Oral Tablet"),
    ("312615", "prednisone 5 MG Oral Tablet"),
    ("197361", "amlodipine 5 MG Oral Tablet"),
    ("860975", "metformin 500 MG Oral Tablet"),
    ("314231", "simvastatin 10 MG Oral Tablet"),
    ("310965", "ibuprofen 200 MG Oral Tablet"),
]


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def patient_resources(size: int, seed: int = 7, today: date | None = None) -> dict[str, Any]:
    """Resources of one patient, about `size` in all, keyed like the service's prefetch."""
    rnd = random.Random(seed)
    today = today or date.today()
    n_cond = max(2, size * 16 // 100)
    n_med = max(1, size * 3 // 100)
    n_imm = 3
    n_obs = max(5, size - 1 - n_cond - n_med - n_imm)
    pid = "bench-1"
    patient = {
        "resourceType": "Patient",
        "id": pid,
        "gender": "female",
        "birthDate": (today - timedelta(days=365 * 68 + 40)).isoformat(),
    }
    obs = []
    for i in range(n_obs):
        code, display, unit, low, high = OBSERVATIONS[i % len(OBSERVATIONS)]
        when = today - timedelta(days=(i // len(OBSERVATIONS)) * 30 + rnd.randint(0, 3))
        value = round(rnd.uniform(low, high), 1)
        if unit == "{#}":
            value = int(value)
        obs.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{i}",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": {"reference": f"Patient/{pid}"},
                "effectiveDateTime": when.isoformat() + "T09:30:00+08:00",
                "valueQuantity": {
                    "value": value,
                    "unit": unit,
                    "system": "http://unitsofmeasure.org",
                    "code": unit,
                },
            }
        )
    conds = []
    for i in range(n_cond):
        code, display = CONDITIONS[i % len(CONDITIONS)]
        conds.append(
            {
                "resourceType": "Condition",
                "id": f"cond-{i}",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active" if i % 3 else "resolved",
                        }
                    ]
                },
                "verificationStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                            "code": "confirmed",
                        }
                    ]
                },
                "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
                "subject": {"reference": f"Patient/{pid}"},
                "onsetDateTime": (today - timedelta(days=200 + 11 * i)).isoformat(),
            }
        )
    meds = []
    for i in range(n_med):
        code, display = MEDICATIONS[i % len(MEDICATIONS)]
        meds.append(
            {
                "resourceType": "MedicationRequest",
                "id": f"med-{i}",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {
                    "coding": [{"system": RXNORM, "code": code, "display": display}],
                    "text": display,
                },
                "subject": {"reference": f"Patient/{pid}"},
                "authoredOn": (today - timedelta(days=60 + i)).isoformat(),
                "dosageInstruction": [
                    {
                        "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                        "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet"}}],
                    }
                ],
            }
        )
    imms = [
        {
            "resourceType": "Immunization",
            "id": f"imm-{i}",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": c}]},
            "patient": {"reference": f"Patient/{pid}"},
            "occurrenceDateTime": (today - timedelta(days=100 * (i + 1))).isoformat(),
        }
        for i, c in enumerate(["140", "208", "33"][:n_imm])
    ]
    return {
        "patient": patient,
        "conditions": _bundle(conds),
        "observations": _bundle(obs),
        "medicationRequests": _bundle(meds),
        "immunizations": _bundle(imms),
    }


def draft_order(
    drug_code: str = "1357536", display: str = "tofacitinib 5 MG Oral Tablet"
) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "id": "draft-1",
                    "status": "draft",
                    "intent": "order",
                    "medicationCodeableConcept": {
                        "coding": [{"system": RXNORM, "code": drug_code, "display": display}],
                        "text": display,
                    },
                    "subject": {"reference": "Patient/bench-1"},
                    "dosageInstruction": [
                        {
                            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                            "doseAndRate": [
                                {
                                    "doseQuantity": {
                                        "value": 5,
                                        "unit": "mg",
                                        "system": "http://unitsofmeasure.org",
                                        "code": "mg",
                                    }
                                }
                            ],
                        }
                    ],
                }
            }
        ],
    }


def order_sign_body(
    size: int | None, fhir_server: str | None = None, seed: int = 7
) -> dict[str, Any]:
    """An order-sign request; `size=None` sends no prefetch (the service fetches)."""
    body: dict[str, Any] = {
        "hook": "order-sign",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "context": {
            "userId": "Practitioner/bench",
            "patientId": "bench-1",
            "draftOrders": draft_order(),
        },
    }
    if fhir_server:
        body["fhirServer"] = fhir_server
    if size is not None:
        body["prefetch"] = patient_resources(size, seed)
    return body


def resource_count(body: dict[str, Any]) -> int:
    n = 0
    for value in body.get("prefetch", {}).values():
        n += len(value.get("entry", [])) if value.get("resourceType") == "Bundle" else 1
    return n

"""A DSTU2-shaped hook request (what the CDS Hooks sandbox sends with its default FHIR server,
https://launch.smarthealthit.org/v/r2/fhir) gets its cards through the HTTP app.

Resource shapes follow the FHIR DSTU2 (1.0.2) resource definitions and examples
(hl7.org/fhir/DSTU2: medicationorder-example-f001, condition-example, observation-example,
immunization-example): MedicationOrder with dateWritten and a DSTU2 dosageInstruction
(doseQuantity directly on the dosage, timing.repeat.periodUnits, asNeededBoolean); Condition
with clinicalStatus / verificationStatus as plain codes and dateRecorded; Observation with
valueQuantity (unit, and the DSTU1 `units` some exporters still send), valueCodeableConcept,
`issued` and `comments`; Immunization with `date` and `wasNotGiven`; MedicationStatement with
`wasNotTaken`.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cds_service.normalise.observations import normalise_observations
from tests.service import samples

PID = samples.PATIENT_ID
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CVX = "http://hl7.org/fhir/sid/cvx"

DRAFT = {
    "resourceType": "MedicationOrder",
    "id": "mo-tofa",
    "dateWritten": "2026-12-04",
    "status": "draft",
    "patient": {"reference": f"Patient/{PID}"},
    "medicationCodeableConcept": {
        "coding": [{"system": RX, "code": "1357541", "display": "tofacitinib 5 MG Oral Tablet"}]
    },
    "dosageInstruction": [
        {
            "text": "2 tablets twice daily",
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnits": "d"}},
            "asNeededBoolean": False,
            "route": {"coding": [{"system": SCT, "code": "26643006", "display": "Oral route"}]},
            "doseQuantity": {"value": 2, "unit": "tablet", "system": "http://unitsofmeasure.org"},
        }
    ],
}

PATIENT = {
    "resourceType": "Patient",
    "id": PID,
    "gender": "male",
    "birthDate": "1952-04-11",
    "active": True,
}


def condition(cid: str, code: str, display: str, **status: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "patient": {"reference": f"Patient/{PID}"},
        "code": {"coding": [{"system": SCT, "code": code, "display": display}]},
        "category": {
            "coding": [{"system": "http://hl7.org/fhir/condition-category", "code": "diagnosis"}]
        },
        "dateRecorded": "2019-03-02",
        "onsetDateTime": "2018-11-20",
        **status,
    }


def observation(oid: str, code: str, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "subject": {"reference": f"Patient/{PID}"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": "2026-11-20T09:30:00+01:00",
        "issued": "2026-11-20T15:02:11+01:00",
        "comments": "reviewed",
        **value,
    }


def prefetch() -> dict[str, Any]:
    conditions = [
        condition(
            "c-ra",
            "69896004",
            "Rheumatoid arthritis",
            clinicalStatus="active",
            verificationStatus="confirmed",
        ),
        # refuted: must not count as a prior DVT
        condition(
            "c-dvt",
            "128053003",
            "Deep venous thrombosis",
            clinicalStatus="resolved",
            verificationStatus="refuted",
        ),
    ]
    observations = [
        observation(
            "o-smoke",
            "72166-2",
            valueCodeableConcept={
                "coding": [
                    {"system": SCT, "code": "449868002", "display": "Current every day smoker"}
                ]
            },
        ),
        # DSTU1 `units` without a UCUM code
        observation("o-crp", "1988-5", valueQuantity={"value": 31, "units": "mg/L"}),
    ]
    clarithromycin = {
        "resourceType": "MedicationOrder",
        "id": "mo-clari",
        "dateWritten": "2026-11-28",
        "status": "active",
        "patient": {"reference": f"Patient/{PID}"},
        "medicationCodeableConcept": {
            "coding": [{"system": RX, "code": "21212", "display": "clarithromycin"}],
            "text": "clarithromycin 500 mg tablet",
        },
    }
    not_taken = {
        "resourceType": "MedicationStatement",
        "id": "ms-keto",
        "status": "completed",
        "wasNotTaken": True,
        "patient": {"reference": f"Patient/{PID}"},
        "medicationCodeableConcept": {"text": "ketoconazole 200 mg tablet"},
    }
    zoster_not_given = {
        "resourceType": "Immunization",
        "id": "imm-rzv",
        "status": "completed",
        "date": "2026-06-01",
        "wasNotGiven": True,
        "reported": False,
        "patient": {"reference": f"Patient/{PID}"},
        "vaccineCode": {"coding": [{"system": CVX, "code": "187"}]},
    }
    return {
        "patient": copy.deepcopy(PATIENT),
        "conditions": samples.searchset(*conditions),
        "observations": samples.searchset(*observations),
        "medicationRequests": samples.searchset(clarithromycin, not_taken),
        "immunizations": samples.searchset(zoster_not_given),
    }


def _post(app, body, language="en"):
    response = app.test_client().post(
        "/cds-services/rheum-order-sign", json=body, headers={"Accept-Language": language}
    )
    assert response.status_code == 200, response.json
    return response.json["cards"]


def _fired(cards) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for c in cards for f in c["extension"]["org.rheum-cds"].get("findings", [])}


def test_dstu2_order_sign_gets_its_cards(app, cds_schema):
    cards = _post(app, samples.order_sign(DRAFT, prefetch=prefetch()))
    cds_schema("CardsResponse").validate({"cards": cards})
    fired = _fired(cards)
    # MedicationOrder with DSTU2 dosage: 2 x 5 mg twice daily = 20 mg/day
    assert "JAKI-DOSE-MAX" in fired
    assert cards[0]["extension"]["org.rheum-cds"]["findings"][0]["id"] == "JAKI-DOSE-MAX"
    # Patient birthDate / gender (74 years old)
    assert "JAKI-AGE-65" in fired
    # Observation valueCodeableConcept (smoking status)
    assert "JAKI-SMOKER" in fired
    # an active DSTU2 MedicationOrder in the medication prefetch
    assert "JAKI-DDI" in fired
    # a refuted Condition is not history; a statement of a drug not taken is not a drug
    assert "JAKI-VTE-HISTORY" not in fired
    ddi_text = " ".join(c["detail"] for c in cards)
    assert "ketoconazole" not in ddi_text.lower()
    # an Immunization with wasNotGiven is not a recombinant zoster vaccination
    assert "JAKI-ZOSTER" in fired
    # Condition with plain-code clinicalStatus: RA is the indication (its activity card)
    not_assessed = {
        n["id"] for c in cards for n in c["extension"]["org.rheum-cds"].get("notAssessed", [])
    }
    assert "RA-ACTIVITY" in not_assessed


def test_dstu2_observation_with_units_member_is_read(knowledge):
    crp = prefetch()["observations"]["entry"][1]["resource"]
    found, dropped = normalise_observations([crp], knowledge.vs)
    assert dropped == []
    (value,) = found["crp"]
    assert (value.value, value.unit, value.when.isoformat()) == (31.0, "mg/L", "2026-11-20")


# ------------------------------------------------------------------ a DSTU2 FHIR server


def _dstu2_server(server, medication_orders):
    """A stand-in for a DSTU2 server: it has no MedicationRequest (404, as HAPI DSTU2 answers
    an unknown resource type) and answers MedicationOrder searches."""
    p = prefetch()
    server.data = {
        "Patient": [p["patient"]],
        "Condition": [e["resource"] for e in p["conditions"]["entry"]],
        "Observation": [e["resource"] for e in p["observations"]["entry"]],
        "MedicationOrder": medication_orders,
        "Immunization": [],
    }
    server.behave("MedicationRequest", "404")


def test_medication_search_refused_as_r4_is_asked_as_medication_order(app, fault_server):
    clarithromycin = prefetch()["medicationRequests"]["entry"][0]["resource"]
    _dstu2_server(fault_server, [clarithromycin])
    body = samples.order_sign(DRAFT, fhir_server=fault_server.base_url)
    cards = _post(app, body)
    assert "JAKI-DDI" in _fired(cards)
    (asked,) = fault_server.paths("MedicationOrder")
    assert f"patient={PID}" in asked and "status=active" in asked
    assert "could not be retrieved" not in " ".join(c["detail"] for c in cards)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "this service reads FHIR R4, STU3 and DSTU2"),
        ("ja", "本サービスが読めるのはFHIR R4・STU3・DSTU2です"),
        ("zh-TW", "本服務可讀取 FHIR R4、STU3 與 DSTU2"),
        ("zh-CN", "本服务可读取 FHIR R4、STU3 和 DSTU2"),
    ],
)
def test_a_search_no_version_answers_says_which_versions_are_read(
    app, fault_server, language, expected
):
    _dstu2_server(fault_server, [])
    fault_server.behave("MedicationOrder", "404")
    body = samples.order_sign(DRAFT, fhir_server=fault_server.base_url)
    text = "\n".join(c["detail"] for c in _post(app, body, language))
    lines = [line for line in text.splitlines() if expected in line]
    assert len(lines) == 1, text
    assert "MedicationRequest" in lines[0] and "http 404" in lines[0]


# The draft order the CDS Hooks sandbox builds for a DSTU2 FHIR server (github.com/cds-hooks/
# sandbox, src/reducers/medication-reducers.js createFhirResource: MedicationOrder, dateWritten,
# patient, doseQuantity {pill} directly on the dosage, timing.repeat.periodUnits,
# reasonCodeableConcept from the chosen condition)
SANDBOX_DSTU2_DRAFT = {
    "resourceType": "MedicationOrder",
    "dateWritten": "2026-12-04",
    "status": "draft",
    "patient": {"reference": f"Patient/{PID}"},
    "dosageInstruction": [
        {
            "doseQuantity": {"value": 2, "system": "http://unitsofmeasure.org", "code": "{pill}"},
            "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnits": "d"}},
        }
    ],
    "medicationCodeableConcept": {
        "text": "tofacitinib 5 MG Oral Tablet",
        "coding": [{"display": "tofacitinib 5 MG Oral Tablet", "system": RX, "code": "1357541"}],
    },
    "reasonCodeableConcept": {
        "coding": [{"system": SCT, "code": "69896004", "display": "Rheumatoid arthritis"}]
    },
}


def test_the_sandbox_dstu2_draft_order_headlines_dose_above_label(app):
    cards = _post(app, samples.order_sign(SANDBOX_DSTU2_DRAFT, prefetch=prefetch()), "ja")
    first = cards[0]["extension"]["org.rheum-cds"]["findings"][0]
    assert first["id"] == "JAKI-DOSE-MAX"
    assert cards[0]["indicator"] == "critical"
    assert "20 mg" in cards[0]["detail"]

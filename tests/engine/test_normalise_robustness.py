"""Whatever an EHR sends, normalise and order recognition answer (Facts, orders) and never
raise: garbage is reported as dropped or ignored (DESIGN.md "What real requests look like")."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.knowledge import load_knowledge
from cds_service.model import PatientRecord
from cds_service.normalise import normalise, recognise_orders

K = load_knowledge()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)

# real member names with garbage values, so the readers get past the first lookup
MEMBERS = [
    "resourceType",
    "id",
    "status",
    "code",
    "coding",
    "system",
    "display",
    "text",
    "valueQuantity",
    "value",
    "unit",
    "valueString",
    "valueCodeableConcept",
    "component",
    "effectiveDateTime",
    "effectivePeriod",
    "issued",
    "interpretation",
    "clinicalStatus",
    "verificationStatus",
    "onsetDateTime",
    "abatementDateTime",
    "medicationCodeableConcept",
    "medicationReference",
    "contained",
    "dosageInstruction",
    "dosage",
    "doseAndRate",
    "doseQuantity",
    "timing",
    "repeat",
    "frequency",
    "period",
    "periodUnit",
    "route",
    "reasonCode",
    "reasonReference",
    "vaccineCode",
    "occurrenceDateTime",
    "birthDate",
    "gender",
]

resources = st.dictionaries(st.sampled_from(MEMBERS), json_values, max_size=8) | json_values


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(resources, max_size=5), st.lists(resources, max_size=5), resources)
def test_garbage_never_raises(records, drafts, patient):
    for kind in ("MedicationRequest", "MedicationOrder"):
        typed = [dict(d, resourceType=kind) if isinstance(d, dict) else d for d in drafts]
        orders = recognise_orders(typed, K, None)
        record = PatientRecord(
            patient_id="p",
            patient=patient if isinstance(patient, dict) else None,
            observations=list(records),
            conditions=list(records),
            medication_requests=list(records),
            medication_statements=list(records),
            immunizations=list(records),
        )
        facts = normalise(record, orders, K, date(2026, 11, 23))
        assert facts.today == date(2026, 11, 23)


leaf = json_values
coding = st.fixed_dictionaries(
    {},
    optional={
        "system": leaf
        | st.sampled_from(
            [
                "http://loinc.org",
                "http://snomed.info/sct",
                "http://hl7.org/fhir/sid/icd-10-cm",
                "http://www.whocc.no/atc",
                "http://hl7.org/fhir/sid/cvx",
                "http://www.nlm.nih.gov/research/umls/rxnorm",
            ]
        ),
        "code": leaf
        | st.sampled_from(
            [
                "1988-5",
                "71773-6",
                "75894-6",
                "72166-2",
                "5196-1",
                "M05.79",
                "C44.9",
                "L04AF01",
                "D11AH09",
                "121",
                "1357536",
                "29463-7",
                "2118-8",
            ]
        ),
        "display": leaf | st.sampled_from(["Xeljanz 5 MG Oral Tablet", "Opzelura cream"]),
    },
)
concept = st.fixed_dictionaries(
    {}, optional={"coding": st.lists(coding | leaf, max_size=2) | leaf, "text": leaf}
)
quantity = st.fixed_dictionaries(
    {},
    optional={
        "value": leaf | st.floats() | st.sampled_from(["nan", "inf", "1e400", "5"]),
        "unit": leaf,
        "code": leaf,
        "comparator": leaf,
    },
)
dosage = st.fixed_dictionaries(
    {},
    optional={
        "doseAndRate": st.lists(
            st.fixed_dictionaries({}, optional={"doseQuantity": quantity, "doseRange": leaf})
        )
        | leaf,
        "doseQuantity": quantity | leaf,
        "timing": st.fixed_dictionaries(
            {},
            optional={
                "repeat": st.fixed_dictionaries(
                    {},
                    optional={
                        "frequency": leaf,
                        "period": leaf | st.floats(),
                        "periodUnit": leaf,
                        "periodUnits": leaf,
                        "timeOfDay": leaf,
                        "when": leaf,
                    },
                )
                | leaf,
                "code": concept | leaf,
            },
        )
        | leaf,
        "route": concept | leaf,
        "asNeededBoolean": leaf,
    },
)
structured = st.fixed_dictionaries(
    {
        "resourceType": st.sampled_from(
            [
                "Observation",
                "Condition",
                "MedicationRequest",
                "MedicationOrder",
                "MedicationStatement",
                "Immunization",
            ]
        )
    },
    optional={
        "id": leaf,
        "status": leaf | st.sampled_from(["final", "active", "entered-in-error"]),
        "code": concept | leaf,
        "valueQuantity": quantity | leaf,
        "valueString": leaf,
        "valueCodeableConcept": concept | leaf,
        "valueInteger": leaf,
        "component": st.lists(
            st.fixed_dictionaries(
                {"code": concept}, optional={"valueQuantity": quantity, "valueString": leaf}
            )
        )
        | leaf,
        "effectiveDateTime": leaf | st.sampled_from(["2026-01-01", "2026", "x"]),
        "effectivePeriod": leaf,
        "issued": leaf,
        "interpretation": st.lists(concept) | leaf,
        "clinicalStatus": concept | leaf,
        "verificationStatus": concept | leaf,
        "onsetDateTime": leaf,
        "abatementDateTime": leaf,
        "abatementBoolean": leaf,
        "medicationCodeableConcept": concept | leaf,
        "medicationReference": leaf,
        "contained": leaf,
        "dosageInstruction": st.lists(dosage) | leaf,
        "dosage": st.lists(dosage) | leaf,
        "reasonCode": st.lists(concept) | leaf,
        "reasonReference": leaf,
        "reason": leaf,
        "vaccineCode": concept | leaf,
        "occurrenceDateTime": leaf,
        "notGiven": leaf,
    },
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(structured, max_size=6),
    st.lists(structured, max_size=4),
    st.lists(st.text(max_size=12) | leaf, max_size=2) | st.none(),
)
def test_structured_garbage_never_raises(records, drafts, selections):
    sel = [s for s in selections if isinstance(s, str)] if selections is not None else None
    orders = recognise_orders(drafts, K, sel)
    record = PatientRecord(
        patient_id="p",
        observations=records,
        conditions=records,
        medication_requests=records,
        medication_statements=records,
        immunizations=records,
    )
    normalise(record, orders, K, date(2026, 11, 23))

"""The demo patients as files: the committed JSON is what the generator makes, every resource
is valid FHIR R4, ids are stable, and the dates follow the anchor."""

from __future__ import annotations

from datetime import date, timedelta

from fhir.resources.R4B import get_fhir_model_class

from cds_service.demo_data import ANCHOR, committed_path, definitions, demo_patients, dump


def test_committed_json_is_the_generator_output() -> None:
    for patient in demo_patients(ANCHOR):
        path = committed_path(patient.id)
        assert path.read_text(encoding="utf-8") == dump(patient.bundle), (
            f"{path.name} is stale: run python -m cds_service.demo_data"
        )


def test_every_resource_is_valid_r4_with_a_stable_put() -> None:
    for patient in demo_patients(ANCHOR):
        ids = set()
        for entry in patient.bundle["entry"]:
            resource = entry["resource"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            url = f"{resource['resourceType']}/{resource['id']}"
            assert entry["request"] == {"method": "PUT", "url": url}
            assert url not in ids
            ids.add(url)
        assert f"Patient/{patient.id}" in ids


def test_dates_follow_the_anchor_and_ids_do_not() -> None:
    later = ANCHOR + timedelta(days=100)
    for now, then in zip(demo_patients(ANCHOR), demo_patients(later), strict=True):
        assert [e["request"]["url"] for e in now.bundle["entry"]] == [
            e["request"]["url"] for e in then.bundle["entry"]
        ]
        assert then.latest_day - now.latest_day == timedelta(days=100)
        assert ANCHOR - timedelta(days=30) <= now.latest_day <= ANCHOR
        patient = now.bundle["entry"][0]["resource"]
        born = date.fromisoformat(patient["birthDate"])
        age = ANCHOR.year - born.year - ((ANCHOR.month, ANCHOR.day) < (born.month, born.day))
        assert 18 <= age <= 90


# Entries of the demo charts the service has no use for (no concept in its value sets).
NOT_THE_SERVICES_CONCERN = {
    ("http://loinc.org", "85354-9"),  # blood pressure panel
    ("http://snomed.info/sct", "90560007"),  # gout
    ("http://snomed.info/sct", "64859006"),  # osteoporosis
    ("http://hl7.org/fhir/sid/icd-10", "M81.0"),  # postmenopausal osteoporosis
}
# Drugs the rules read (interactions, combinations, steroid dose, anticoagulation, NSAID...).
DRUGS_THE_RULES_READ = {
    "methotrexate",
    "prednisone",
    "prednisolone",
    "apixaban",
    "ketoconazole",
    "clarithromycin",
    "probenecid",
    "adalimumab",
    "infliximab",
    "tacrolimus",
    "naproxen",
}


def test_the_service_reads_every_relevant_entry_of_the_demo_charts() -> None:
    """Codes, units and drug names of the charts are recognised by the service's value sets
    (with the demo clinic's local codes), so each chart shows what it was written for."""
    from cds_service.commands.try_hook import demo_local_codes
    from cds_service.knowledge import load_knowledge
    from cds_service.model import PatientRecord
    from cds_service.normalise import normalise

    knowledge = load_knowledge(local_codes=demo_local_codes())
    vs = knowledge.vs
    for patient in demo_patients(ANCHOR):
        by_type: dict[str, list] = {}
        for entry in patient.bundle["entry"]:
            resource = entry["resource"]
            by_type.setdefault(resource["resourceType"], []).append(resource)
        for obs in by_type["Observation"]:
            (coding,) = obs["code"]["coding"]
            key = (coding["system"], coding["code"])
            if key not in NOT_THE_SERVICES_CONCERN:
                assert vs.observation_code(*key) is not None, (patient.id, key)
        for cond in by_type["Condition"]:
            codings = cond["code"]["coding"]
            if any((c["system"], c["code"]) in NOT_THE_SERVICES_CONCERN for c in codings):
                continue
            concepts = [vs.condition_concept(c["system"], c["code"]) for c in codings]
            assert any(concepts), (patient.id, codings)
        record = PatientRecord(
            patient_id=patient.id,
            patient=by_type["Patient"][0],
            observations=by_type["Observation"],
            conditions=by_type["Condition"],
            medication_requests=by_type["MedicationRequest"],
            immunizations=by_type.get("Immunization", []),
        )
        facts = normalise(record, [], knowledge, ANCHOR)
        assert facts.dropped == [], (patient.id, facts.dropped)
        read = {m.drug for m in facts.medications}
        spec = next(p for p in definitions()[1]["patient"] if p["id"] == patient.id)
        written = {m["m"] for m in spec.get("meds", []) if "m" in m}  # catalogue keys
        assert written & DRUGS_THE_RULES_READ <= read, (patient.id, written, read)
        texts = " ".join(m.get("text", "") for m in spec.get("meds", []))
        if "メトトレキサート" in texts or "甲氨蝶呤" in texts:
            assert "methotrexate" in read, patient.id

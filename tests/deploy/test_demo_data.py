"""The demo patients as files: the committed JSON is what the generator makes, every resource
is valid FHIR R4, ids are stable, and the dates follow the anchor."""

from __future__ import annotations

from datetime import date, timedelta

from fhir.resources.R4B import get_fhir_model_class

from cds_service.demo_data import ANCHOR, committed_path, demo_patients, dump


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

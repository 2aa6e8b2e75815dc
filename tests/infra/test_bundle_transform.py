"""The loader's Bundle rewrite (tests.fixtures.hapi.idempotent_transaction), without a server:
POSTs become PUTs with ids that stay the same from one load to the next."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.hapi import idempotent_transaction

BASE = "http://127.0.0.1:9/fhir"
BUNDLES = Path(__file__).resolve().parents[1] / "data" / "bundles"
PATIENT_UUID = "3f1c2d4e-0000-4000-8000-000000000001"


def _synthea_like() -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{PATIENT_UUID}",
                "resource": {"resourceType": "Patient", "id": PATIENT_UUID},
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:5a6b7c8d-0000-4000-8000-000000000002",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                    "subject": {"reference": f"urn:uuid:{PATIENT_UUID}"},
                    "performer": [{"reference": "Practitioner?identifier=http://x|1"}],
                    "hasMember": [{"reference": "#contained-1"}],
                },
                "request": {"method": "POST", "url": "Observation"},
            },
            {"request": {"method": "DELETE", "url": "Observation/old"}},
        ],
    }


def test_posts_become_puts_with_the_resource_or_fullurl_id() -> None:
    out = idempotent_transaction(_synthea_like(), BASE)

    patient, observation, delete = out["entry"]
    assert patient["request"] == {"method": "PUT", "url": f"Patient/{PATIENT_UUID}"}
    assert patient["fullUrl"] == f"{BASE}/Patient/{PATIENT_UUID}"
    obs_id = "5a6b7c8d-0000-4000-8000-000000000002"
    assert observation["request"] == {"method": "PUT", "url": f"Observation/{obs_id}"}
    assert observation["resource"]["id"] == obs_id
    assert delete == {"request": {"method": "DELETE", "url": "Observation/old"}}


def test_urn_uuid_references_point_at_the_stable_ids() -> None:
    observation = idempotent_transaction(_synthea_like(), BASE)["entry"][1]["resource"]

    assert observation["subject"] == {"reference": f"Patient/{PATIENT_UUID}"}
    # The server resolves conditional references; contained ones stay local.
    assert observation["performer"] == [{"reference": "Practitioner?identifier=http://x|1"}]
    assert observation["hasMember"] == [{"reference": "#contained-1"}]


def test_the_input_bundle_is_not_changed() -> None:
    bundle = _synthea_like()
    before = copy.deepcopy(bundle)
    idempotent_transaction(bundle, BASE)
    assert bundle == before


def test_resources_without_id_get_the_same_content_digest_every_time() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "total": 1,
        "entry": [
            {
                "fullUrl": "http://elsewhere.example/fhir/Condition/abc_def!",
                "resource": {"resourceType": "Condition", "code": {"text": "x"}},
                "search": {"mode": "match"},
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "focus": [{"reference": "http://elsewhere.example/fhir/Condition/abc_def!"}],
                }
            },
        ],
    }
    first = idempotent_transaction(bundle, BASE)
    second = idempotent_transaction(json.loads(json.dumps(bundle)), BASE)

    assert first == second
    assert first["type"] == "transaction" and "total" not in first
    condition = first["entry"][0]
    condition_id = condition["resource"]["id"]
    assert condition["request"] == {"method": "PUT", "url": f"Condition/{condition_id}"}
    assert "search" not in condition
    assert first["entry"][1]["resource"]["focus"] == [{"reference": f"Condition/{condition_id}"}]
    other = {
        **bundle,
        "entry": [{"resource": {"resourceType": "Condition", "code": {"text": "y"}}}],
    }
    assert idempotent_transaction(other, BASE)["entry"][0]["resource"]["id"] != condition_id


def test_conditional_creates_become_conditional_updates_without_body_id() -> None:
    identifier = "identifier=https://github.com/synthetichealth/synthea|0a1b"
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "fullUrl": "urn:uuid:0a1b0000-0000-4000-8000-000000000004",
                "resource": {"resourceType": "Organization", "id": "0a1b0000-0000-4000-8000-0"},
                "request": {"method": "POST", "url": "Organization", "ifNoneExist": identifier},
            },
            {
                "resource": {
                    "resourceType": "Location",
                    "managingOrganization": {
                        "reference": "urn:uuid:0a1b0000-0000-4000-8000-000000000004"
                    },
                },
                "request": {"method": "POST", "url": "Location"},
            },
        ],
    }
    organization, location = idempotent_transaction(bundle, BASE)["entry"]

    assert organization["request"] == {"method": "PUT", "url": f"Organization?{identifier}"}
    assert "id" not in organization["resource"]
    assert organization["fullUrl"] == "urn:uuid:0a1b0000-0000-4000-8000-000000000004"
    # The server substitutes the id it resolves for the conditional update.
    assert location["resource"]["managingOrganization"] == {
        "reference": "urn:uuid:0a1b0000-0000-4000-8000-000000000004"
    }
    assert location["request"]["method"] == "PUT"


def test_put_entries_keep_their_url() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:7d1e0000-0000-4000-8000-000000000003",
                "resource": {"resourceType": "Patient", "id": "demo-1"},
                "request": {"method": "PUT", "url": "Patient/demo-1"},
            },
            {
                "resource": {
                    "resourceType": "Encounter",
                    "subject": {"reference": "urn:uuid:7d1e0000-0000-4000-8000-000000000003"},
                },
                "request": {"method": "PUT", "url": "Encounter?identifier=http://x|e1"},
            },
        ],
    }
    out = idempotent_transaction(bundle, BASE)
    assert out["entry"][0]["request"] == {"method": "PUT", "url": "Patient/demo-1"}
    assert out["entry"][1]["request"] == {
        "method": "PUT",
        "url": "Encounter?identifier=http://x|e1",
    }
    assert out["entry"][1]["resource"]["subject"] == {"reference": "Patient/demo-1"}


def test_not_a_bundle_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Bundle"):
        idempotent_transaction({"resourceType": "Patient"}, BASE)


@pytest.mark.parametrize("path", sorted(BUNDLES.glob("*.json")), ids=lambda p: p.name[:30])
def test_no_urn_uuid_reference_survives_in_the_copied_bundles(path: Path) -> None:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    out = json.dumps(idempotent_transaction(bundle, BASE))

    assert '"reference": "urn:uuid:' not in out
    methods = {entry["request"]["method"] for entry in json.loads(out)["entry"]}
    assert methods == {"PUT"}

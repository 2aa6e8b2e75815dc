"""The HAPI FHIR test server is real: third-party patient charts load into it, and it answers
the searches the service will send, with paging, token and date search and OperationOutcome.

Expected results are computed from the Bundle files themselves, not from the server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.hapi import FhirServer, FhirServerError

pytestmark = pytest.mark.integration

BUNDLES = Path(__file__).resolve().parents[1] / "data" / "bundles"
# Ten small charts of the three sources (tests/data/bundles/README.md), with RA, methotrexate,
# conditional references (blaze, fdp) and a chart of 400+ Observations for paging.
SMOKE_CHARTS = (
    "smart-synthea__Hershel_Marvin_71a7f9d4-45b7-481b-b571-7ee0caca6e2a.json",
    "smart-synthea__Willy_Koepp_ebbb96ce-c538-4ac4-ad6a-7c709ef6639c.json",
    "smart-synthea__Kermit_Trantow_f1a650a5-737e-4fd7-828e-03c3348b9524.json",
    "smart-synthea__Asa_Hermiston_4384bf23-1dc3-48ca-8c84-89fbaff201ae.json",
    "smart-synthea__Royal_DuBuque_6d750ddc-ee20-40df-bf83-30461dc641e4.json",
    "blaze-synthea__c0697745-be05-4abc-07e0-f78ca6cb7230.json",
    "blaze-synthea__beb53716-4df8-a51c-c58e-a8b814b8ac88.json",
    "blaze-synthea__dd4d5564-3cdd-19ce-8efc-f30e5395f5c6.json",
    "fdp-synthea-hiv__Gerardo48_Zulauf375_7cf0b556-a4cc-7d40-c0e2-7d961a4d525e.json",
    "fdp-synthea-hiv__Isaura563_Turner526_a4abb8bd-c78c-e552-3037-471a46cac3c7.json",
)
LOINC = "http://loinc.org"
# Body height, body weight, BMI, pain severity: present in every Synthea chart here.
LOINC_CODES = ("8302-2", "29463-7", "39156-5", "72514-3")
COND_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


@dataclass(frozen=True)
class Chart:
    """One Bundle file and the resources it holds, by type."""

    path: Path
    entries: int
    patient_id: str
    resources: dict[str, list[dict[str, Any]]]

    def of(self, resource_type: str) -> list[dict[str, Any]]:
        return self.resources.get(resource_type, [])


def read_chart(path: Path) -> Chart:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        by_type.setdefault(resource["resourceType"], []).append(resource)
    (patient,) = by_type["Patient"]
    return Chart(path, len(bundle["entry"]), patient["id"], by_type)


CHARTS = [read_chart(BUNDLES / name) for name in SMOKE_CHARTS]


def chart_id(chart: Chart) -> str:
    return chart.path.name.split("__")[0] + ":" + chart.patient_id[:8]


@pytest.fixture(scope="module")
def loaded(fhir_server: FhirServer) -> dict[Path, dict[str, Any]]:
    """Every copied chart loaded once; the transaction-response Bundle of each."""
    return {chart.path: fhir_server.load_file(chart.path).json() for chart in CHARTS}


def _codes(resource: dict[str, Any], system: str) -> set[str]:
    return {
        c.get("code")
        for c in resource.get("code", {}).get("coding", [])
        if c.get("system") == system
    }


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def quiet_threshold(days: Iterable[date]) -> date:
    """A day near the middle of ``days`` with no value within two days of it, so that the
    server's reading of a date without time zone cannot change which values match."""
    ordered = sorted(set(days))
    candidate = ordered[len(ordered) // 2]
    while any(abs((candidate - d).days) <= 2 for d in ordered):
        candidate += timedelta(days=1)
    return candidate


def test_every_chart_loads_as_one_transaction(loaded: dict[Path, dict[str, Any]]) -> None:
    for chart in CHARTS:
        response = loaded[chart.path]
        assert response["type"] == "transaction-response"
        assert len(response["entry"]) == chart.entries
        statuses = {e["response"]["status"].split()[0] for e in response["entry"]}
        assert statuses <= {"200", "201"}, chart.path.name


@pytest.mark.parametrize("chart", CHARTS, ids=chart_id)
def test_observations_by_patient_loinc_list_and_date_prefix(
    fhir_server: FhirServer, loaded: dict[Path, dict[str, Any]], chart: Chart
) -> None:
    observations = chart.of("Observation")
    since = quiet_threshold(_day(o["effectiveDateTime"]) for o in observations)
    expected = sorted(
        o["id"]
        for o in observations
        if _codes(o, LOINC) & set(LOINC_CODES) and _day(o["effectiveDateTime"]) >= since
    )

    total, entries, _ = fhir_server.search_all(
        "Observation",
        {
            "patient": f"Patient/{chart.patient_id}",
            "code": ",".join(f"{LOINC}|{code}" for code in LOINC_CODES),
            "date": f"ge{since.isoformat()}",
        },
    )

    assert sorted(e["resource"]["id"] for e in entries) == expected
    assert total == len(expected)


@pytest.mark.parametrize("chart", CHARTS, ids=chart_id)
def test_conditions_by_patient_and_clinical_status(
    fhir_server: FhirServer, loaded: dict[Path, dict[str, Any]], chart: Chart
) -> None:
    expected = sorted(
        c["id"]
        for c in chart.of("Condition")
        if any(
            coding.get("code") == "active"
            for coding in c.get("clinicalStatus", {}).get("coding", [])
        )
    )

    _, entries, _ = fhir_server.search_all(
        "Condition",
        {"patient": chart.patient_id, "clinical-status": f"{COND_CLINICAL}|active"},
    )

    assert sorted(e["resource"]["id"] for e in entries) == expected


@pytest.mark.parametrize("chart", CHARTS, ids=chart_id)
def test_medication_requests_by_patient_and_status(
    fhir_server: FhirServer, loaded: dict[Path, dict[str, Any]], chart: Chart
) -> None:
    for status in ("active", "stopped"):
        expected = sorted(m["id"] for m in chart.of("MedicationRequest") if m["status"] == status)
        _, entries, _ = fhir_server.search_all(
            "MedicationRequest", {"subject": f"Patient/{chart.patient_id}", "status": status}
        )
        assert sorted(e["resource"]["id"] for e in entries) == expected, status


def test_paging_follows_next_links_to_the_last_page(
    fhir_server: FhirServer, loaded: dict[Path, dict[str, Any]]
) -> None:
    chart = max(CHARTS, key=lambda c: len(c.of("Observation")))
    expected = {o["id"] for o in chart.of("Observation")}
    assert len(expected) > 100

    total, entries, pages = fhir_server.search_all("Observation", {"patient": chart.patient_id})

    ids = [e["resource"]["id"] for e in entries]
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    assert pages == math.ceil(len(expected) / 20)  # default page size 20
    # HAPI may leave `total` out of a first page while the search runs; a later page has it.
    assert total == len(expected)

    accurate = fhir_server.get(
        "Observation", {"patient": chart.patient_id, "_total": "accurate"}
    ).json()
    assert accurate["total"] == len(expected)
    assert len(accurate["entry"]) == 20


def test_next_links_are_getpages_links_and_count_is_capped(
    fhir_server: FhirServer, loaded: dict[Path, dict[str, Any]]
) -> None:
    chart = max(CHARTS, key=lambda c: len(c.of("Observation")))
    first = fhir_server.get("Observation", {"patient": chart.patient_id}).json()
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_getpages=" in next_url
    assert next_url.startswith(fhir_server.base_url)

    big = fhir_server.get("Observation", {"patient": chart.patient_id, "_count": "1000"}).json()
    assert len(big["entry"]) == 300  # maximum page size
    assert any(link["relation"] == "next" for link in big["link"])


def test_missing_resource_is_a_404_with_an_operation_outcome(fhir_server: FhirServer) -> None:
    response = fhir_server.get("Patient/no-such-patient-404")

    assert response.status_code == 404
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"


def test_loading_twice_changes_nothing(
    fhir_server: FhirServer, loaded: dict[Path, dict[str, Any]]
) -> None:
    chart = CHARTS[0]

    def snapshot() -> tuple[int, int, str]:
        counts = [
            fhir_server.get(rtype, {"_summary": "count"}).json()["total"]
            for rtype in ("Observation", "Patient")
        ]
        patient = fhir_server.get(f"Patient/{chart.patient_id}").json()
        return counts[0], counts[1], patient["meta"]["versionId"]

    before = snapshot()
    again = fhir_server.load_file(chart.path).json()
    after = snapshot()

    assert after == before
    assert before[2] == "1"
    assert {e["response"]["status"].split()[0] for e in again["entry"]} == {"200"}


def test_conditional_references_resolve_to_one_target_each(
    fhir_server: FhirServer, loaded: dict[Path, dict[str, Any]]
) -> None:
    chart = next(c for c in CHARTS if c.path.name.startswith("blaze-synthea__"))
    encounter = chart.of("Encounter")[0]
    match_url = encounter["serviceProvider"]["reference"]
    assert match_url.startswith("Organization?identifier=")
    identifier = match_url.split("=", 1)[1]

    stored = fhir_server.get(f"Encounter/{encounter['id']}").json()
    target = stored["serviceProvider"]["reference"]
    assert target.startswith("Organization/")
    organization = fhir_server.get(target).json()
    system, value = identifier.split("|", 1)
    assert {"system": system, "value": value} in [
        {"system": i.get("system"), "value": i.get("value")} for i in organization["identifier"]
    ]
    total, _, _ = fhir_server.search_all("Organization", {"identifier": identifier})
    assert total == 1


def test_a_write_is_visible_to_the_next_identical_search(fhir_server: FhirServer) -> None:
    params = {"patient": "Patient/smoke-write-read", "code": f"{LOINC}|29463-7"}
    fhir_server.load(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [{"resource": {"resourceType": "Patient", "id": "smoke-write-read"}}],
        }
    )
    before, _, _ = fhir_server.search_all("Observation", params)
    observation = {
        "resourceType": "Observation",
        "id": "smoke-write-read-weight",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "29463-7"}]},
        "subject": {"reference": "Patient/smoke-write-read"},
        "effectiveDateTime": datetime(2024, 5, 1, 9, 30).isoformat() + "Z",
        "valueQuantity": {"value": 70, "unit": "kg", "system": "http://unitsofmeasure.org"},
    }
    fhir_server.load(
        {"resourceType": "Bundle", "type": "batch", "entry": [{"resource": observation}]}
    )
    after, entries, _ = fhir_server.search_all("Observation", params)

    assert (before, after) == (0, 1)
    assert entries[0]["resource"]["valueQuantity"]["value"] == 70


def test_a_rejected_bundle_raises_with_the_servers_diagnostics(fhir_server: FhirServer) -> None:
    bad = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Observation",
                    "id": "smoke-bad-status",
                    "status": "not-a-status",
                    "code": {"text": "x"},
                }
            }
        ],
    }
    with pytest.raises(FhirServerError, match=r"HTTP 400: .*not-a-status"):
        fhir_server.load(bad)
    assert fhir_server.get("Observation/smoke-bad-status").status_code == 404


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://sandbox.cds-hooks.org", True),  # the CDS Hooks sandbox page, public origin
        ("http://localhost:3000", True),  # the sandbox or the trend app served on loopback
        ("https://sandbox.cds-hooks.org.example", False),
        ("https://evil.example", False),
    ],
)
def test_browser_pages_of_the_sandbox_may_read_the_server(
    fhir_server: FhirServer, origin: str, allowed: bool
) -> None:
    """The sandbox reads the FHIR server from the browser (docs/integration.md): the test server
    answers CORS for the sandbox's origin and loopback pages, and for no other origin."""
    import requests

    response = requests.options(
        f"{fhir_server.base_url}/Patient",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=30,
    )
    granted = response.headers.get("Access-Control-Allow-Origin")
    assert (granted == origin) is allowed, (response.status_code, granted)

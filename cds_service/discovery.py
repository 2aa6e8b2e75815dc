"""The three CDS services and their prefetch templates (discovery, `GET /cds-services`).

Prefetch templates ask a well-behaved EHR for everything the engine reads, so that it makes no
FHIR call at all; the gather stage uses the very same searches (expanded) for whatever the EHR
did not send, so a record built from prefetch and one built by fetching are the same.

Recency of observations. CDS Hooks 2.0 prefetch tokens can only name context fields (and the
user); there is no date token, so `date=ge{{today - 1 year}}` cannot be written in a template.
The observation search is therefore restricted by code (only the LOINC codes of the engine's
value sets) and ordered newest first with a page size (`_sort=-date&_count=...`): the EHR sends
the most recent results, and the gather stage follows `next` links only up to the configured
page cap (`fhir_page_cap`). A fixed date window would also be wrong for the engine: hepatitis B
and C serology counts "on file" at any time (clinical/SPEC.md, JAKI-HBV / JAKI-HCV), while the
date windows of the rules (12 months for TB screening and lipids, 90 days for baseline labs)
are applied by the rules themselves on the dates of the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cds_service.knowledge import Knowledge

PATIENT_TOKEN = "{{context.patientId}}"
OBSERVATION_PAGE_SIZE = 200  # results per page asked of the EHR / FHIR server
OTHER_PAGE_SIZE = 100

# service id -> hook (DESIGN.md, Services)
SERVICE_HOOKS: dict[str, str] = {
    "rheum-order-sign": "order-sign",
    "rheum-order-select": "order-select",
    "rheum-patient-view": "patient-view",
}


@dataclass(frozen=True)
class PrefetchItem:
    """One prefetch key: the template declared in discovery and the resource type it yields."""

    key: str
    template: str  # FHIR read or search, relative to fhirServer, with {{context.patientId}}
    resource_type: str


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    prefetch: tuple[PrefetchItem, ...]

    def as_json(self) -> dict[str, Any]:
        """The service as CDS Hooks 2.0 discovery describes it."""
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": {item.key: item.template for item in self.prefetch},
        }


def prefetch_observation_codes(knowledge: Knowledge) -> list[str]:
    """Every LOINC and JLAC10 code the engine reads an observation concept from, sorted and
    unique.

    From the observation value sets (knowledge file `valuesets/observations`: one table per
    concept with `loinc = [{code = ...}, ...]`; tables starting with "_" are metadata).
    The template names bare codes (`code=4537-7,...`, any system): EHRs label LOINC with
    "http://loinc.org" or its OID, and the normalise stage checks the system of each result.
    JLAC10 codes (`jlac10 = [...]`, Japanese laboratories) and Taiwan's NHI laboratory
    payment codes (`tw_nhi = [...]`) are named bare too: JP Core and
    JP-CLINS send them under several system URIs. An entry matching any method is asked for
    by its listed code only; results of other methods arrive when the EHR sends prefetch.
    """
    data = knowledge.files.get("valuesets/observations", {})
    codes: set[str] = set()
    for concept, table in data.items():
        if concept.startswith("_") or not isinstance(table, dict):
            continue
        for entry in [*table.get("loinc", []), *table.get("jlac10", []), *table.get("tw_nhi", [])]:
            if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                codes.add(entry["code"].strip())
        # an institution's local codes ([codes] of the config) are searched as system|code
        for entry in table.get("local", []):
            if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                codes.add(f"{entry.get('system', '')}|{entry['code'].strip()}")
    return sorted(code for code in codes if code)


def _prefetch(knowledge: Knowledge) -> tuple[PrefetchItem, ...]:
    p = PATIENT_TOKEN
    codes = ",".join(prefetch_observation_codes(knowledge))
    observation_query = f"Observation?patient={p}"
    if codes:
        observation_query += f"&code={codes}"
    observation_query += f"&_sort=-date&_count={OBSERVATION_PAGE_SIZE}"
    return (
        PrefetchItem("patient", f"Patient/{p}", "Patient"),
        PrefetchItem("conditions", f"Condition?patient={p}&_count={OTHER_PAGE_SIZE}", "Condition"),
        PrefetchItem("observations", observation_query, "Observation"),
        PrefetchItem(
            "medicationRequests",
            f"MedicationRequest?patient={p}&status=active"
            f"&_include=MedicationRequest:medication&_count={OTHER_PAGE_SIZE}",
            "MedicationRequest",
        ),
        PrefetchItem(
            "immunizations", f"Immunization?patient={p}&_count={OTHER_PAGE_SIZE}", "Immunization"
        ),
    )


def build_services(knowledge: Knowledge) -> dict[str, Service]:
    """The three services of DESIGN.md, keyed by id, in discovery order."""
    prefetch = _prefetch(knowledge)
    services = (
        Service(
            id="rheum-order-sign",
            hook="order-sign",
            title="JAK inhibitor and biologic safety review",
            description=(
                "Reviews every JAK inhibitor or biologic in the draft orders at signing: "
                "safety findings, screening gaps, labelled dose, and disease activity, "
                "each with its source."
            ),
            prefetch=prefetch,
        ),
        Service(
            id="rheum-order-select",
            hook="order-select",
            title="JAK inhibitor and biologic early check",
            description=(
                "Checks the JAK inhibitor or biologic just selected: the same engine as at "
                "signing, with fewer and earlier cards."
            ),
            prefetch=prefetch,
        ),
        Service(
            id="rheum-patient-view",
            hook="patient-view",
            title="Rheumatology disease activity summary",
            description=(
                "Disease-activity scores and their trend for patients with rheumatoid "
                "arthritis, polymyalgia rheumatica, myositis or rosacea."
            ),
            prefetch=prefetch,
        ),
    )
    return {service.id: service for service in services}


def discovery_document(services: dict[str, Service]) -> dict[str, Any]:
    return {"services": [service.as_json() for service in services.values()]}

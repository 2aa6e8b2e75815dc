"""Example patients for `rheum-cds demo`: a chart and the draft order(s) a prescriber signs.

Each `<name>.json` here names a chart of the synthetic demo patients (cds_service.demo_data,
the same charts `rheum-cds load-demo` puts on a FHIR server) and carries the draft orders as
FHIR R4 MedicationRequests, plus a title in each card language. The chart is generated
relative to the demo's date, so its latest visit is always recent. All patients are invented.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from cds_service.model import PatientRecord

HERE = Path(__file__).parent

_RECORD_KEYS = {
    "Observation": "observations",
    "Condition": "conditions",
    "MedicationRequest": "medication_requests",
    "MedicationStatement": "medication_statements",
    "Immunization": "immunizations",
}


@dataclass(frozen=True)
class Example:
    name: str
    chart: str  # demo patient id in cds_service.demo_data
    title: dict[str, str]  # language -> one line
    hook: str
    draft_orders: list[dict[str, Any]]


@cache
def examples() -> tuple[Example, ...]:
    """Every bundled example, in display order."""
    out = []
    for path in HERE.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append(
            (
                data["order"],
                Example(
                    name=data["name"],
                    chart=data["chart"],
                    title=data["title"],
                    hook=data.get("hook", "order-sign"),
                    draft_orders=data["draftOrders"],
                ),
            )
        )
    return tuple(example for _, example in sorted(out, key=lambda pair: pair[0]))


def record_from_bundle(bundle: dict[str, Any]) -> PatientRecord:
    """A PatientRecord from a Bundle of one patient's resources (entries by resource type)."""
    patient: dict[str, Any] | None = None
    lists: dict[str, list[dict[str, Any]]] = {key: [] for key in _RECORD_KEYS.values()}
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType")
        if kind == "Patient":
            patient = resource
        elif kind in _RECORD_KEYS:
            lists[_RECORD_KEYS[kind]].append(resource)
    patient_id = (patient or {}).get("id", "")
    return PatientRecord(patient_id=patient_id, patient=patient, **lists)


def example_record(example: Example, today: date) -> PatientRecord:
    """The example's chart as a PatientRecord, dated relative to `today`."""
    from cds_service.demo_data import demo_patient

    return record_from_bundle(demo_patient(example.chart, anchor=today).bundle)

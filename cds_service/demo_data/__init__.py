"""Synthetic demo patients as FHIR R4 transaction Bundles (see deploy/demo-data/README.md).

The charts are described in `patients.toml` (days relative to an anchor date) with the codes
of `catalogue.toml`; `demo_patients(anchor)` turns them into Bundles whose every entry is a PUT
with a stable id, so loading them twice changes nothing. The JSON files next to this module are
the same Bundles generated for ANCHOR (kept for reading; `python -m cds_service.demo_data`
rewrites them). `rheum-cds load-demo` generates them for today, so that the latest visit is
always recent when the service looks at them.

All patients are invented; no record of a real person was used.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from cds_service.demo_data.generate import build_bundle

HERE = Path(__file__).parent
ANCHOR = date(2026, 11, 23)  # date of the committed JSON files


@dataclass(frozen=True)
class TryOrder:
    """One drug the demo patient is meant to be tried with (`rheum-cds try`)."""

    drug: str
    dose_mg: float | None = None
    per_day: float | None = None
    reason: tuple[str, str, str] | None = None  # (system, code, display) of the indication


@dataclass(frozen=True)
class DemoPatient:
    id: str
    title: str
    demonstrates: str
    tries: tuple[TryOrder, ...]
    bundle: dict[str, Any]

    @property
    def latest_day(self) -> date:
        """Date of the newest clinical entry in the bundle."""
        return max(_entry_dates(self.bundle))


@lru_cache(maxsize=1)
def _definitions() -> tuple[dict[str, Any], dict[str, Any]]:
    with (HERE / "catalogue.toml").open("rb") as fh:
        catalogue = tomllib.load(fh)
    with (HERE / "patients.toml").open("rb") as fh:
        patients = tomllib.load(fh)
    return catalogue, patients


def definitions() -> tuple[dict[str, Any], dict[str, Any]]:
    """(catalogue, patients) as read from catalogue.toml and patients.toml."""
    return _definitions()


def _reason(key: str | None, catalogue: dict[str, Any]) -> tuple[str, str, str] | None:
    if key is None:
        return None
    entry = catalogue["condition"][key]
    return (entry.get("system", "http://snomed.info/sct"), entry["code"], entry["display"])


def demo_patients(anchor: date | None = None) -> list[DemoPatient]:
    """Every demo patient, its bundle dated relative to `anchor` (default: today)."""
    anchor = anchor or date.today()
    catalogue, data = _definitions()
    out = []
    for spec in data["patient"]:
        tries = tuple(
            TryOrder(
                drug=t["drug"],
                dose_mg=t.get("dose_mg"),
                per_day=t.get("per_day"),
                reason=_reason(t.get("reason"), catalogue),
            )
            for t in spec.get("try", [])
        )
        out.append(
            DemoPatient(
                id=spec["id"],
                title=spec["title"],
                demonstrates=spec["demonstrates"],
                tries=tries,
                bundle=build_bundle(spec, data["defaults"], catalogue, anchor),
            )
        )
    return out


def demo_patient(patient_id: str, anchor: date | None = None) -> DemoPatient:
    for patient in demo_patients(anchor):
        if patient.id == patient_id:
            return patient
    raise KeyError(patient_id)


def committed_path(patient_id: str) -> Path:
    return HERE / f"{patient_id}.json"


def dump(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, ensure_ascii=False, indent=1) + "\n"


def write_bundles(directory: Path = HERE, anchor: date = ANCHOR) -> list[Path]:
    """Write one JSON file per patient (the committed copies use ANCHOR)."""
    paths = []
    for patient in demo_patients(anchor):
        path = directory / f"{patient.id}.json"
        path.write_text(dump(patient.bundle), encoding="utf-8")
        paths.append(path)
    return paths


def _entry_dates(bundle: dict[str, Any]) -> list[date]:
    dates = []
    for entry in bundle["entry"]:
        res = entry["resource"]
        for key in ("effectiveDateTime", "occurrenceDateTime", "authoredOn"):
            if key in res:
                dates.append(date.fromisoformat(res[key][:10]))
    return dates


def shift_days(anchor: date, days: int) -> date:
    return anchor + timedelta(days=days)


def local_codes() -> dict[str, Any]:
    """The demo clinic's local laboratory codes ([codes] of a configuration; local-codes.toml).

    The demo charts code morning stiffness, arm elevation, KL-6 and anti-infliximab antibodies
    with them; a service shows those results only when its configuration maps these codes.
    """
    with (HERE / "local-codes.toml").open("rb") as fh:
        return tomllib.load(fh)["codes"]


def with_demo_codes(configured: dict[str, Any]) -> dict[str, Any]:
    """The configured [codes] plus the demo clinic's local codes (the configured ones win)."""
    out = {kind: dict(entries) for kind, entries in configured.items()}
    for kind, entries in local_codes().items():
        for target, spec in entries.items():
            out.setdefault(kind, {}).setdefault(target, spec)
    return out

"""`rheum-cds load-demo --fhir URL`: load the demo patients into a FHIR R4 server.

Each patient is one transaction Bundle of PUTs with stable ids (cds_service/demo_data), so
loading twice changes nothing. The charts are dated relative to the day they are loaded
(`--anchor`, default today), so the latest visit is always a few days old when the service
looks at it; loading again on a later day moves the dates forward (a new version of each
resource). Prints each patient id with what it demonstrates and a `rheum-cds try` line.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

HELP = "load the demo patients into a FHIR R4 server (transaction, PUT, stable ids)"
FHIR_JSON = "application/fhir+json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--fhir", required=True, metavar="URL", help="FHIR R4 base URL")
    parser.add_argument(
        "--token", metavar="T", help="bearer token for the FHIR server, if it needs one"
    )
    parser.add_argument(
        "--anchor",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="date the charts are built around (default: today)",
    )
    parser.add_argument(
        "--patient", action="append", metavar="ID", help="load only this patient (repeatable)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per Bundle (120)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def try_command(fhir: str, patient_id: str, drug: str, dose: float | None, per_day: float | None):
    parts = ["rheum-cds try", f"--fhir {fhir}", f"--patient {patient_id}", f"--drug '{drug}'"]
    if dose is not None:
        parts.append(f"--dose {dose:g}")
    if per_day is not None:
        parts.append(f"--per-day {per_day:g}")
    return " ".join(parts)


def load_bundle(
    session: Any, base: str, bundle: dict[str, Any], timeout: float
) -> tuple[bool, str]:
    """POST one transaction; (ok, PHI-free message)."""
    import requests

    body = json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    try:
        response = session.post(
            base,
            data=body,
            headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        return False, f"cannot reach the FHIR server ({type(exc).__name__})"
    if response.status_code >= 300:
        detail = ""
        try:
            outcome = response.json()
            issues = outcome.get("issue", []) if isinstance(outcome, dict) else []
            detail = "; ".join(str(i.get("diagnostics", ""))[:200] for i in issues[:3])
        except ValueError:
            detail = response.text[:200]
        return False, f"HTTP {response.status_code} {detail}".strip()
    entries = response.json().get("entry", [])
    statuses = [str(e.get("response", {}).get("status", "")).split(" ")[0] for e in entries]
    created = sum(s == "201" for s in statuses)
    return True, f"{len(entries)} resources ({created} created, {len(entries) - created} updated)"


def main(args: argparse.Namespace) -> int:
    import requests

    from cds_service.demo_data import demo_patients

    base = args.fhir.rstrip("/")
    patients = demo_patients(args.anchor)
    if args.patient:
        unknown = sorted(set(args.patient) - {p.id for p in patients})
        if unknown:
            print(f"load-demo: unknown demo patient(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        patients = [p for p in patients if p.id in set(args.patient)]
    session = requests.Session()
    if args.token:
        session.headers["Authorization"] = f"Bearer {args.token}"
    results = []
    failed = 0
    for patient in patients:
        ok, message = load_bundle(session, base, patient.bundle, args.timeout)
        failed += not ok
        results.append(
            {
                "id": patient.id,
                "ok": ok,
                "result": message,
                "title": patient.title,
                "demonstrates": patient.demonstrates,
                "try": [
                    try_command(base, patient.id, t.drug, t.dose_mg, t.per_day)
                    for t in patient.tries
                ],
            }
        )
        if not args.json:
            mark = "ok  " if ok else "FAIL"
            print(f"{mark} Patient/{patient.id}  {message}")
            print(f"     {patient.title}")
            print(f"     demonstrates: {patient.demonstrates}")
            for line in results[-1]["try"]:
                print(f"     $ {line}")
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        print(f"\n{len(patients) - failed} of {len(patients)} demo patients loaded into {base}")
    return 1 if failed else 0

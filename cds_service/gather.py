"""Stage 3: build one `PatientRecord` from prefetch, fetching what is missing.

CDS Hooks 2.0 prefetch semantics (DESIGN.md, request stage 3), per declared prefetch key:

- absent: the EHR did not try; fetch the key's search from `fhirServer`;
- `null`: the EHR looked and found nothing; do not query again;
- an OperationOutcome, or anything that is not a FHIR resource (an HTML page, a string, `{}`):
  the EHR's fetch failed; fetch again;
- a resource or a Bundle (with or without `type`; the pre-1.0 `{"response", "resource"}`
  wrapper unwrapped): use it, and follow its `next` link when it is on the allowed server.

Keys the discovery document did not declare are read too (their resources are sorted into the
record by resource type). Fetches run concurrently, one thread per key, on the pooled session,
all bounded by `deadline`; whatever could not be had is listed in `record.unavailable` with a
PHI-free reason. Only this stage talks to a FHIR server.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import requests

from cds_service.config import Config
from cds_service.discovery import PATIENT_TOKEN, PrefetchItem
from cds_service.fhir_fetch import (
    CallCounter,
    FetchResult,
    bundle_resources,
    fetch_all,
    fhir_headers,
    next_link,
    within,
)
from cds_service.fhir_json import (
    UNSET,
    Condition,
    MedicationRequest,
    Observation,
    TypedBundle,
    as_dict,
    next_url,
    typed_resources,
)
from cds_service.model import (
    FHIR_SERVER_NOT_ALLOWED,
    PREFETCH_FAILED,
    VERSION_REASON,
    HookRequest,
    PatientRecord,
    Unavailable,
)
from cds_service.urlpolicy import outbound_session

RECORD_FIELDS: dict[str, str] = {
    "Observation": "observations",
    "Condition": "conditions",
    "MedicationRequest": "medication_requests",
    "MedicationOrder": "medication_requests",  # DSTU2 / STU3 servers (the sandbox's default)
    "MedicationStatement": "medication_statements",
    "Immunization": "immunizations",
}

TYPED: dict[type, str] = {
    Observation: "Observation",
    Condition: "Condition",
    MedicationRequest: "MedicationRequest",
}
_NO_ID = (None, UNSET)  # a typed resource's id when it has none

NO_SERVER = "no fhirServer"
NOT_ALLOWED = FHIR_SERVER_NOT_ALLOWED  # fhirServer named, but not one this client may name

_default_session: requests.Session | None = None


@dataclass(frozen=True)
class PrefetchValue:
    """What one prefetch value holds: state "data" | "null" | "failed", resources, next link,
    and the one type of all the resources when a typed Bundle's are of one (fhir_json)."""

    state: str
    resources: Sequence[dict[str, Any] | Observation | Condition | MedicationRequest] = ()
    next_url: str | None = None
    kind: type | None = None


def _is_resource(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


def read_prefetch_value(value: Any) -> PrefetchValue:
    """Classify one prefetch value as sent (pure)."""
    if type(value) is TypedBundle:
        resources, kind = typed_resources(value)  # a new list
        return PrefetchValue("data", resources, next_url(value), kind)
    if value is None:
        return PrefetchValue("null")
    if isinstance(value, dict) and "resourceType" not in value and "resource" in value:
        response = value.get("response")  # pre-1.0 {"response": {...}, "resource": {...}}
        status = response.get("status") if isinstance(response, dict) else None
        if status is not None and not str(status).strip().startswith("2"):
            return PrefetchValue("failed")
        value = value.get("resource")
        if value is None:
            return PrefetchValue("null")
    if isinstance(value, list):
        if value and all(_is_resource(item) for item in value):
            return PrefetchValue("data", tuple(value))
        return PrefetchValue("null") if value == [] else PrefetchValue("failed")
    if not _is_resource(value):
        return PrefetchValue("failed")
    kind = value["resourceType"]
    if kind == "OperationOutcome":
        return PrefetchValue("failed")
    if kind == "Bundle":
        return PrefetchValue("data", tuple(bundle_resources(value)), next_link(value))
    return PrefetchValue("data", (value,))


def _expand(template: str, patient_id: str) -> str:
    return template.replace(PATIENT_TOKEN, patient_id)


def _url(base: str, relative: str) -> str:
    return f"{base.rstrip('/')}/{relative.lstrip('/')}"


def _session() -> requests.Session:
    global _default_session
    if _default_session is None:
        _default_session = outbound_session()
    return _default_session


def gather(
    hook_request: HookRequest,
    plan: Sequence[PrefetchItem],
    config: Config,
    deadline: float,
    *,
    session: requests.Session | None = None,
) -> PatientRecord:
    """Build the PatientRecord for `hook_request`; `deadline` is a `time.monotonic()` time."""
    session = session or _session()
    server = hook_request.fhir_server
    headers = fhir_headers(hook_request.access_token)
    counter = CallCounter()
    declared = {item.key for item in plan}

    # resources per key, in plan order, then undeclared keys in the order sent
    found: dict[str, list[dict[str, Any]]] = {}
    kinds: dict[str, type] = {}  # key -> the one type of its resources, typed as sent
    unavailable: list[Unavailable] = []
    jobs: dict[str, str] = {}  # key -> URL to fetch (first page or the prefetch's next page)
    for item in plan:
        sent = item.key in hook_request.prefetch
        value = read_prefetch_value(hook_request.prefetch.get(item.key)) if sent else None
        if value is not None and value.state != "failed":
            resources = value.resources  # a tuple, or a list made for it (typed Bundle)
            found[item.key] = resources if type(resources) is list else list(resources)
            if value.kind is not None:
                kinds[item.key] = value.kind
            if value.next_url:
                if server and within(value.next_url, server):
                    jobs[item.key] = value.next_url
                else:
                    unavailable.append(Unavailable(item.key, "prefetch next page not fetched"))
            continue
        found[item.key] = []
        if server is None:
            why = NOT_ALLOWED if hook_request.fhir_server_refused else NO_SERVER
            reason = why if value is None else f"{PREFETCH_FAILED}; {why}"
            unavailable.append(Unavailable(item.key, reason))
            continue
        jobs[item.key] = _url(server, _expand(item.template, hook_request.patient_id))
    for key, raw in hook_request.prefetch.items():
        if key not in declared:
            value = read_prefetch_value(raw)
            found[key] = list(value.resources)

    if jobs and server:
        results = _run_jobs(session, jobs, server, headers, deadline, config, counter)
        results.update(
            _older_names(session, jobs, results, server, headers, deadline, config, counter)
        )
        for key, result in results.items():
            if result.resources:
                kinds.pop(key, None)  # pages of other shapes may follow the prefetch's
            found[key].extend(result.resources)
            if result.reason:
                unavailable.append(Unavailable(key, result.reason))
        _bound_volume(found, unavailable, set(results), config.max_resources)

    return _assemble(hook_request.patient_id, found, unavailable, counter.value, kinds)


# R4 search -> the same search under its DSTU2/STU3 resource name, tried when the server
# refuses the R4 name (a DSTU2 server answers 400/404 to an unknown resource type)
OLDER_NAMES = {"MedicationRequest": "MedicationOrder"}
REFUSED = frozenset({"http 400", "http 404"})


def _older_names(
    session: requests.Session,
    jobs: dict[str, str],
    results: dict[str, FetchResult],
    server: str,
    headers: dict[str, str],
    deadline: float,
    config: Config,
    counter: CallCounter,
) -> dict[str, FetchResult]:
    """Searches the server refused under their R4 name, asked again under the DSTU2/STU3
    name (MedicationRequest -> MedicationOrder). What stays refused says which FHIR versions
    the service reads."""
    retry: dict[str, str] = {}
    refused: dict[str, tuple[str, str]] = {}
    base = server.rstrip("/") + "/"
    for key, url in jobs.items():
        result = results.get(key)
        if result is None or result.resources or result.reason not in REFUSED:
            continue
        if not url.startswith(base):
            continue
        kind = url[len(base) :].split("?", 1)[0].split("/", 1)[0]
        if kind in OLDER_NAMES:
            retry[key] = base + OLDER_NAMES[kind] + url[len(base) + len(kind) :]
            refused[key] = (kind, result.reason or "")
    if not retry or time.monotonic() >= deadline:
        return {}
    again = _run_jobs(session, retry, server, headers, deadline, config, counter)
    out: dict[str, FetchResult] = {}
    for key, result in again.items():
        if result.reason in REFUSED and not result.resources:
            kind, reason = refused[key]
            result = FetchResult(reason=VERSION_REASON.format(kind=kind, reason=reason))
        out[key] = result
    return out


def _run_jobs(
    session: requests.Session,
    jobs: dict[str, str],
    server: str,
    headers: dict[str, str],
    deadline: float,
    config: Config,
    counter: CallCounter,
) -> dict[str, FetchResult]:
    pool = ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="gather")
    futures: dict[str, Future[FetchResult]] = {
        key: pool.submit(
            fetch_all, session, url, server, headers, deadline, config.fhir_page_cap, counter
        )
        for key, url in jobs.items()
    }
    wait(futures.values(), timeout=max(0.0, deadline - time.monotonic()))
    pool.shutdown(wait=False, cancel_futures=True)  # stragglers end on their own timeouts
    results: dict[str, FetchResult] = {}
    for key, future in futures.items():
        if future.done() and not future.cancelled():
            try:
                results[key] = future.result()
            except Exception:  # a bug in fetching one key must not lose the others
                results[key] = FetchResult(reason="fetch error")
        else:
            results[key] = FetchResult(reason="timeout")
    return results


def _bound_volume(
    found: dict[str, list[dict[str, Any]]],
    unavailable: list[Unavailable],
    fetched: set[str],
    limit: int,
) -> None:
    """More resources than service.max_resources would take the engine past the deadline:
    the largest fetched keys are dropped whole (stated "too many resources", so what they
    would have shown is *not assessed*, never read from a part) until the rest fits."""
    total = sum(len(resources) for resources in found.values())
    for key in sorted(fetched, key=lambda k: len(found[k]), reverse=True):
        if total <= limit:
            return
        total -= len(found[key])
        found[key] = []
        unavailable[:] = [u for u in unavailable if u.key != key]
        unavailable.append(Unavailable(key, "too many resources"))


def _assemble(
    patient_id: str,
    found: dict[str, list[dict[str, Any]]],
    unavailable: list[Unavailable],
    calls: int,
    kinds: dict[str, type] | None = None,
) -> PatientRecord:
    lists: dict[str, list[dict[str, Any]]] = {name: [] for name in RECORD_FIELDS.values()}
    patients: list[dict[str, Any]] = []
    medications: dict[str, dict[str, Any]] = {}  # "Medication/id" -> resource (_include)
    seen: dict[str, set[str]] = {}  # resource type -> ids taken: each resource once
    for key, resources in found.items():
        if _take_typed(resources, lists, seen, kinds.get(key) if kinds else None):
            continue
        for resource in resources:
            if type(resource) in TYPED:  # fhir_json.Observation / Condition / ...
                kind, rid = TYPED[type(resource)], resource.id
            else:
                kind, rid = resource["resourceType"], resource.get("id")
            if isinstance(rid, str):
                ids = seen.get(kind)
                if ids is None:
                    ids = seen[kind] = set()
                elif rid in ids:
                    continue
                ids.add(rid)
            field = RECORD_FIELDS.get(kind)
            if field is not None:
                lists[field].append(resource)
            elif kind == "Patient":
                patients.append(resource)
            elif kind == "Medication" and isinstance(rid, str):
                medications[f"Medication/{rid}"] = resource
    if medications:
        for name in ("medication_requests", "medication_statements"):
            lists[name] = [_with_medication(r, medications) for r in lists[name]]
    patient = next((p for p in patients if p.get("id") == patient_id), None)
    if patient is None and patients:
        patient = patients[0]
    return PatientRecord(
        patient_id=patient_id,
        patient=patient,
        unavailable=unavailable,
        fhir_calls=calls,
        distinct=True,  # each resource once by (type, id): `seen` above, `_take_typed`
        **lists,
    )


def _take_typed(
    resources: list[Any],
    lists: dict[str, list[Any]],
    seen: dict[str, set[str]],
    one_type: type | None = None,
) -> bool:
    """The usual Bundle of one prefetch key or search, taken whole: typed resources of one
    type (fhir_json), each with an id, no id twice nor already taken. False (nothing taken)
    for anything else: the caller then takes the resources one by one. `one_type`: the type
    of all of `resources` when known (fhir_json.typed_resources), not looked at again."""
    if not resources:
        return False
    if one_type is None:
        kinds = set(map(type, resources))
        if len(kinds) != 1:
            return False
        one_type = kinds.pop()
    kind = TYPED.get(one_type)
    if kind is None:
        return False
    ids = {resource.id for resource in resources}  # a str, None or UNSET (fhir_json)
    if len(ids) != len(resources) or not ids.isdisjoint(_NO_ID):
        return False
    taken = seen.get(kind)
    if taken is None:
        seen[kind] = ids
    elif taken.isdisjoint(ids):
        taken |= ids
    else:
        return False
    lists[RECORD_FIELDS[kind]].extend(resources)
    return True


def _with_medication(
    resource: dict[str, Any], medications: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """An order whose medicationReference names a Medication that came with the search
    (`_include=MedicationRequest:medication`, as EHRs that code drugs as Medication resources
    send it) gets that Medication as a contained resource, so normalise reads it like a
    `#id` reference. The original is left untouched."""
    if type(resource) is MedicationRequest:  # decoded typed (fhir_json)
        if not isinstance(resource.medicationReference, dict):
            return resource  # nothing to point at the included Medication
        resource = as_dict(resource)
    ref = resource.get("medicationReference")
    target = ref.get("reference") if isinstance(ref, dict) else None
    if not isinstance(target, str) or target.startswith("#"):
        return resource
    parts = target.rstrip("/").split("/")
    key = "/".join(parts[-2:]) if len(parts) >= 2 else target
    medication = medications.get(key)
    if medication is None:
        return resource
    local_id = str(medication.get("id"))
    copy = dict(resource)
    copy["contained"] = [*(resource.get("contained") or []), medication]
    copy["medicationReference"] = {**ref, "reference": f"#{local_id}"}
    return copy


def no_server(reason: str) -> bool:
    """Was this key unavailable because there was no FHIR server the service may call?"""
    return reason.endswith(NO_SERVER) or reason.endswith(NOT_ALLOWED)


def needs_precondition(record: PatientRecord, plan: Sequence[PrefetchItem]) -> bool:
    """True when nothing at all could be had: every declared key unavailable because there
    was no usable fhirServer (none named, one not allowed, or one that could not be
    connected to). The hook then answers 412."""
    if record.patient is not None or any(getattr(record, name) for name in RECORD_FIELDS.values()):
        return False
    reasons = {u.key: u.reason for u in record.unavailable}
    return all(
        item.key in reasons
        and (no_server(reasons[item.key]) or reasons[item.key] == "connection failed")
        for item in plan
    )

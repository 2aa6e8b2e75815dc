"""Prometheus metrics (served at /metrics). Labels carry no PHI: service ids, statuses,
outcomes and indicators only — never patient, order or user values.

Several gunicorn workers: set the environment variable PROMETHEUS_MULTIPROC_DIR to an empty,
writable directory before the workers start (the `rheum-cds serve` command does so when it is
unset). Each worker then writes its samples to files there and /metrics adds them up across
workers (prometheus_client multiprocess mode). Call `child_exit(server, worker)` from the
gunicorn `child_exit` hook so a dead worker's live gauges are dropped. Without the variable
(single process, tests) the default in-process registry is used.

Recording helpers the request stages call:
- `observe_hook(service_id, status, seconds)`  requests by service/status + latency histogram
- `observe_fhir_fetch(outcome)`    outcome: ok | timeout | http_error | not_json |
                                   operation_outcome | paging_cap | connection_error | refused
- `observe_error(kind)`            unexpected errors by kind (e.g. "hook_exception")
- `observe_cards(cards)`           cards answered, by indicator
- `observe_auth_failure(reason)`   401s by reason code (see auth.AuthError.code)
- `observe_feedback(outcome, known_card, duplicate)`
- `observe_unclassified(families)` condition codes no concept was found for, by code-system
                                   family (snomed, icd10, ..., "local"); never the codes
- `AUDIT_WRITE_FAILURES.inc()`     audit rows lost (done by storage.py)
- `AUDIT_WRITE_RETRIES.inc()`      writer commits to retry (done by storage.AuditWriter)
Pass known service ids only (the discovery ids, or "unknown"), so label sets stay bounded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

NS = "rheum_cds"

HOOK_REQUESTS = Counter(
    "hook_requests",
    "CDS hook calls answered, by service and HTTP status",
    ["service", "status"],
    namespace=NS,
)
HOOK_LATENCY = Histogram(
    "hook_latency_seconds",
    "Hook call latency (server side), by service",
    ["service"],
    namespace=NS,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0),
)
FHIR_FETCHES = Counter(
    "fhir_fetches",
    "FHIR server calls made while gathering, by outcome",
    ["outcome"],
    namespace=NS,
)
ERRORS = Counter("errors", "Unexpected errors, by kind", ["kind"], namespace=NS)
CARDS = Counter("cards", "Cards answered, by indicator", ["indicator"], namespace=NS)
AUTH_FAILURES = Counter(
    "auth_failures", "Requests refused with 401, by reason code", ["reason"], namespace=NS
)
FEEDBACK = Counter(
    "feedback_items",
    "Feedback items received, by outcome, card (known/unknown) and result",
    ["outcome", "card", "result"],
    namespace=NS,
)
UNCLASSIFIED_CODES = Counter(
    "unclassified_condition_codes",
    "Condition codes that mapped to no concept, by code-system family (no codes, no PHI)",
    ["system"],
    namespace=NS,
)
AUDIT_WRITE_FAILURES = Counter(
    "audit_write_failures", "Audit rows that could not be written", namespace=NS
)
AUDIT_WRITE_RETRIES = Counter(
    "audit_write_retries",
    "Commits of audit rows the database could not take for a transient reason (locked, "
    "busy, connection lost); the rows were kept and tried again",
    namespace=NS,
)
TERMINOLOGY_LOOKUPS = Counter(
    "terminology_lookups",
    "Unclassified SNOMED CT codes looked up on the terminology server, by outcome",
    ["outcome"],
    namespace=NS,
)
HTTP_REQUESTS = Counter(
    "http_requests",
    "All HTTP requests, by route template, method and status",
    ["route", "method", "status"],
    namespace=NS,
)


_children: dict[tuple[Any, ...], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    """`metric.labels(*labels)`, looked up once per label set (the sets are bounded: see the
    module docstring); prometheus_client's own look-up takes a lock and checks every value."""
    key = (id(metric), *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


def observe_terminology_lookup(outcome: str, codes: int = 1) -> None:
    """`outcome`: resolved (answered for every root), unknown (the server does not know the
    code), unavailable (no answer in time)."""
    if codes > 0:
        TERMINOLOGY_LOOKUPS.labels(outcome=outcome).inc(codes)


def observe_hook(service_id: str, status: int, seconds: float) -> None:
    _child(HOOK_REQUESTS, service_id, str(status)).inc()
    _child(HOOK_LATENCY, service_id).observe(seconds)


def observe_fhir_fetch(outcome: str) -> None:
    _child(FHIR_FETCHES, outcome).inc()


def observe_error(kind: str) -> None:
    ERRORS.labels(kind=kind).inc()


def observe_cards(cards: Iterable[dict[str, Any]]) -> None:
    for card in cards:
        indicator = card.get("indicator") if isinstance(card, dict) else None
        if indicator not in ("info", "warning", "critical"):
            indicator = "other"
        _child(CARDS, indicator).inc()


def observe_unclassified(families: Iterable[str]) -> None:
    """Count unclassified condition codes by family; an institution's own system ("local:<uri>")
    counts as "local", so the label set stays the bounded list of systems.toml families."""
    counts: dict[str, int] = {}  # a plain dict: runs after every answer, cache-cold
    for family in families:
        label = "local" if family.startswith("local:") else family
        counts[label] = counts.get(label, 0) + 1
    for label, count in counts.items():  # one increment per family, not one per code
        _child(UNCLASSIFIED_CODES, label).inc(count)


def observe_auth_failure(reason: str) -> None:
    AUTH_FAILURES.labels(reason=reason).inc()


def observe_feedback(outcome: str, known_card: bool, duplicate: bool) -> None:
    FEEDBACK.labels(
        outcome=outcome,
        card="known" if known_card else "unknown",
        result="duplicate" if duplicate else "stored",
    ).inc()


def observe_http(route: str, method: str, status: int) -> None:
    _child(HTTP_REQUESTS, route, method, str(status)).inc()


def render() -> tuple[bytes, str]:
    """The exposition text and its content type; adds up all workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def child_exit(_server: Any, worker: Any) -> None:
    """gunicorn `child_exit` hook: forget the samples of live gauges of a dead worker."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)

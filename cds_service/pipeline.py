"""One hook call, stages 1 to 7 (DESIGN.md, "The way a request travels").

    1 auth       authenticator.authenticate(headers, path)      -> TrustedClient | None
    2 request    parse_hook_request(...)                        -> HookRequest
      orders     recognise_orders(draftOrders, selections)      -> [] answers 200, no fetch
    3 gather     gather(hook_request, plan, config, deadline)   -> PatientRecord (412 if none)
    4 normalise  normalise(record, orders, knowledge, today)    -> Facts
    5 assess     assess(facts, knowledge, settings)             -> Assessment
    6 render     render_cards(assessment, language, ...)        -> cards
    7 record     audit row + metrics (after the answer; the row is committed by the
                 storage's writer, batched with other calls: Storage.submit_audit)

`handle_hook` returns a `HookOutcome` (status, JSON body, what the audit needs); the route turns
it into the HTTP answer. Client mistakes come back as 4xx outcomes; exceptions that escape
are bugs (the app answers a JSON 500 and logs the exception type only).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from cards.render import render_cards
from cds_service import metrics
from cds_service.assess.engine import assess
from cds_service.assess.registry import Settings
from cds_service.auth import AuthError, unauthorized_body
from cds_service.gather import gather, needs_precondition, no_server
from cds_service.model import Assessment, Facts, HookRequest, Order, PatientRecord
from cds_service.normalise import normalise
from cds_service.normalise.orders import recognise_orders
from cds_service.outcome import operation_outcome
from cds_service.request import RequestError, parse_hook_request
from cds_service.storage import RETRY_AFTER_S, AuditRow, StorageError

if TYPE_CHECKING:
    from cds_service.runtime import Runtime

log = logging.getLogger(__name__)

APP_PATH = "/apps/activity/"  # the trend app (routes/apps.py), linked from activity cards
GATHER_SHARE = 0.9  # of the deadline; the rest is kept for stages 4-7 and the answer


CO_ORDER_TYPES = frozenset({"MedicationRequest", "MedicationOrder"})  # other drafts


@dataclass
class HookOutcome:
    status: int
    body: dict[str, Any]
    service_id: str
    hook_request: HookRequest | None = None
    record: PatientRecord | None = None
    assessment: Assessment | None = None
    # kept with the outcome so that it is freed after the answer has been sent, not before
    facts: Facts | None = None
    cards: list[dict[str, Any]] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    started: float = 0.0  # time.monotonic() at arrival
    headers: dict[str, str] = field(default_factory=dict)


class _Clock:
    def __init__(self, started: float) -> None:
        self.last = started
        self.timings: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.timings[stage] = round((now - self.last) * 1000, 2)
        self.last = now


def precondition_failed() -> dict[str, Any]:
    """OperationOutcome of a 412: a target order needs data and none can be had."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "incomplete",
                "diagnostics": (
                    "The order needs patient data: send the prefetch declared in discovery, "
                    "or a fhirServer this client may name with fhirAuthorization."
                ),
            }
        ],
    }


def handle_hook(
    runtime: Runtime,
    service_id: str,
    path: str,
    headers: Mapping[str, str],
    read_body: Callable[[], bytes],
    started: float | None = None,
) -> HookOutcome:
    """Run a hook call; `read_body` is called only after the client is authenticated.

    `started` is the `time.monotonic()` time the request arrived: the deadline
    (config.deadline_ms) counts from there.
    """
    started = time.monotonic() if started is None else started
    deadline = started + runtime.config.deadline_ms / 1000
    clock = _Clock(started)
    outcome = HookOutcome(200, {"cards": []}, service_id, started=started)
    outcome.timings_ms = clock.timings

    service = runtime.services.get(service_id)
    if service is None:
        outcome.service_id = "unknown"
        outcome.status, outcome.body = 404, RequestError(404, None, "no such CDS service").as_json()
        return outcome

    try:  # 1 auth
        client = runtime.authenticator.authenticate(headers, path)
    except AuthError:
        outcome.status, outcome.body = 401, unauthorized_body()
        outcome.headers["WWW-Authenticate"] = "Bearer"
        return outcome
    except StorageError:
        outcome.status = 503
        outcome.body = operation_outcome(503, "replay cache not reachable")
        # the call may be sent again: the database is usually back within seconds
        outcome.headers["Retry-After"] = str(RETRY_AFTER_S)
        return outcome
    clock.lap("auth")

    try:  # 2 request
        hook_request = parse_hook_request(
            service_id, read_body(), headers, runtime.config, client, hook=service.hook
        )
    except RequestError as exc:
        outcome.status, outcome.body = exc.status, exc.as_json()
        return outcome
    outcome.hook_request = hook_request
    if hook_request.fhir_server_refused:
        # Never contacted; answered from the prefetch. The server is not logged (it is
        # chosen by the client and could carry anything).
        log.warning(
            "fhirServer not allowed for this client: not contacted, prefetch only",
            extra={"fields": {"reason": "fhir_server_not_allowed"}},
        )
        metrics.observe_fhir_fetch("refused")
    clock.lap("request")

    knowledge = runtime.knowledge
    orders: list[Order] = []
    if hook_request.hook != "patient-view":
        orders = recognise_orders(
            hook_request.draft_orders,
            knowledge,
            hook_request.selections if hook_request.hook == "order-select" else None,
        )
        clock.lap("orders")
        if not orders:
            return outcome  # no target drug: no cards, no fetch

    gather_deadline = deadline - (1 - GATHER_SHARE) * runtime.config.deadline_ms / 1000
    record = gather(
        hook_request, service.prefetch, runtime.config, gather_deadline, session=runtime.session
    )
    outcome.record = record
    clock.lap("gather")
    if orders and needs_precondition(record, service.prefetch):
        outcome.status, outcome.body = 412, precondition_failed()
        return outcome

    targets = {id(order.resource) for order in orders}
    co_orders = [
        resource
        for resource in hook_request.draft_orders
        if isinstance(resource, dict)
        and resource.get("resourceType") in CO_ORDER_TYPES
        and id(resource) not in targets
    ]
    today = date.today()
    facts = outcome.facts = normalise(record, orders, knowledge, today, co_orders)
    clock.lap("normalise")
    terminology = runtime.terminology
    if terminology is not None and facts.unclassified_conditions:
        # one bounded I/O step, like gather: codes nobody knows are asked of the institution's
        # terminology server; whatever it answers in time is normalised again
        if terminology.resolve(facts.unclassified_codes(), gather_deadline):
            facts = outcome.facts = normalise(record, orders, knowledge, today, co_orders)
        clock.lap("terminology")
    settings = Settings(
        label_region=runtime.config.label_region,
        enabled_rules=runtime.config.enabled_rules,
        disabled_rules=runtime.config.disabled_rules,
        hook=hook_request.hook,
    )
    assessment = assess(facts, knowledge, settings)
    outcome.assessment = assessment
    clock.lap("assess")
    cards = render_cards(
        assessment,
        hook_request.language,
        knowledge,
        runtime.docs_base_url,
        hook_request.hook,
        app_url=runtime.config.base_url.rstrip("/") + APP_PATH,
    )
    clock.lap("render")
    outcome.cards = cards
    outcome.body = {"cards": cards}
    return outcome


_FETCH_OUTCOMES = {
    "timeout": "timeout",
    "not json": "not_json",
    "not a FHIR resource": "not_json",
    "OperationOutcome": "operation_outcome",
    "paging cap": "paging_cap",
    "paging loop": "paging_cap",
    "connection failed": "connection_error",
    "incomplete response": "connection_error",
    "paging link outside fhirServer": "refused",
}


def _fetch_metrics(record: PatientRecord) -> None:
    failures = 0
    for item in record.unavailable:
        if no_server(item.reason) or item.reason.startswith("prefetch"):
            continue
        failures += 1
        kind = "http_error" if item.reason.startswith("http ") else None
        metrics.observe_fhir_fetch(kind or _FETCH_OUTCOMES.get(item.reason, "http_error"))
    for _ in range(max(0, record.fhir_calls - failures)):
        metrics.observe_fhir_fetch("ok")


def record_outcome(runtime: Runtime, outcome: HookOutcome) -> None:
    """Stage 7: metrics and the audit row (no PHI: the patient id is hashed by storage)."""
    seconds = time.monotonic() - outcome.started
    metrics.observe_hook(outcome.service_id, outcome.status, seconds)
    if outcome.cards:
        metrics.observe_cards(outcome.cards)
    if outcome.record is not None:
        _fetch_metrics(outcome.record)
    if outcome.assessment is not None:
        metrics.observe_unclassified(
            family for u in outcome.assessment.unclassified_conditions for family, _ in u.codes
        )
    hook_request = outcome.hook_request
    if hook_request is None:
        return  # refused before the request was understood: nothing to audit
    timings = dict(outcome.timings_ms)
    timings["total"] = round(seconds * 1000, 2)
    rule_ids = []
    if outcome.assessment is not None:
        rule_ids = sorted({f.rule_id for f in outcome.assessment.findings})
    runtime.storage.submit_audit(
        AuditRow(
            service_id=outcome.service_id,
            hook=hook_request.hook,
            hook_instance=hook_request.hook_instance,
            status=outcome.status,
            patient_id=hook_request.patient_id,
            client_id=hook_request.client_id,
            rule_ids=rule_ids,
            cards=outcome.cards,
            fhir_calls=outcome.record.fhir_calls if outcome.record else 0,
            unavailable=[u.key for u in outcome.record.unavailable] if outcome.record else [],
            timings_ms=timings,
            language=hook_request.language,
        )
    )

"""`POST /cds-services/{id}/feedback` — CDS Hooks 2.0 feedback, stored before it is acknowledged.

Body: `{"feedback": [item, ...]}`, each item
`{"card": uuid, "outcome": "accepted" | "overridden", "acceptedSuggestions": [{"id": ...}]
(required, non-empty, when accepted), "overrideReason": {"reason": Coding (code required,
system and display optional), "userComment": string} (optional), "outcomeTimestamp": instant
with time zone (milliseconds allowed)}`. Unknown members are ignored.

Answers: 404 unknown service; 401 when the JWT fails (same checks as the hooks; the body
says only that authorisation failed); 413 body too large or more than
service.max_feedback_items items; 400 OperationOutcome naming the member at fault; 403 when a
card was answered to another client (feedback is bound to the client a card was issued to, so
one client cannot skew another's analytics); 503 when the
database cannot commit (never a false 200); 200 `{"received", "stored", "duplicates"}` once
committed. Sending the same item again stores nothing new (idempotent; natural key in
storage.FeedbackItem.natural_key). Feedback about a card uuid this service never issued is
stored too (an EHR may report late, after a database move) and counted apart in
`rheum_cds_feedback_items_total{card="unknown"}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request

from cds_service import metrics
from cds_service.auth import AuthError, get_authenticator, unauthorized_body
from cds_service.config import Config
from cds_service.discovery import SERVICE_HOOKS
from cds_service.outcome import operation_outcome
from cds_service.storage import RETRY_AFTER_S, FeedbackItem, StorageError, get_storage

bp = Blueprint("feedback", __name__)

OUTCOMES = ("accepted", "overridden")
MAX_TEXT = 4000  # longest userComment / display kept


class FeedbackError(ValueError):
    def __init__(self, member: str, message: str) -> None:
        super().__init__(f"{member}: {message}")
        self.member = member


class FeedbackTooMany(FeedbackError):
    """More items in one call than service.max_feedback_items (answered 413)."""


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def _error(status: int, error: str, member: str | None, message: str) -> Response:
    """An OperationOutcome answer (`error` is the short code kept for the reader of this
    module; the body says it with the FHIR issue type)."""
    return _json(status, operation_outcome(status, message, member))


def _unavailable() -> Response:
    """503: the database could not keep the feedback now (unreachable, or locked longer than
    storage.REQUEST_LOCK_WAIT_MS); the EHR may send it again."""
    response = _error(503, "unavailable", None, "feedback could not be stored; retry later")
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _string(value: Any, member: str, *, required: bool = True, limit: int = 255) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise FeedbackError(member, "must be a non-empty string")
    if len(value) > limit:
        raise FeedbackError(member, f"longer than {limit} characters")
    return value


def parse_instant(value: Any, member: str) -> datetime:
    """An ISO 8601 / FHIR instant with time zone (fractional seconds allowed)."""
    if not isinstance(value, str) or "T" not in value:
        raise FeedbackError(member, "must be an instant such as 2026-11-23T10:15:30.123Z")
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise FeedbackError(member, "not a valid instant") from exc
    if instant.tzinfo is None:
        raise FeedbackError(member, "needs a time zone (Z or +hh:mm)")
    return instant


def parse_item(raw: Any, member: str) -> FeedbackItem:
    """Validate one CDS Hooks 2.0 feedback item."""
    if not isinstance(raw, dict):
        raise FeedbackError(member, "must be an object")
    card = _string(raw.get("card"), f"{member}.card")
    outcome = raw.get("outcome")
    if outcome not in OUTCOMES:
        raise FeedbackError(f"{member}.outcome", "must be 'accepted' or 'overridden'")
    accepted: list[str] = []
    suggestions = raw.get("acceptedSuggestions")
    if outcome == "accepted" or suggestions is not None:
        if not isinstance(suggestions, list) or (outcome == "accepted" and not suggestions):
            raise FeedbackError(
                f"{member}.acceptedSuggestions",
                "required with outcome 'accepted': a non-empty array of {id}",
            )
        for j, sugg in enumerate(suggestions):
            where = f"{member}.acceptedSuggestions[{j}]"
            if not isinstance(sugg, dict):
                raise FeedbackError(where, "must be an object with an id")
            accepted.append(_string(sugg.get("id"), f"{where}.id") or "")
    system = code = display = comment = None
    override = raw.get("overrideReason")
    if override is not None:
        where = f"{member}.overrideReason"
        if not isinstance(override, dict):
            raise FeedbackError(where, "must be an object")
        reason = override.get("reason")
        if reason is not None:
            if not isinstance(reason, dict):
                raise FeedbackError(f"{where}.reason", "must be a Coding")
            code = _string(reason.get("code"), f"{where}.reason.code")
            system = _string(
                reason.get("system"), f"{where}.reason.system", required=False, limit=512
            )
            display = _string(
                reason.get("display"), f"{where}.reason.display", required=False, limit=MAX_TEXT
            )
        comment_raw = override.get("userComment")
        if comment_raw is not None:
            if not isinstance(comment_raw, str):
                raise FeedbackError(f"{where}.userComment", "must be a string")
            comment = comment_raw[:MAX_TEXT]
    instant = parse_instant(raw.get("outcomeTimestamp"), f"{member}.outcomeTimestamp")
    return FeedbackItem(
        card=card or "",
        outcome=outcome,
        outcome_at=instant,
        accepted_suggestions=tuple(accepted),
        override_system=system,
        override_code=code,
        override_display=display,
        user_comment=comment,
    )


def parse_feedback(body: bytes, max_items: int = 100) -> list[FeedbackItem]:
    """The validated items of a feedback request body (raises FeedbackError naming the member;
    FeedbackTooMany over `max_items`)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise FeedbackError("body", "not valid JSON") from exc
    if not isinstance(data, dict):
        raise FeedbackError("body", "must be a JSON object")
    items = data.get("feedback")
    if not isinstance(items, list) or not items:
        raise FeedbackError("feedback", "required: a non-empty array")
    if len(items) > max_items:
        raise FeedbackTooMany("feedback", f"more than {max_items} items in one call")
    return [parse_item(raw, f"feedback[{i}]") for i, raw in enumerate(items)]


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    config: Config = current_app.config["RHEUM_CDS"]
    if service_id not in SERVICE_HOOKS:
        return _error(404, "not_found", None, "no such CDS service")
    try:
        client = get_authenticator().authenticate(request.headers, request.path)
    except AuthError:
        response = _json(401, unauthorized_body())
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if request.content_length is not None and request.content_length > config.max_body_bytes:
        return _error(413, "too_large", "body", f"over {config.max_body_bytes} bytes")
    body = request.stream.read(config.max_body_bytes + 1)
    if len(body) > config.max_body_bytes:
        return _error(413, "too_large", "body", f"over {config.max_body_bytes} bytes")
    try:
        items = parse_feedback(body, config.max_feedback_items)
    except FeedbackTooMany as exc:
        return _error(413, "too_large", exc.member, str(exc))
    except FeedbackError as exc:
        return _error(400, "bad_request", exc.member, str(exc))
    client_id = client.issuer if client is not None else None
    try:
        # a card answered a moment ago by another worker may still be in its writer's batch:
        # wait briefly for it, so that it is bound to its client and counted as issued
        foreign = get_storage().cards_of_other_clients(
            service_id,
            (item.card for item in items),
            client_id,
            wait_s=config.storage_unknown_card_wait_ms / 1000,
        )
    except StorageError:
        metrics.observe_error("feedback_storage")
        return _unavailable()
    if foreign:
        index = next(i for i, item in enumerate(items) if item.card in foreign)
        member = f"feedback[{index}].card"
        return _error(403, "forbidden", member, f"{member}: not a card answered to this client")
    try:
        result = get_storage().store_feedback(service_id, items, client_id)
    except StorageError:
        metrics.observe_error("feedback_storage")
        return _unavailable()
    for outcome, known, duplicate in result.items:
        metrics.observe_feedback(outcome, known, duplicate)
    return _json(
        200,
        {"received": result.received, "stored": result.stored, "duplicates": result.duplicates},
    )

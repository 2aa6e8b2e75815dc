"""Stage 2: parse and validate a CDS Hooks 2.0 request into a `HookRequest`.

Strict where the service would otherwise act on garbage (missing hook members, a patient id
that could change a FHIR query), lenient with the shapes real EHRs send (DESIGN.md, "What real
requests look like"): draftOrders Bundles without `type`, entries without ids, single resources
or lists instead of a Bundle, legacy top-level `patient`, null context members, `fhirServer`
absent, null, an unexpanded template or without a scheme.

Every refusal is a `RequestError` whose message names the member; messages never repeat
values from the body (they may be PHI).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Mapping
from typing import Any

import orjson

from cards.language import choose_language
from cds_service import urlpolicy
from cds_service.config import Config, TrustedClient
from cds_service.discovery import SERVICE_HOOKS
from cds_service.fhir_json import TypedBundle, decode_hook_body, entry_count
from cds_service.model import HookRequest
from cds_service.outcome import operation_outcome
from cds_service.urlpolicy import Url

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

# Context members each hook requires (CDS Hooks 2.0 hook definitions; userId is required by
# the hooks too but EHRs omit it, and the service does not use it).
REQUIRED_CONTEXT: dict[str, tuple[str, ...]] = {
    "patient-view": ("patientId",),
    "order-sign": ("patientId", "draftOrders"),
    "order-select": ("patientId", "selections", "draftOrders"),
}


class RequestError(Exception):
    """A client error: `status` (400, 401, 413...), the member at fault and a PHI-free message."""

    def __init__(self, status: int, member: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.member = member
        self.message = message

    def as_json(self) -> dict[str, Any]:
        """The answer's body: an OperationOutcome naming the member."""
        return operation_outcome(self.status, self.message, self.member)


def _bad(member: str, message: str) -> RequestError:
    return RequestError(400, member, f"{member}: {message}")


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else "number"
    )


# --------------------------------------------------------------------------- fhirServer


def _normalise_server(raw: Any) -> Url | None:
    """fhirServer parsed by the outbound URL policy, or None when absent/unusable."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _bad("fhirServer", f"must be a URL string, got {_type_name(raw)}")
    url = raw.strip()
    if not url or "{{" in url:
        return None  # absent or an unexpanded template: nothing to call
    if "://" not in url:
        url = "http://" + url  # "localhost:8080/fhir" as some generators send it
    try:
        return urlpolicy.parse(url)
    except urlpolicy.UrlRefused as exc:
        raise _bad("fhirServer", f"not a usable http(s) URL ({exc})") from exc


def _listed(raw: str) -> Url | None:
    try:
        return urlpolicy.parse(raw)
    except urlpolicy.UrlRefused:
        return None  # config.py refuses these at start; never match one here


def server_allowed(server: Url | str, config: Config, client: TrustedClient | None) -> bool:
    """May the service call `server` for this client? (SSRF guard, DESIGN.md Security.)

    A signed client may name only its own listed servers (exact scheme, host, port and path).
    Unsigned requests (only accepted in unsigned mode) may name loopback servers and any
    server listed in the configuration; in unsigned mode a signed client may name those too
    (it never has fewer rights than an unsigned request).
    """
    if isinstance(server, str):
        try:
            server = urlpolicy.parse(server)
        except urlpolicy.UrlRefused:
            return False
    if client is not None and _any_same(server, client.fhir_servers):
        return True
    if client is not None and not config.allow_unsigned:
        return False
    if urlpolicy.is_loopback(server):
        return True
    return _any_same(server, tuple(s for c in config.clients for s in c.fhir_servers))


def _any_same(server: Url, listed: tuple[str, ...]) -> bool:
    for raw in listed:
        allowed = _listed(raw)
        if allowed is not None and server.same_base(allowed):
            return True
    return False


def is_self(server: Url, config: Config, host_header: str | None) -> bool:
    """Is `server` this service itself: its public base URL, or the host:port it was called on
    (any loopback name counts as the same host)?"""
    origins: list[Url] = []
    for raw in (config.base_url, f"{server.scheme}://{host_header}" if host_header else None):
        if raw is None:
            continue
        try:
            origins.append(urlpolicy.parse(raw))
        except urlpolicy.UrlRefused:
            continue
    for other in origins:
        if server.port != other.port:
            continue
        if server.host == other.host or (
            urlpolicy.is_loopback(server) and urlpolicy.is_loopback(other)
        ):
            return True
    return False


# --------------------------------------------------------------------------- context members


def _patient_id(body: dict[str, Any], context: dict[str, Any]) -> str:
    raw = context.get("patientId")
    member = "context.patientId"
    if raw is None and isinstance(body.get("patient"), str):
        raw, member = body["patient"], "patient"  # pre-1.0 top-level member
    if raw is None:
        raise _bad("context.patientId", "required")
    if not isinstance(raw, str):
        raise _bad(member, f"must be a string, got {_type_name(raw)}")
    value = raw.strip()
    if value.startswith("Patient/"):
        value = value[len("Patient/") :]
    if not FHIR_ID.fullmatch(value):
        raise _bad(member, "is not a FHIR id (letters, digits, '-', '.', at most 64)")
    return value


def _orders(raw: Any, member: str) -> list[dict[str, Any]]:
    """Order resources of draftOrders: a Bundle (any type), a list, or one resource."""
    if isinstance(raw, list):
        resources = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise _bad(f"{member}[{i}]", f"must be a FHIR resource, got {_type_name(item)}")
            inner = item.get("resource")
            resources.append(inner if isinstance(inner, dict) else item)
        return resources
    if not isinstance(raw, dict):
        raise _bad(member, f"must be a FHIR Bundle, got {_type_name(raw)}")
    if raw.get("resourceType") not in (None, "Bundle") and "entry" not in raw:
        return [raw]  # a single order resource instead of a Bundle
    entries = raw.get("entry", [])
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise _bad(f"{member}.entry", f"must be an array, got {_type_name(entries)}")
    orders = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise _bad(f"{member}.entry[{i}]", f"must be an object, got {_type_name(entry)}")
        resource = entry.get("resource")
        if resource is None and isinstance(entry.get("resourceType"), str):
            resource = entry  # a list of resources without the entry wrapper
        if resource is None:
            continue  # an entry without a resource carries nothing to review
        if not isinstance(resource, dict):
            raise _bad(
                f"{member}.entry[{i}].resource", f"must be an object, got {_type_name(resource)}"
            )
        orders.append(resource)
    return orders


def _selections(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        raise _bad("context.selections", f"must be an array of strings, got {_type_name(raw)}")
    for i, item in enumerate(raw):
        if not isinstance(item, str):
            raise _bad(f"context.selections[{i}]", f"must be a string, got {_type_name(item)}")
    return list(raw)


def _access_token(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad("fhirAuthorization", f"must be an object or null, got {_type_name(raw)}")
    token = raw.get("access_token")
    if token is None:
        return None
    if not isinstance(token, str):
        raise _bad("fhirAuthorization.access_token", f"must be a string, got {_type_name(token)}")
    if any(ch in token for ch in "\r\n"):
        raise _bad("fhirAuthorization.access_token", "must not contain line breaks")
    return token.strip() or None


def _prefetch_resources(prefetch: dict[str, Any]) -> int:
    count = 0
    for value in prefetch.values():
        if type(value) is TypedBundle:
            count += entry_count(value)
            continue
        entries = value.get("entry") if isinstance(value, dict) else None
        count += len(entries) if isinstance(entries, list) else 1
    return count


def _check_volume(
    draft_orders: list[dict[str, Any]], prefetch: dict[str, Any], config: Config
) -> None:
    """Bounds on what one call may ask the engine to read, so that normalise, assess and
    render stay well inside the deadline (3 000 draft orders took 5 s of CPU): 413 over them."""
    if len(draft_orders) > config.max_draft_orders:
        raise RequestError(
            413,
            "context.draftOrders",
            f"context.draftOrders: more than {config.max_draft_orders} orders in one call "
            "(service.max_draft_orders)",
        )
    if _prefetch_resources(prefetch) > config.max_resources:
        raise RequestError(
            413,
            "prefetch",
            f"prefetch: more than {config.max_resources} resources in one call "
            "(service.max_resources)",
        )


# --------------------------------------------------------------------------- entry point


def parse_json_body(body: bytes) -> Any:
    """The hook call's JSON: the members request.py reads, Observation Bundles of the prefetch
    typed (fhir_json.decode_hook_body); any other outline parsed as plain JSON."""
    if not body or not body.strip():
        raise _bad("body", "empty; a CDS Hooks request is a JSON object")
    # A 500 KB body makes ~100k objects, all acyclic: pausing the cyclic garbage collector
    # for the parse keeps it from scanning the heap dozens of times (3x faster measured here).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        data = decode_hook_body(body)
        return orjson.loads(body) if data is None else data
    except orjson.JSONDecodeError as exc:
        raise _bad("body", "not valid JSON") from exc
    finally:
        if paused:
            gc.enable()


def parse_hook_request(
    service_id: str,
    body: bytes,
    headers: Mapping[str, str],
    config: Config,
    client: TrustedClient | None,
    *,
    hook: str | None = None,
) -> HookRequest:
    """Validate a hook call for service `service_id` whose hook is `hook`.

    `hook` defaults to the hook of the service (discovery.build_services). Raises
    RequestError: 400 naming the member. A `fhirServer` this client may not name is never
    contacted: the request keeps no server (`fhir_server_refused`), and is answered from its
    prefetch.
    """
    if hook is None:
        if service_id not in SERVICE_HOOKS:
            raise RequestError(404, None, f"no CDS service {service_id!r}")
        hook = SERVICE_HOOKS[service_id]
    data = parse_json_body(body)
    if not isinstance(data, dict):
        raise _bad("body", f"must be a JSON object, got {_type_name(data)}")

    sent_hook = data.get("hook")
    if sent_hook is None:
        raise _bad("hook", "required")
    if not isinstance(sent_hook, str):
        raise _bad("hook", f"must be a string, got {_type_name(sent_hook)}")
    if sent_hook != hook:
        raise _bad("hook", f"service {service_id} answers the {hook} hook, not this one")

    instance = data.get("hookInstance")
    if instance is None:
        raise _bad("hookInstance", "required")
    if not isinstance(instance, str) or not instance.strip():
        raise _bad("hookInstance", "must be a non-empty string")
    if len(instance) > 256:
        raise _bad("hookInstance", "longer than 256 characters")

    context = data.get("context")
    if context is None:
        raise _bad("context", "required")
    if not isinstance(context, dict):
        raise _bad("context", f"must be an object, got {_type_name(context)}")
    for name in REQUIRED_CONTEXT[hook]:
        if name == "patientId":
            continue  # checked below (with the legacy top-level member)
        if context.get(name) is None:
            raise _bad(f"context.{name}", f"required for the {hook} hook")
    patient_id = _patient_id(data, context)

    draft_orders: list[dict[str, Any]] = []
    selections: list[str] = []
    if "draftOrders" in REQUIRED_CONTEXT[hook]:
        draft_orders = _orders(context["draftOrders"], "context.draftOrders")
    if "selections" in REQUIRED_CONTEXT[hook]:
        selections = _selections(context["selections"])

    prefetch = data.get("prefetch")
    if prefetch is None:
        prefetch = {}
    if not isinstance(prefetch, dict):
        raise _bad("prefetch", f"must be an object, got {_type_name(prefetch)}")
    _check_volume(draft_orders, prefetch, config)

    access_token = _access_token(data.get("fhirAuthorization"))
    server = _normalise_server(data.get("fhirServer"))
    refused = False
    if server is not None:
        if is_self(server, config, headers.get("Host")):
            server = None  # never call ourselves
        elif not server_allowed(server, config, client):
            # Never contacted; the call is still answered from the prefetch it carries.
            server, refused, access_token = None, True, None

    return HookRequest(
        service_id=service_id,
        hook=hook,
        hook_instance=instance,
        patient_id=patient_id,
        fhir_server=server.base if server is not None else None,
        access_token=access_token,
        context=context,
        prefetch=prefetch,
        draft_orders=draft_orders,
        selections=selections,
        language=choose_language(headers.get("Accept-Language"), config.language),
        client_id=client.issuer if client else None,
        fhir_server_refused=refused,
    )

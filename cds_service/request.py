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
import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson

from cards.language import choose_language
from cds_service.config import Config, TrustedClient
from cds_service.discovery import SERVICE_HOOKS
from cds_service.model import HookRequest

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

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
        body: dict[str, Any] = {"error": _ERROR_NAMES.get(self.status, "bad_request")}
        if self.member:
            body["member"] = self.member
        body["message"] = self.message
        return body


_ERROR_NAMES = {400: "bad_request", 401: "unauthorized", 413: "too_large", 404: "not_found"}


def _bad(member: str, message: str) -> RequestError:
    return RequestError(400, member, f"{member}: {message}")


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else "number"
    )


# --------------------------------------------------------------------------- fhirServer


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _normalise_server(raw: Any) -> str | None:
    """fhirServer as a base URL without trailing slash, or None when absent/unusable."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _bad("fhirServer", f"must be a URL string, got {_type_name(raw)}")
    url = raw.strip()
    if not url or "{{" in url:
        return None  # absent or an unexpanded template: nothing to call
    if "://" not in url:
        url = "http://" + url  # "localhost:8080/fhir" as some generators send it
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _bad("fhirServer", "must be an http(s) URL")
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError as exc:
        raise _bad("fhirServer", "has an invalid port") from exc
    return url.rstrip("/")


def _same(a: str, b: str) -> bool:
    return _origin(a) == _origin(b) and urlsplit(a).path.rstrip("/") == urlsplit(b).path.rstrip("/")


def server_allowed(server: str, config: Config, client: TrustedClient | None) -> bool:
    """May the service call `server` for this client? (SSRF guard, DESIGN.md Security.)

    A signed client may name only its own listed servers. Unsigned requests (only accepted in
    unsigned mode) may name loopback servers and any server listed in the configuration.
    """
    if client is not None:
        return any(_same(server, allowed) for allowed in client.fhir_servers)
    listed = [s for c in config.clients for s in c.fhir_servers]
    return is_loopback(server) or any(_same(server, allowed) for allowed in listed)


def is_self(server: str, config: Config, host_header: str | None) -> bool:
    """Is `server` this service itself: its public base URL, or the host:port it was called on
    (any loopback name counts as the same host)?"""
    origins = [_origin(config.base_url)]
    if host_header:
        try:
            origins.append(_origin(f"{urlsplit(server).scheme}://{host_header}"))
        except ValueError:
            pass
    scheme, host, port = _origin(server)
    for _, other_host, other_port in origins:
        if port != other_port:
            continue
        if host == other_host or (is_loopback(server) and is_loopback(f"http://{other_host}")):
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


# --------------------------------------------------------------------------- entry point


def parse_json_body(body: bytes) -> Any:
    if not body or not body.strip():
        raise _bad("body", "empty; a CDS Hooks request is a JSON object")
    # A 500 KB body makes ~100k objects, all acyclic: pausing the cyclic garbage collector
    # for the parse keeps it from scanning the heap dozens of times (3x faster measured here).
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return orjson.loads(body)
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
    RequestError: 400 naming the member, or 401 when `fhirServer` is one this client may not
    name (the server is then never contacted).
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

    access_token = _access_token(data.get("fhirAuthorization"))
    server = _normalise_server(data.get("fhirServer"))
    if server is not None:
        if is_self(server, config, headers.get("Host")):
            server = None  # never call ourselves
        elif not server_allowed(server, config, client):
            raise RequestError(401, "fhirServer", "fhirServer: not allowed for this client")

    return HookRequest(
        service_id=service_id,
        hook=hook,
        hook_instance=instance,
        patient_id=patient_id,
        fhir_server=server,
        access_token=access_token,
        context=context,
        prefetch=prefetch,
        draft_orders=draft_orders,
        selections=selections,
        language=choose_language(headers.get("Accept-Language"), config.language),
        client_id=client.issuer if client else None,
    )

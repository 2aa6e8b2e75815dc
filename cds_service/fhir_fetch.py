"""HTTP access to a FHIR server for the gather stage: one read or search, with paging.

Everything is bounded by an absolute deadline (`time.monotonic()` seconds): per-call timeouts
are the remaining time, bodies are read in small pieces and abandoned when the deadline
passes, a 429/503 `Retry-After` is honoured only if the retry still fits. Failures come back
as short PHI-free reasons ("timeout", "http 500", "not json", "paging loop", ...), never as
exceptions, and never carry text from the server's answer.
"""

from __future__ import annotations

import email.utils
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
import urllib3.exceptions

from cds_service import urlpolicy
from cds_service.fhir_json import (
    Condition,
    Observation,
    TypedBundle,
    bundle_typed,
    decode_resource,
    next_url,
)

MAX_RESPONSE_BYTES = 32 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
MIN_CALL_SECONDS = 0.02  # do not start a call with less time than this left
MAX_CONNECT_SECONDS = 1.0


class CallCounter:
    """Counts HTTP calls across the threads of one request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self) -> None:
        with self._lock:
            self.value += 1


@dataclass
class FetchResult:
    """Resources read for one search (all pages), and why it stopped early, if it did."""

    resources: list[dict[str, Any] | Observation | Condition] = field(default_factory=list)
    reason: str | None = None


def fhir_headers(access_token: str | None) -> dict[str, str]:
    headers = {
        "Accept": "application/fhir+json, application/json;q=0.9",
        "Cache-Control": "no-cache",
    }
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    return headers


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _read_body(response: requests.Response, deadline: float) -> bytes | str:
    """The body, or a reason when it is too slow or too large."""
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    while True:
        if time.monotonic() >= deadline:
            return "timeout"
        chunk = raw.read1(CHUNK_BYTES, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return "response too large"
        chunks.append(chunk)


def get_json(
    session: requests.Session,
    url: str,
    headers: dict[str, str],
    deadline: float,
    counter: CallCounter,
) -> tuple[Any, str | None]:
    """GET `url` and parse JSON: (data, None) or (None, reason).

    `url` is parsed by the outbound URL policy and the request is sent from the parsed parts
    (`urlpolicy.send`: no redirect followed, no proxy)."""
    try:
        approval = urlpolicy.Approval(urlpolicy.parse(url))
    except urlpolicy.UrlRefused:
        return None, "URL refused"
    for _attempt in range(2):
        remaining = deadline - time.monotonic()
        if remaining < MIN_CALL_SECONDS:
            return None, "timeout"
        counter.add()
        try:
            with urlpolicy.send(
                session,
                approval,
                headers=headers,
                timeout=(min(remaining, MAX_CONNECT_SECONDS), remaining),
            ) as response:
                status = response.status_code
                if status in (429, 503):
                    wait = _retry_after(response.headers.get("Retry-After"))
                    if wait is not None and time.monotonic() + wait + MIN_CALL_SECONDS < deadline:
                        time.sleep(wait)
                        continue
                    return None, f"http {status}"
                if status >= 300:
                    return None, f"http {status}"
                body = _read_body(response, deadline)
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            return None, "timeout"
        except urllib3.exceptions.ProtocolError:
            return None, "incomplete response"
        except (requests.ConnectionError, urllib3.exceptions.HTTPError, OSError):
            return None, "connection failed"
        except requests.RequestException:
            return None, "request failed"
        if isinstance(body, str):
            return None, body
        try:
            return decode_resource(body), None
        except orjson.JSONDecodeError:
            return None, "not json"
    return None, "http 429"


def bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """Resources of a Bundle's entries, without search outcome messages."""
    entries = bundle.get("entry")
    out: list[dict[str, Any]] = []
    if not isinstance(entries, list):
        return out
    keep = out.append
    for entry in entries:  # hundreds to thousands per prefetch: plain look-ups only
        if not isinstance(entry, dict):
            continue
        resource = entry.get("resource")
        if not isinstance(resource, dict):
            continue
        kind = resource.get("resourceType")
        if not isinstance(kind, str) or kind == "OperationOutcome":
            continue
        search = entry.get("search")
        if search is not None and isinstance(search, dict) and search.get("mode") == "outcome":
            continue
        keep(resource)
    return out


def next_link(bundle: dict[str, Any]) -> str | None:
    links = bundle.get("link")
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            if isinstance(url, str) and url.strip():
                return url.strip()
    return None


def within(url: str, base: str) -> bool:
    """Is `url` on the FHIR server at `base` (same scheme, host, port and dot-normalised path
    prefix, as the outbound URL policy reads them)? A URL the policy refuses is not."""
    try:
        return urlpolicy.parse(url).within(urlpolicy.parse(base))
    except urlpolicy.UrlRefused:
        return False


def fetch_all(
    session: requests.Session,
    url: str,
    base: str,
    headers: dict[str, str],
    deadline: float,
    page_cap: int,
    counter: CallCounter,
) -> FetchResult:
    """Read `url` (a read or a search) and follow `next` links up to `page_cap` pages.

    Resources read before a failure are kept; the result's reason says why it stopped.
    """
    result = FetchResult()
    seen: set[str] = set()
    pages = 0
    try:
        server = urlpolicy.parse(base)
        first = urlpolicy.parse(url)
    except urlpolicy.UrlRefused:
        return FetchResult(reason="URL refused")
    if not first.within(server):
        return FetchResult(reason="URL outside fhirServer")
    current: str | None = first.url
    while current:
        if current in seen:
            result.reason = "paging loop"
            break
        if pages >= page_cap:
            result.reason = "paging cap"
            break
        seen.add(current)
        pages += 1
        data, reason = get_json(session, current, headers, deadline, counter)
        if reason:
            result.reason = reason
            break
        if type(data) is TypedBundle:
            result.resources.extend(bundle_typed(data))
            link = next_url(data)
        else:
            if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
                result.reason = "not a FHIR resource"
                break
            kind = data["resourceType"]
            if kind == "OperationOutcome":
                result.reason = "OperationOutcome"
                break
            if kind != "Bundle":
                result.resources.append(data)
                break
            result.resources.extend(bundle_resources(data))
            link = next_link(data)
        if link is None:
            break
        try:
            resolved = urlpolicy.parse(current).join(link)
        except urlpolicy.UrlRefused:
            result.reason = "paging link refused"
            break
        if not resolved.within(server):
            result.reason = "paging link outside fhirServer"
            break
        current = resolved.url
    return result

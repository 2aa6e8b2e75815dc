"""A small FHIR-ish HTTP server on loopback that answers each resource type as told.

Only for injecting faults a real FHIR server will not produce on demand (slow answers, 500,
429 with Retry-After, HTML, truncated JSON, OperationOutcome, endless or looping `next`
links). It records every request it receives so tests can assert what was (not) fetched.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BEHAVIOURS = (
    "ok",
    "slow",
    "500",
    "429-then-ok",
    "429-long",
    "401",
    "404",
    "html",
    "truncated",
    "short-body",
    "operation-outcome",
    "endless-next",
    "loop-next",
    "foreign-next",
)


class FaultServer:
    """`server.behave("Observation", "slow")`; data per type with `server.data[...]`."""

    def __init__(self, slow_seconds: float = 5.0) -> None:
        self.behaviour: dict[str, str] = {}
        self.data: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path+query, headers)
        self.slow_seconds = slow_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ control

    def behave(self, resource_type: str, behaviour: str) -> None:
        assert behaviour in BEHAVIOURS, behaviour
        self.behaviour[resource_type] = behaviour

    def paths(self, resource_type: str | None = None) -> list[str]:
        with self._lock:
            seen = [path for path, _ in self.requests]
        if resource_type is None:
            return seen
        return [p for p in seen if urlsplit(p).path.startswith(f"/fhir/{resource_type}")]

    def close(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------------ answers

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        ctype: str,
        extra: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (extra or {}).items():
            h.send_header(name, value)
        h.end_headers()
        try:
            h.wfile.write(body)
            h.wfile.flush()
        except OSError:
            pass
        if length is not None:
            h.close_connection = True

    def _bundle(self, resources: list[dict[str, Any]], next_url: str | None = None) -> bytes:
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(resources),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
        }
        if next_url:
            bundle["link"] = [{"relation": "next", "url": next_url}]
        return json.dumps(bundle).encode()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.requests.append((h.path, dict(h.headers.items())))
        parts = urlsplit(h.path)
        segments = [s for s in parts.path.split("/") if s]
        kind = segments[1] if len(segments) > 1 else ""
        behaviour = self.behaviour.get(kind, "ok")
        query = parse_qs(parts.query)
        with self._lock:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            count = self._counts[kind]
        resources = self.data.get(kind, [])
        json_type = "application/fhir+json"
        if behaviour == "slow":
            self._stop.wait(self.slow_seconds)
            behaviour = "ok"
        if behaviour == "500":
            oo = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "exception"}],
            }
            return self._send(h, 500, json.dumps(oo).encode(), json_type)
        if behaviour == "401":
            return self._send(h, 401, b"", json_type)
        if behaviour == "404":  # a server of another FHIR version: unknown resource type
            oo = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-supported"}],
            }
            return self._send(h, 404, json.dumps(oo).encode(), json_type)
        if behaviour == "429-then-ok" and count == 1:
            return self._send(h, 429, b"", json_type, {"Retry-After": "1"})
        if behaviour == "429-long":
            return self._send(h, 429, b"", json_type, {"Retry-After": "30"})
        if behaviour == "html":
            page = b"<html><body><h1>Gateway error</h1></body></html>"
            return self._send(h, 200, page, "text/html")
        if behaviour == "truncated":
            body = self._bundle(resources or [{"resourceType": kind, "id": "x"}])
            return self._send(h, 200, body[: len(body) // 2], json_type)
        if behaviour == "short-body":
            body = self._bundle(resources or [{"resourceType": kind, "id": "x"}])
            return self._send(h, 200, body[:20], json_type, length=len(body))
        if behaviour == "operation-outcome":
            oo = {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "processing"}],
            }
            return self._send(h, 200, json.dumps(oo).encode(), json_type)
        page = int(query.get("page", ["0"])[0])
        origin = self.base_url
        if behaviour == "endless-next":
            nxt = f"{origin}/{kind}?page={page + 1}"
            item = {"resourceType": kind, "id": f"p{page}"}
            return self._send(h, 200, self._bundle([item], nxt), json_type)
        if behaviour == "loop-next":
            nxt = f"{origin}/{kind}?page=1"
            item = {"resourceType": kind, "id": f"p{page}"}
            return self._send(h, 200, self._bundle([item], nxt), json_type)
        if behaviour == "foreign-next":
            nxt = "http://203.0.113.9/fhir/Observation?page=2"
            return self._send(h, 200, self._bundle(resources, nxt), json_type)
        if kind == "Patient" and len(segments) > 2:
            found = [r for r in resources if r.get("id") == segments[2]]
            if not found:
                oo = {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "error", "code": "not-found"}],
                }
                return self._send(h, 404, json.dumps(oo).encode(), json_type)
            return self._send(h, 200, json.dumps(found[0]).encode(), json_type)
        return self._send(h, 200, self._bundle(resources), json_type)


def wait_until(predicate: Any, seconds: float = 5.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()

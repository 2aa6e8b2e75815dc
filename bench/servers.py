"""Processes and servers the benchmark starts on loopback, and stops by itself."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.measure import request

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_cpu_s(pgid: int) -> float:
    """CPU time (user + system, seconds) used so far by the live processes of a process
    group (a server's master, workers and threads; the benchmark starts each in its own)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5 of stat: process group
                total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def wait_http(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if request(url, timeout=2)[0] < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def _running(
    cmd: list[str], env: dict[str, str], port: int, log_path: Path, stop_wait_s: float
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start `cmd` in its own session, wait for /healthz on `port`, yield (base, process);
    on exit stop the whole session (TERM, then KILL after `stop_wait_s`)."""
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/healthz")
        yield base, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(stop_wait_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(10)
        log.close()


@contextlib.contextmanager
def service(
    workers: int = 1,
    threads: int = 1,
    storage_url: str | None = None,
    extra_env: dict[str, str] | None = None,
    worker_class: str | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`rheum-cds serve` as deployed (gunicorn; its default worker class unless one is
    named), unsigned, on a free loopback port."""
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="rheum-bench-")
    env = {
        **os.environ,
        "RHEUM_CDS_STORAGE_URL": storage_url or f"sqlite:///{tmp}/bench.db",
        "RHEUM_CDS_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [
        sys.executable,
        "-m",
        "cds_service",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--allow-unsigned",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        *(["--worker-class", worker_class] if worker_class else []),
    ]
    yield from _running(cmd, env, port, Path(tmp) / "service.log", stop_wait_s=10)


def granian_available() -> bool:
    return shutil.which("granian", path=str(Path(sys.executable).parent)) is not None


@contextlib.contextmanager
def granian(storage_url: str | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """The same app under Granian's WSGI interface (Rust HTTP/1 front, one worker process,
    one Python thread), unsigned, on a free loopback port."""
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="rheum-bench-granian-")
    env = {
        **os.environ,
        "RHEUM_CDS_STORAGE_URL": storage_url or f"sqlite:///{tmp}/bench.db",
        "RHEUM_CDS_LOG_LEVEL": "WARNING",
        "RHEUM_CDS_ALLOW_UNSIGNED": "1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [
        str(Path(sys.executable).parent / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--blocking-threads",
        "1",
        "--log-level",
        "warning",
        "bench.granian_app:app",
    ]
    yield from _running(cmd, env, port, Path(tmp) / "granian.log", stop_wait_s=20)


@contextlib.contextmanager
def healthchain(venv: Path) -> Iterator[tuple[str, subprocess.Popen] | None]:
    """The HealthChain comparison service under uvicorn, in its own venv; None if unavailable."""
    python = venv / "bin" / "python"
    if not python.exists():
        print("bench: creating", venv, "for HealthChain (pip install healthchain)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        result = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "healthchain>=0.16,<0.17"], check=False
        )
        if result.returncode:
            yield None
            return
    port = free_port()
    proc = subprocess.Popen(
        [str(python), str(ROOT / "bench" / "healthchain_app.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health")
        yield f"http://127.0.0.1:{port}/cds/cds-services/jaki-order-sign", proc
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)


class _CannedFhir(BaseHTTPRequestHandler):
    """Answers the service's FHIR searches from canned Bundles, after a fixed delay."""

    data: dict[str, Any] = {}
    delay_s: float = 0.02
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: without TCP_NODELAY a kept-alive connection
    # waits for the client's delayed ACK (40 ms on Linux), which no real FHIR server does.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802
        time.sleep(self.delay_s)
        segments = [s for s in urlsplit(self.path).path.split("/") if s]
        rtype = segments[-2] if len(segments) >= 2 and segments[-2] == "Patient" else segments[-1]
        key = {
            "Patient": "patient",
            "Condition": "conditions",
            "Observation": "observations",
            "MedicationRequest": "medicationRequests",
            "Immunization": "immunizations",
        }.get(rtype)
        body = self.data.get(key) if key else None
        if body is None:
            body = {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        return


@contextlib.contextmanager
def canned_fhir(prefetch: dict[str, Any], delay_s: float = 0.02) -> Iterator[str]:
    """A loopback FHIR stand-in that adds `delay_s` to every request (a slow EHR)."""
    handler = type("Handler", (_CannedFhir,), {"data": prefetch, "delay_s": delay_s})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/fhir"
    finally:
        server.shutdown()
        server.server_close()

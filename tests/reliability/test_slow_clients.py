"""Slow clients do not take the service down (issue 12, finding 4): with 100 connections
trickling request headers or bodies a byte at a time, `/healthz` and a hook call are still
answered promptly by `rheum-cds serve` (its default worker reads requests without tying up a
worker per connection). Loopback only, bounded in count and time; the figure measured here is
in docs/reliability.md."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.service import samples

SLOW_CLIENTS = 100
TRICKLE_SECONDS = 0.5  # one byte per connection this often
ANSWER_WITHIN_S = 3.0  # the outage this guards against is "no answer at all"; see docs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy/helm/rheum-cds/files/nginx.conf"


def _serve(tmp_path: Path, *extra: str) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RHEUM_CDS_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["RHEUM_CDS_STORAGE_URL"] = f"sqlite:///{tmp_path / 'slow.db'}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cds_service",
            "serve",
            "--allow-unsigned",
            "--port",
            str(port),
            "--workers",
            "2",
            *extra,
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail("rheum-cds serve did not start")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`rheum-cds serve` as it starts by default (gevent workers)."""
    yield from _serve(tmp_path)


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[str]:
    """Sync workers (no protection of their own) behind the deployment's nginx proxy, with
    the configuration the Helm chart and the compose file ship (ports and paths moved)."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    for base in _serve(tmp_path, "--worker-class", "sync"):
        app_port = int(base.rsplit(":", 1)[1])
        proxy_port = _free_port()
        conf = NGINX_CONF.read_text()
        conf = conf.replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{app_port};")
        conf = conf.replace("listen 8081;", f"listen 127.0.0.1:{proxy_port};")
        conf = conf.replace("/tmp/", f"{tmp_path}/")
        conf = conf.replace("worker_processes auto;", "worker_processes 1;")
        (tmp_path / "nginx.conf").write_text(conf)
        process = subprocess.Popen(
            [nginx, "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;", "-e", "stderr"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{proxy_port}"
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    requests.get(url + "/healthz", timeout=2)
                    break
                except requests.RequestException:
                    time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


class Trickler:
    """SLOW_CLIENTS connections: half send their headers a byte at a time, half send full
    headers announcing a 100 kB body and then the body a byte at a time."""

    def __init__(self, port: int) -> None:
        self.pending: list[tuple[socket.socket, bytes]] = []
        for i in range(SLOW_CLIENTS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2 == 0:
                data = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000
            else:
                head = (
                    b"POST /cds-services/rheum-order-sign HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                )
                sock.sendall(head)
                data = b"{" + b" " * 99_999
            self.pending.append((sock, data))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        offset = 0
        while not self._stop.is_set():
            for sock, data in self.pending:
                try:
                    sock.send(data[offset : offset + 1])
                except OSError:
                    pass  # the server may close a slow connection: that is allowed
            offset += 1
            self._stop.wait(TRICKLE_SECONDS)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock, _ in self.pending:
            sock.close()


def test_slow_clients_do_not_starve_health_checks_and_hook_calls(served: str) -> None:
    _check(served)


def test_the_deployment_proxy_shields_sync_workers_from_slow_clients(proxied: str) -> None:
    _check(proxied)


def _check(served: str) -> None:
    port = int(served.rsplit(":", 1)[1])
    body = samples.order_sign(prefetch=samples.full_prefetch())
    requests.post(served + "/cds-services/rheum-order-sign", json=body, timeout=10)  # warm
    trickler = Trickler(port)
    try:
        time.sleep(2.0)  # every slow connection has started its request
        timings: dict[str, list[float]] = {"healthz": [], "hook": []}
        for _ in range(5):
            started = time.monotonic()
            health = requests.get(served + "/healthz", timeout=ANSWER_WITHIN_S)
            timings["healthz"].append(time.monotonic() - started)
            assert health.status_code == 200
            started = time.monotonic()
            hook = requests.post(
                served + "/cds-services/rheum-order-sign", json=body, timeout=ANSWER_WITHIN_S
            )
            timings["hook"].append(time.monotonic() - started)
            assert hook.status_code == 200
            assert hook.json()["cards"]
    finally:
        trickler.close()
    print(
        f"\n{SLOW_CLIENTS} slow clients: healthz max {max(timings['healthz']) * 1000:.0f} ms, "
        f"hook max {max(timings['hook']) * 1000:.0f} ms"
    )

"""`rheum-cds` command: help lists the subcommands; `serve` runs gunicorn with no file at all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def _run(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cds_service", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_help_lists_subcommands():
    result = _run("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout
    serve = _run("serve", "--help")
    for option in ("--host", "--port", "--config", "--allow-unsigned", "--workers", "--threads"):
        assert option in serve.stdout


def test_invalid_configuration_stops_start_up_naming_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[service]\ndeadline_ms = "soon"\n')
    result = _run("serve", "--config", str(config), "--port", str(_free_port()))
    assert result.returncode == 2
    assert "service.deadline_ms" in result.stderr


def test_serve_with_defaults_answers_discovery(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RHEUM_CDS_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cds_service",
            "serve",
            "--port",
            str(port),
            "--allow-unsigned",
            "--workers",
            "1",
            "--threads",
            "2",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        response = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = requests.get(f"{base}/cds-services", timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):  # worker still booting
                time.sleep(0.2)
        assert process.poll() is None, process.communicate()[0]
        assert response is not None and response.status_code == 200
        assert len(response.json()["services"]) == 3
        health = requests.get(f"{base}/healthz", timeout=2).json()
        assert health["unsigned"] is True
        hook = requests.post(
            f"{base}/cds-services/rheum-order-sign",
            data=b"{",
            timeout=5,
            headers={"Content-Type": "application/json"},
        )
        assert hook.status_code == 400
        assert (tmp_path / "rheum-cds.db").exists()  # SQLite in the working directory
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert "UNSIGNED" in output
    assert "Traceback" not in output


def test_serve_sync_runs_sync_workers_whatever_threads_says(tmp_path):
    """`--worker-class sync` (threads default 4) must not turn into gthread: the benchmark
    compares the classes by name, and an operator picking sync behind a proxy means it."""
    from tests.fixtures.service import start_service

    served = start_service(
        tmp_path,
        f"sqlite:///{tmp_path / 'cds.db'}",
        workers=1,
        threads=4,
        extra_args=("--worker-class", "sync"),
    )
    try:
        assert requests.get(served.base_url + "/cds-services", timeout=10).status_code == 200
    finally:
        served.stop()
    log = served.log_path.read_text()
    assert "Using worker: sync" in log, log[-2000:]

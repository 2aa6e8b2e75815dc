"""Operations: /healthz, /readyz, /metrics (added up across gunicorn workers), JSON logs
without PHI and with a request id."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from cds_service.logs import JsonFormatter

FEEDBACK = "/cds-services/rheum-order-sign/feedback"


def test_healthz_is_plain_ok_when_signed(make_app: Callable[..., Flask]) -> None:
    response = make_app(allow_unsigned=False).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["unsigned"] is False
    assert "warning" not in response.json


def test_healthz_warns_in_unsigned_mode(make_app: Callable[..., Flask]) -> None:
    body = make_app(allow_unsigned=True).test_client().get("/healthz").json
    assert body["unsigned"] is True
    assert "UNSIGNED" in body["warning"]


def test_readyz_follows_the_database(make_app: Callable[..., Flask]) -> None:
    assert make_app().test_client().get("/readyz").status_code == 200
    down = make_app(storage_url="postgresql://nobody@127.0.0.1:1/none").test_client()
    response = down.get("/readyz")
    assert response.status_code == 503
    assert response.json["storage"] == "unreachable"


def test_metrics_exposition_lists_the_service_families(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.get_data(as_text=True)
    for family in (
        "rheum_cds_hook_requests",
        "rheum_cds_hook_latency_seconds",
        "rheum_cds_fhir_fetches",
        "rheum_cds_errors",
        "rheum_cds_cards",
        "rheum_cds_feedback_items",
        "rheum_cds_audit_write_failures",
        "rheum_cds_auth_failures",
    ):
        assert f"# TYPE {family}" in text, family
    assert 'rheum_cds_http_requests_total{method="GET",route="/healthz",status="200"}' in text


def test_logs_are_json_with_request_id_and_without_phi(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Margaret-Hamilton-1936"
    client = make_app().test_client()
    with caplog.at_level(logging.DEBUG):
        ok = client.post(
            FEEDBACK,
            json={
                "feedback": [
                    {
                        "card": secret,
                        "outcome": "overridden",
                        "overrideReason": {"userComment": secret},
                        "outcomeTimestamp": "2026-11-23T10:00:00.000Z",
                    }
                ]
            },
            headers={"X-Request-Id": "req-123"},
        )
        bad = client.post(FEEDBACK, data=f'{{"feedback": [{{"card": "{secret}"}}]}}')
    assert ok.status_code == 200
    assert ok.headers["X-Request-Id"] == "req-123"
    assert bad.status_code == 400
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert lines
    access = [json.loads(line) for line in lines if '"rheum_cds.access"' in line]
    assert {a["status"] for a in access} >= {200, 400}
    assert all(a.get("request_id") for a in access)
    assert any(a["request_id"] == "req-123" for a in access)
    assert not [line for line in lines if secret in line]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`rheum-cds serve` with two sync workers, on a free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "RHEUM_CDS_STORAGE_URL": f"sqlite:///{tmp_path / 'cds.db'}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
    }
    (tmp_path / "prom").mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cds_service",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--threads",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # cold start of two workers on a busy machine
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read().decode()[-2000:] if proc.stderr else "")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_metrics_add_up_across_gunicorn_workers(served: str, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from prometheus_client.multiprocess import MultiProcessCollector

    wanted = {"method": "GET", "route": "/readyz", "status": "200"}

    def readyz_count(files: list[str]) -> float:
        for family in MultiProcessCollector.merge(files, accumulate=True):
            for sample in family.samples:
                if sample.name == "rheum_cds_http_requests_total" and sample.labels == wanted:
                    return sample.value
        return 0.0

    sent = 0
    busy_workers = 0
    with ThreadPoolExecutor(8) as pool:
        # concurrent bursts until both workers (the second may still be starting) served some
        for _ in range(20):
            answers = list(
                pool.map(lambda _: requests.get(served + "/readyz", timeout=10), range(20))
            )
            assert [r.status_code for r in answers] == [200] * 20
            sent += 20
            files = [str(f) for f in (tmp_path / "prom").glob("counter_*.db")]
            busy_workers = len([f for f in files if readyz_count([f]) > 0])
            if busy_workers == 2:
                break
            time.sleep(0.5)
    assert busy_workers == 2
    line = 'rheum_cds_http_requests_total{method="GET",route="/readyz",status="200"}'
    for _ in range(4):  # whichever worker answers /metrics, it reports all workers' samples
        text = requests.get(served + "/metrics", timeout=5).text
        values = [float(x.split()[-1]) for x in text.splitlines() if x.startswith(line)]
        assert values == [float(sent)]

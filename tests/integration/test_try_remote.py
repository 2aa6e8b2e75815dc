"""`rheum-cds try --service URL` against a running service (`rheum-cds serve`, gunicorn) that
trusts one CDS client: calls signed with `--sign-with` pass the JWT check and give the same
findings with and without prefetch; an unsigned call is refused."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout

import pytest
import requests

from cds_service.cli import main as cli_main
from cds_service.client_token import ClientSigner
from tests.fixtures.processes import free_port

ISSUER = "https://ehr.example.org/cds-client"


def _toml_table(data: dict[str, str]) -> str:
    return "{ " + ", ".join(f'{k} = "{v}"' for k, v in data.items()) + " }"


@pytest.fixture(scope="module")
def running_service(demo_fhir: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    work = tmp_path_factory.mktemp("serve")
    signer = ClientSigner.generate("ES384", issuer=ISSUER, kid="ehr-1")
    key = work / "client.pem"
    key.write_bytes(signer.private_pem())
    port = free_port()
    config = work / "rheum-cds.toml"
    config.write_text(
        f"""
[service]
base_url = "http://127.0.0.1:{port}"

[storage]
url = "sqlite:///{work / "audit.db"}"

[[clients]]
issuer = "{ISSUER}"
jwks = {{ keys = [{_toml_table(signer.public_jwk())}] }}
fhir_servers = ["{demo_fhir}"]
""",
        encoding="utf-8",
    )
    log = (work / "serve.log").open("wb")
    cmd = [sys.executable, "-m", "cds_service.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [*cmd, "--config", str(config), "--workers", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=work,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            pytest.fail((work / "serve.log").read_text(errors="replace")[-3000:])
        yield {"base": base, "key": str(key), "fhir": demo_fhir}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def _try(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = cli_main(["try", *argv])
    return status, out.getvalue() + err.getvalue()


def test_signed_calls_to_a_running_service(running_service: dict) -> None:
    common = [
        "--service",
        running_service["base"],
        "--fhir",
        running_service["fhir"],
        "--patient",
        "demo-ra-ckd4",
        "--drug",
        "baricitinib",
        "--dose",
        "4",
        "--per-day",
        "1",
        "--sign-with",
        running_service["key"],
        "--issuer",
        ISSUER,
        "--kid",
        "ehr-1",
    ]
    rules = []
    for mode in ("--prefetch", "--no-prefetch"):
        status, out = _try(*common, mode)
        assert status == 0, out
        assert "HTTP 200" in out
        rules.append(out.split("rule ids:")[-1].strip())
    assert rules[0] == rules[1]
    assert "JAKI-RENAL-DOSE (critical)" in rules[0]


def test_unsigned_call_is_refused(running_service: dict) -> None:
    status, out = _try(
        "--service",
        running_service["base"],
        "--fhir",
        running_service["fhir"],
        "--patient",
        "demo-ra-ckd4",
        "--drug",
        "baricitinib",
    )
    assert status == 1
    assert "HTTP 401" in out

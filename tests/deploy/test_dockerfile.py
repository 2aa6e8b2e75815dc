"""The Dockerfile: a linter, and its steps run in a fresh virtual environment.

No image can be built here (no base image can be pulled), so the test does what the image
does: the Dockerfile's `pip install` of the repository (with the same extras) into a new venv,
then its CMD (gunicorn with deploy/gunicorn.conf.py) and its HEALTHCHECK command, read from the
Dockerfile itself so that they cannot drift apart.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, REPO
from tests.fixtures.processes import free_port

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def exec_form(args: str) -> list[str]:
    return json.loads(args)


def test_hadolint_passes(hadolint: Path) -> None:
    result = subprocess.run(  # noqa: S603 - fixed argv
        [str(hadolint), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_a_real_check(hadolint: Path, tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install flask\n", encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - fixed argv
        [str(hadolint), "--no-color", str(bad)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged base image


def test_image_runs_as_non_root_with_a_healthcheck() -> None:
    steps = instructions()
    kinds = [k for k, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    user = [args for k, args in steps if k == "USER"]
    assert user and user[-1].split(":")[0] not in {"0", "root"}
    assert kinds.index("USER") < kinds.index("CMD")
    assert "HEALTHCHECK" in kinds
    (health,) = [args for k, args in steps if k == "HEALTHCHECK"]
    assert "/healthz" in health


@pytest.mark.slow
def test_dockerfile_steps_in_a_fresh_venv(tmp_path: Path) -> None:
    steps = instructions()
    (install,) = [args for k, args in steps if k == "RUN" and "pip install" in args]
    pip_args = shlex.split(install.split("&&")[0])[2:]  # after "pip install"
    target = next(a for a in pip_args if a.startswith("/src"))
    extras = target[len("/src") :]
    cmd = exec_form(next(args for k, args in steps if k == "CMD"))
    health = next(args for k, args in steps if k == "HEALTHCHECK")
    health_cmd = exec_form(health[health.index("CMD") + 3 :].strip())
    copies = [args.split()[-1] for k, args in steps if k == "COPY"]
    conf_in_image = next(c for c in copies if c.endswith("gunicorn.conf.py"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    flags = [a for a in pip_args if a.startswith("-") and a != "--no-cache-dir"]
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - argv from the Dockerfile
        [str(python), "-m", "pip", "install", "-q", *flags, f"{REPO}{extras}"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    install_s = time.monotonic() - started

    # the installed package carries the card catalogue and the demo bundles (no source tree)
    probe = subprocess.run(  # noqa: S603
        [
            str(python),
            "-c",
            "import cards, cds_service.demo_data as d; "
            "print(len(d.demo_patients()), len(list(d.HERE.glob('demo-*.json'))))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    patients, files = map(int, probe.stdout.split())
    assert patients >= 15 and files == patients

    help_out = subprocess.run(  # noqa: S603
        [str(venv / "bin" / "rheum-cds"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert help_out.returncode == 0
    for command in ("serve", "load-demo", "try"):
        assert command in help_out.stdout

    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
        "PORT": str(port),
        "GUNICORN_WORKERS": "2",
        "RHEUM_CDS_STORAGE_URL": f"sqlite:///{tmp_path / 'rheum-cds.db'}",
        "RHEUM_CDS_CONFIG": str(DEPLOY / "compose" / "rheum-cds.toml"),  # as compose mounts it
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    argv = [str(venv / "bin" / cmd[0]), *cmd[1:]]
    argv[argv.index(conf_in_image)] = str(DEPLOY / "gunicorn.conf.py")
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - the CMD of the Dockerfile
        argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        healthy = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and healthy is None:
            check = subprocess.run(  # noqa: S603 - the HEALTHCHECK command of the Dockerfile
                [str(python), *health_cmd[1:]] if health_cmd[0] == "python" else health_cmd,
                env=env,
                capture_output=True,
                timeout=30,
                check=False,
            )
            if check.returncode == 0:
                healthy = True
            else:
                time.sleep(0.5)
        assert healthy, (tmp_path / "gunicorn.log").read_text(errors="replace")[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/cds-services", timeout=10) as r:
            services = json.load(r)["services"]
        assert {s["id"] for s in services} == {
            "rheum-order-sign",
            "rheum-order-select",
            "rheum-patient-view",
        }
        # the mounted configuration is in force: its local codes are part of the prefetch
        observations = services[0]["prefetch"]["observations"]
        assert "http://example.org/rheum-cds/demo-lab|KL6" in observations
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
    down = subprocess.run(  # noqa: S603
        [str(python), *health_cmd[1:]], env=env, capture_output=True, timeout=30, check=False
    )
    assert down.returncode != 0  # the healthcheck fails once the service is gone
    print(f"fresh venv install: {install_s:.1f} s")

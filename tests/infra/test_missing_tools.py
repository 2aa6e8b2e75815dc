"""Without Java and Maven, a FHIR test is skipped with a message naming what to install on a
developer machine, and fails under CI=true (a nested pytest run with an empty PATH)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGET = "tests/infra/test_hapi_smoke.py::test_missing_resource_is_a_404_with_an_operation_outcome"


def _run_without_java(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "RHEUM_CDS_TEST_FHIR_BASE"}}
    env["PATH"] = str(tmp_path)  # nothing in it: no java, no mvn
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", TARGET],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_skipped_with_what_to_install_on_a_developer_machine(tmp_path: Path) -> None:
    result = _run_without_java(tmp_path, ci=None)

    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 skipped" in result.stdout
    assert "java and mvn" in result.stdout
    assert "openjdk-17-jdk-headless maven" in result.stdout


def test_a_failure_under_ci(tmp_path: Path) -> None:
    result = _run_without_java(tmp_path, ci="true")

    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 error" in result.stdout
    assert "CI=true" in result.stdout

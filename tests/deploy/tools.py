"""Build-once tools for the deployment tests: helm, kubeconform, Kubernetes JSON schemas.

- helm and kubeconform are built with `go install` from the Go module proxy (pinned versions
  below) into ~/.cache/rheum-cds-tools/bin (or $RHEUM_CDS_TOOLS_DIR/bin) the first time, and
  reused afterwards.
- kubeconform cannot download schemas here (no internet): the schemas come from the PyPI
  package kubernetes-validate (a test extra), whose `-local-strict` files refer to a shared
  `/api/_definitions.json` by an absolute `$id`. They are rewritten once into the cache with
  relative references so kubeconform resolves them from disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

HELM_MODULE = "helm.sh/helm/v3/cmd/helm"
HELM_VERSION = "v3.22.0"
KUBECONFORM_MODULE = "github.com/yannh/kubeconform/cmd/kubeconform"
KUBECONFORM_VERSION = "v0.8.0"
KUBERNETES_VERSION = "1.37.0"  # newest schema set shipped by kubernetes-validate 1.37
BUILD_TIMEOUT_S = 900


class ToolUnavailable(RuntimeError):
    """A tool could not be had; the message says what to install."""


def cache_dir() -> Path:
    root = os.environ.get("RHEUM_CDS_TOOLS_DIR")
    return Path(root) if root else Path.home() / ".cache" / "rheum-cds-tools"


def go_tool(name: str, module: str, version: str) -> Path:
    """Path of `name`, built with `go install module@version` into the cache if missing."""
    bin_dir = cache_dir() / "bin" / f"{name}-{version}"
    binary = bin_dir / name
    if binary.is_file():
        return binary
    go = shutil.which("go") or next(
        (str(p) for p in (Path("/usr/local/go/bin/go"),) if p.is_file()), None
    )
    if go is None:
        raise ToolUnavailable(f"{name} is built with Go: install Go 1.24 or newer (go on PATH)")
    bin_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(bin_dir), "CGO_ENABLED": "0"}
    result = subprocess.run(  # noqa: S603 - fixed argv
        [go, "install", f"{module}@{version}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0 or not binary.is_file():
        raise ToolUnavailable(f"go install {module}@{version} failed:\n{result.stderr[-2000:]}")
    return binary


def _relative_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$id":
                continue
            if key == "$ref" and isinstance(value, str):
                value = value.replace("/api/_definitions.json#", "_definitions.json#")
            out[key] = _relative_refs(value)
        return out
    if isinstance(node, list):
        return [_relative_refs(item) for item in node]
    return node


def kubernetes_schemas() -> Path:
    """A directory laid out as kubeconform's -schema-location template below expects."""
    name = f"v{KUBERNETES_VERSION}-local-strict"
    target = cache_dir() / "k8s-schemas" / name
    marker = target / ".complete"
    if marker.is_file():
        return target.parent
    try:
        import kubernetes_validate
    except ImportError as exc:
        raise ToolUnavailable(
            "Kubernetes schemas come from the PyPI package kubernetes-validate: "
            "pip install -e '.[test]'"
        ) from exc
    source = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / name
    if not source.is_dir():
        raise ToolUnavailable(f"kubernetes-validate has no schemas for {KUBERNETES_VERSION}")
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        (target / path.name).write_text(json.dumps(_relative_refs(data)), encoding="utf-8")
    marker.write_text(KUBERNETES_VERSION)
    return target.parent


def schema_location(schemas: Path) -> str:
    return str(
        schemas / "{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}"
        "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )

"""The Helm chart: lint, Kubernetes schema check of the rendered manifests, and what a
cluster operator relies on (probes, non-root, secrets, autoscaling, the service config)."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

from cds_service.config import config_from_dict
from tests.deploy import tools
from tests.deploy.conftest import CHART


def _run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv
        argv, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def render(helm: Path, *sets: str) -> str:
    argv = [str(helm), "template", "cds", str(CHART), "--namespace", "rheum"]
    for item in sets:
        argv += ["--set", item]
    result = _run(argv)
    assert result.returncode == 0, result.stderr
    return result.stdout


def manifests(text: str) -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(text) if d]
    return {d["kind"]: d for d in docs}


def validate(binary: Path, schemas: Path, text: str) -> subprocess.CompletedProcess[str]:
    return _run(
        [
            str(binary),
            "-strict",
            "-summary",
            "-kubernetes-version",
            tools.KUBERNETES_VERSION,
            "-schema-location",
            tools.schema_location(schemas),
            "-",
        ],
        stdin=text,
    )


def test_helm_lint_passes(helm: Path) -> None:
    result = _run([str(helm), "lint", "--strict", str(CHART)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_rendered_manifests_pass_the_kubernetes_schemas(
    helm: Path, kubeconform: Path, k8s_schemas: Path
) -> None:
    variants = [
        (),
        ("autoscaling.enabled=false", "podDisruptionBudget.enabled=false"),
        ("ingress.enabled=true", "ingress.tlsSecret=cds-tls", "ingress.className=nginx"),
    ]
    for sets in variants:
        text = render(helm, *sets)
        result = validate(kubeconform, k8s_schemas, text)
        assert result.returncode == 0, result.stdout + result.stderr
        kinds = len(manifests(text))
        assert f"Valid: {kinds}, Invalid: 0, Errors: 0, Skipped: 0" in result.stdout


def test_the_schema_check_catches_a_broken_manifest(
    helm: Path, kubeconform: Path, k8s_schemas: Path
) -> None:
    text = render(helm)
    wrong_type = text.replace("runAsNonRoot: true", 'runAsNonRoot: "yes"')
    unknown_field = text.replace("readinessProbe:", "readynessProbe:")
    for broken in (wrong_type, unknown_field):
        assert broken != text
        result = validate(kubeconform, k8s_schemas, broken)
        assert result.returncode != 0
        assert "Deployment" in result.stdout and "is invalid" in result.stdout


def test_deployment_runs_non_root_with_probes_and_limits(helm: Path) -> None:
    docs = manifests(render(helm))
    assert {"Deployment", "Service", "ConfigMap", "Secret", "HorizontalPodAutoscaler"} <= set(docs)
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    container, proxy = pod["containers"]
    assert proxy["name"] == "proxy"
    assert proxy["securityContext"]["readOnlyRootFilesystem"] is True
    assert proxy["resources"]["limits"]["memory"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["limits"]["memory"]
    assert container["resources"]["requests"]["cpu"]
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert "/tmp" in writable  # gunicorn and the metrics files need a writable /tmp
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
    assert "replicas" not in docs["Deployment"]["spec"]  # the HPA owns the replica count


def test_database_url_and_hash_key_come_from_the_secret(helm: Path) -> None:
    docs = manifests(render(helm, "secrets.storageUrl=postgresql+psycopg://u:p@db/rheum"))
    secret = docs["Secret"]
    assert set(secret["data"]) == {"storage-url", "patient-hash-key"}
    env = {
        e["name"]: e for e in docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    for name, key in [
        ("RHEUM_CDS_STORAGE_URL", "storage-url"),
        ("RHEUM_CDS_PATIENT_HASH_KEY", "patient-hash-key"),
    ]:
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": secret["metadata"]["name"], "key": key}
    assert "postgresql" not in docs["ConfigMap"]["data"]["config.toml"]

    existing = manifests(render(helm, "secrets.existingSecret=hospital-db"))
    assert "Secret" not in existing
    env = existing["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    names = {e["valueFrom"]["secretKeyRef"]["name"] for e in env if "valueFrom" in e}
    assert names == {"hospital-db"}


def test_the_configmap_is_a_valid_service_configuration(helm: Path) -> None:
    docs = manifests(render(helm))
    data = tomllib.loads(docs["ConfigMap"]["data"]["config.toml"])
    config = config_from_dict(data, env={})
    assert config.base_url.startswith("https://")
    mount = next(
        m
        for m in docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        if m["name"] == "config"
    )
    env = docs["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "RHEUM_CDS_CONFIG", "value": mount["mountPath"]} in env


def test_fixed_replicas_without_autoscaling(helm: Path) -> None:
    docs = manifests(render(helm, "autoscaling.enabled=false", "replicaCount=3"))
    assert "HorizontalPodAutoscaler" not in docs
    assert docs["Deployment"]["spec"]["replicas"] == 3


def test_ingress_routes_the_public_host_to_the_service(helm: Path) -> None:
    assert "Ingress" not in manifests(render(helm))
    docs = manifests(
        render(
            helm, "ingress.enabled=true", "ingress.host=cds.hospital.example", "ingress.tlsSecret=t"
        )
    )
    rule = docs["Ingress"]["spec"]["rules"][0]
    assert rule["host"] == "cds.hospital.example"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]
    assert docs["Ingress"]["spec"]["tls"][0]["hosts"] == ["cds.hospital.example"]


def test_a_buffering_proxy_fronts_the_service(helm: Path) -> None:
    docs = manifests(render(helm))
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    proxy = next(c for c in pod["containers"] if c["name"] == "proxy")
    (port,) = docs["Service"]["spec"]["ports"]
    assert port["targetPort"] == "proxy" == proxy["ports"][0]["name"]
    conf = docs["ConfigMap"]["data"]["nginx.conf"]
    for directive in (
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "proxy_request_buffering on;",
        "server 127.0.0.1:8080;",
        "listen 8081;",
    ):
        assert directive in conf
    mount = next(m for m in proxy["volumeMounts"] if m["mountPath"] == "/etc/nginx/nginx.conf")
    assert mount["subPath"] == "nginx.conf"

    direct = manifests(render(helm, "proxy.enabled=false"))
    assert [c["name"] for c in direct["Deployment"]["spec"]["template"]["spec"]["containers"]] == [
        "rheum-cds"
    ]
    assert direct["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    assert "nginx.conf" not in direct["ConfigMap"]["data"]

"""What the chart tests share: the chart's path, value sets and helpers that read rendered objects."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "bedside"
KUBE_VERSION = "1.34.0"  # the Kubernetes release whose schemas every manifest must satisfy
RELEASE = "bedside"
NAMESPACE = "bedside"

DEFAULTS: dict[str, Any] = {}
POSTGRES_3: dict[str, Any] = {
    "replicaCount": 3,
    "database": {"type": "postgresql", "existingSecret": "bedside-db"},
    "keysSecret": "bedside-keys",  # every key every replica must share, from one Secret
    "subjectKey": {"existingSecret": "bedside-subject"},  # except this one, from its own
}
EXISTING_SECRETS: dict[str, Any] = {
    "upstream": {"url": "https://api.openai.com/v1", "existingSecret": "openai", "key": "token"},
    "policies": {"existingConfigMap": "team-policies"},
    "extraEnv": [{"name": "BEDSIDE_TIMEOUTS__READ", "value": "90"}],
    "extraEnvFrom": [{"secretRef": {"name": "bedside-extra"}}],
}
INGRESS: dict[str, Any] = {
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "annotations": {"nginx.ingress.kubernetes.io/proxy-buffering": "off"},
        "hosts": [{"host": "chat.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
        "tls": [{"secretName": "chat-tls", "hosts": ["chat.example.com"]}],
    },
}
POLICY_FILES: dict[str, Any] = {
    "policies": {"files": {p.name: p.read_text() for p in sorted((ROOT / "policies").glob("*.yaml"))}},
    "config": {"timeouts": {"read": 90}},
}
#: the scale-out install docs/deploy.md describes: every optional object on, every secret by reference
PRODUCTION: dict[str, Any] = {
    "replicaCount": 3,
    "upstream": {
        "url": "https://api.openai.com/v1",
        "existingSecret": "openai",
        "apiKeySecrets": [{"env": "AZURE_OPENAI_KEY", "existingSecret": "azure-openai", "key": "api-key"}],
    },
    "config": {"upstreams": [{"name": "azure", "base_url": "https://example.openai.azure.com/openai/v1", "api_key_env": "AZURE_OPENAI_KEY", "models": ["gpt-4o*"]}]},
    "database": {"type": "postgresql", "existingSecret": "bedside-db"},
    "subjectKey": {"existingSecret": "bedside-subject"},
    "auditSigningKey": {"existingSecret": "bedside-audit"},
    "privacySubjectKey": {"existingSecret": "bedside-privacy-subject"},
    "piiHashKey": {"existingSecret": "bedside-pii-hash"},
    "clientKeys": {"existingSecret": "bedside-client-keys"},
    "gitSync": {"enabled": True, "repo": "https://git.example.com/acme/bedside-policies.git", "ref": "main", "subPath": "policies", "https": {"existingSecret": "policy-repo"}},
    "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 5},
    "networkPolicy": {"enabled": True, "ingress": {"namespaces": ["ingress-nginx", "monitoring"]}, "egress": {"database": {"to": [{"ipBlock": {"cidr": "10.20.0.5/32"}}]}}},
    "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}, "bearerTokenSecret": {"name": "bedside-metrics"}}},
    "grafanaDashboard": {"enabled": True, "annotations": {"grafana_folder": "Bedside"}},
}
VALUE_SETS = {
    "defaults": DEFAULTS,
    "postgres-3": POSTGRES_3,
    "existing-secrets": EXISTING_SECRETS,
    "ingress": INGRESS,
    "policy-files": POLICY_FILES,
    "production": PRODUCTION,
}
#: custom resources Kubernetes itself has no schema for (checked field by field in the tests instead)
CUSTOM_RESOURCES = {"ServiceMonitor"}
#: the one value every install must give (Bedside refuses to start without a KEK); added to every
#: value set unless a test says ``kek`` itself
KEK: dict[str, Any] = {"kek": {"existingSecret": "bedside-kek"}}


def with_kek(values: dict[str, Any]) -> dict[str, Any]:
    return values if "kek" in values else {**KEK, **values}


def dev_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:  # ImportError, or helm_python's HelmLibraryError for an unloadable libhelm_c
        message = f"{name} is not importable ({exc}): install the dev extras, e.g. `pip install -e '.[dev]'` (or `make test`)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs the chart tests: {message}", pytrace=False)
        pytest.skip(message)


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def kinds(objects: list[dict[str, Any]]) -> set[str]:
    return {o["kind"] for o in objects}


def container(objects: list[dict[str, Any]], kind: str = "Deployment", name: str | None = None) -> dict[str, Any]:
    """The Deployment's ``bedside`` container (or the one named), or a Job's only container."""
    containers = one(objects, kind)["spec"]["template"]["spec"]["containers"]
    name = name or ("bedside" if kind == "Deployment" else None)
    if name is None:
        assert len(containers) == 1
        return containers[0]
    (found,) = [c for c in containers if c["name"] == name]
    return found


def env_of(c: dict[str, Any]) -> dict[str, Any]:
    """name -> value, or the valueFrom mapping for variables read from Secrets."""
    names = [e["name"] for e in c.get("env", [])]
    assert len(names) == len(set(names)), f"duplicate env vars: {names}"
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def volumes_of(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]}


def mounts_of(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in c["volumeMounts"]}

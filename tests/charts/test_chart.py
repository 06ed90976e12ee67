"""The Helm chart (charts/bedside) renders, lints and validates offline.

helm-python-sdk renders and lints the chart through Helm's own Go SDK (no ``helm`` binary, no
cluster); kubernetes-validate checks every rendered object against the Kubernetes schemas of
one recent release. Both are dev extras: without them these tests fail in CI (``CI=true``) and
are skipped locally with a hint. Rendering is offline: the suite's network guard records any
attempt made from Python, and each test asserts there was none.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.charts.chart_support import (
    CHART,
    CUSTOM_RESOURCES,
    DEFAULTS,
    EXISTING_SECRETS,
    INGRESS,
    KEK,
    KUBE_VERSION,
    NAMESPACE,
    POLICY_FILES,
    POSTGRES_3,
    RELEASE,
    ROOT,
    VALUE_SETS,
    container,
    env_of,
    kinds,
    mounts_of,
    one,
    volumes_of,
    with_kek,
)

# --- defaults ---------------------------------------------------------------------------------


def test_defaults_are_one_sqlite_replica_with_probes_and_a_locked_down_pod(render: Any) -> None:
    objects, notes = render(DEFAULTS)
    assert kinds(objects) == {"Deployment", "Service", "ServiceAccount", "PersistentVolumeClaim", "PodDisruptionBudget"}
    assert all(o["metadata"]["namespace"] == NAMESPACE for o in objects)

    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}  # one SQLite file: never two pods
    c = container(objects)
    assert c["image"] == f"bedside:{yaml.safe_load((CHART / 'Chart.yaml').read_text())['appVersion']}"
    assert c["args"] == ["serve"]
    env = env_of(c)
    assert env["BEDSIDE_SERVER__HOST"] == "0.0.0.0"
    assert env["BEDSIDE_SERVER__PORT"] == "8080"
    assert env["BEDSIDE_DATA_DIR"] == "/data"
    assert env["BEDSIDE_POLICY__DIRECTORY"] == "/etc/bedside/policies"
    assert env["BEDSIDE_DATABASE__AUTO_MIGRATE"] == "true"
    assert "BEDSIDE_DATABASE__URL" not in env  # the embedded SQLite default
    assert "BEDSIDE_UPSTREAM_URL" not in env and "BEDSIDE_UPSTREAM_API_KEY" not in env  # demo model

    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}

    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    mounts, volumes = mounts_of(c), volumes_of(objects)
    assert volumes[mounts["/data"]["name"]]["persistentVolumeClaim"]["claimName"] == one(objects, "PersistentVolumeClaim")["metadata"]["name"]
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    assert "/etc/bedside/policies" not in mounts  # the image's example policies
    assert "annotations" not in deployment["spec"]["template"]["metadata"]

    service = one(objects, "Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert pod["serviceAccountName"] == one(objects, "ServiceAccount")["metadata"]["name"]
    assert "DEMO UPSTREAM" in notes and "bedside keys create" in notes


# --- PostgreSQL, several replicas ---------------------------------------------------------------


def test_postgresql_with_three_replicas_reads_the_url_from_a_secret_and_migrates_once(render: Any) -> None:
    objects, notes = render(POSTGRES_3)
    assert "PersistentVolumeClaim" not in kinds(objects)
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"

    c = container(objects)
    env = env_of(c)
    assert env["BEDSIDE_DATABASE__URL"] == {"secretKeyRef": {"name": "bedside-db", "key": "url"}}
    assert env["BEDSIDE_DATABASE__AUTO_MIGRATE"] == "false"  # the Job migrates; replicas never race
    volumes = volumes_of(objects)
    assert "emptyDir" in volumes[mounts_of(c)["/data"]["name"]]
    subject = mounts_of(c)["/data/subject.key"]
    assert subject["subPath"] == "subject.key" and subject["readOnly"] is True
    assert volumes[subject["name"]]["secret"]["secretName"] == "bedside-subject"

    job = one(objects, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    migrate = container(objects, "Job")
    assert migrate["args"] == ["db", "upgrade"]
    assert migrate["image"] == c["image"]
    assert env_of(migrate)["BEDSIDE_DATABASE__URL"] == env["BEDSIDE_DATABASE__URL"]
    assert migrate["securityContext"]["readOnlyRootFilesystem"] is True
    assert "PostgreSQL" in notes and "3 replica" in notes


def test_the_kek_is_required_and_mounted_from_its_secret(helm: ModuleType, render: Any) -> None:
    with pytest.raises(helm.HelmRenderError) as failure:
        render({"kek": {"existingSecret": ""}})
    message = str(failure.value)
    assert "kek.existingSecret is required" in message and "bedside kek generate --out kek.key" in message
    objects, _ = render({"kek": {"existingSecret": "team-kek", "key": "current"}})
    c = container(objects)
    assert env_of(c)["BEDSIDE_PRIVACY__KEK_FILE"] == "/etc/bedside/kek/kek.key"
    assert mounts_of(c)["/etc/bedside/kek"]["readOnly"] is True
    secret = volumes_of(objects)["kek"]["secret"]
    assert secret["secretName"] == "team-kek" and secret["items"] == [{"key": "current", "path": "kek.key"}]
    assert secret["defaultMode"] == 0o440


def test_the_audit_signing_key_is_mounted_from_its_secret_when_given(render: Any) -> None:
    objects, _ = render({})
    assert "BEDSIDE_AUDIT__SIGNING_KEY_FILE" not in env_of(container(objects))  # default: generated on the data volume
    objects, _ = render({"auditSigningKey": {"existingSecret": "team-audit", "key": "signing"}})
    c = container(objects)
    assert env_of(c)["BEDSIDE_AUDIT__SIGNING_KEY_FILE"] == "/etc/bedside/audit/audit-signing.key"
    assert mounts_of(c)["/etc/bedside/audit"]["readOnly"] is True
    secret = volumes_of(objects)["audit-signing-key"]["secret"]
    assert secret["secretName"] == "team-audit" and secret["items"] == [{"key": "signing", "path": "audit-signing.key"}]


def test_sqlite_with_more_than_one_replica_fails_with_a_clear_message(helm: ModuleType, render: Any) -> None:
    with pytest.raises(helm.HelmRenderError) as failure:
        render({"replicaCount": 3})
    message = str(failure.value)
    assert "replicaCount=3 needs PostgreSQL" in message
    assert "serves a single replica only" in message
    assert "database.type=postgresql" in message and "database.existingSecret" in message


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"database": {"type": "postgresql"}}, "database.type=postgresql needs database.existingSecret"),
        ({"policies": {"files": {"a.yaml": "name: a"}, "existingConfigMap": "x"}}, "either policies.files"),
        ({"podDisruptionBudget": {"minAvailable": 1}}, "minAvailable or maxUnavailable, not both"),
    ],
)
def test_contradictory_values_fail_rendering(helm: ModuleType, render: Any, values: dict[str, Any], expected: str) -> None:
    with pytest.raises(helm.HelmRenderError, match=re.escape(expected)):
        render(values)


@pytest.mark.parametrize(
    "values",
    [
        {"database": {"type": "mysql"}},
        {"replicas": 2},  # a typo: unknown keys are refused
        {"policies": {"files": {"nested/dir.yaml": "name: x"}}},
        {"upstream": {"url": "api.openai.com"}},
    ],
)
def test_schema_refuses_bad_values(helm: ModuleType, render: Any, values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        render(values)


# --- secrets, policies, ingress -------------------------------------------------------------------


def test_existing_secrets_and_policy_configmap_are_wired(render: Any) -> None:
    objects, notes = render(EXISTING_SECRETS)
    assert "ConfigMap" not in kinds(objects)  # the ConfigMap exists already
    c = container(objects)
    env = env_of(c)
    assert env["BEDSIDE_UPSTREAM_URL"] == "https://api.openai.com/v1"
    assert env["BEDSIDE_UPSTREAM_API_KEY"] == {"secretKeyRef": {"name": "openai", "key": "token"}}
    assert env["BEDSIDE_TIMEOUTS__READ"] == "90"
    assert c["envFrom"] == [{"secretRef": {"name": "bedside-extra"}}]
    policies = mounts_of(c)["/etc/bedside/policies"]
    assert "subPath" not in policies  # a subPath mount would never see ConfigMap updates
    assert volumes_of(objects)[policies["name"]]["configMap"]["name"] == "team-policies"
    assert "checksum/policies" not in one(objects, "Deployment")["spec"]["template"]["metadata"].get("annotations", {})
    assert "DEMO UPSTREAM" not in notes


def test_policy_files_become_a_configmap_that_bedside_loads(render: Any, tmp_path: Path) -> None:
    objects, _ = render(POLICY_FILES)
    configmaps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    policies_cm = configmaps[f"{RELEASE}-policies"]
    files = POLICY_FILES["policies"]["files"]
    assert policies_cm["data"] == files
    c = container(objects)
    assert volumes_of(objects)[mounts_of(c)["/etc/bedside/policies"]["name"]]["configMap"]["name"] == policies_cm["metadata"]["name"]

    config_cm = configmaps[f"{RELEASE}-config"]
    assert yaml.safe_load(config_cm["data"]["bedside.yaml"]) == {"timeouts": {"read": 90}}
    assert env_of(c)["BEDSIDE_CONFIG"] == "/etc/bedside/config/bedside.yaml"

    # What the pod would see in its policy directory is a valid policy set.
    from proxy.policy.policy_set import load_policy_set

    for name, text in policies_cm["data"].items():
        (tmp_path / name).write_text(text)
    assert load_policy_set(tmp_path).version


def test_policy_change_rolls_pods_only_when_asked(render: Any) -> None:
    def annotations(values: dict[str, Any]) -> dict[str, str]:
        objects, _ = render(values)
        return one(objects, "Deployment")["spec"]["template"]["metadata"].get("annotations", {})

    files = {"default.yaml": (ROOT / "policies" / "default.yaml").read_text(), "_base.yaml": (ROOT / "policies" / "_base.yaml").read_text()}
    before = annotations({"policies": {"files": files}})["checksum/policies"]
    edited = {**files, "default.yaml": files["default.yaml"] + "\n# edited\n"}
    after = annotations({"policies": {"files": edited}})["checksum/policies"]
    assert re.fullmatch(r"[0-9a-f]{64}", before) and before != after
    # Hot reload preferred: the pods keep running and the policy watcher reloads the mounted files.
    objects, notes = render({"policies": {"files": edited, "rollOnChange": False}})
    assert "checksum/policies" not in one(objects, "Deployment")["spec"]["template"]["metadata"].get("annotations", {})
    assert "/etc/bedside/policies" in mounts_of(container(objects))
    assert "hot-reloaded" in notes


def test_ingress_routes_to_the_service(render: Any) -> None:
    objects, notes = render(INGRESS)
    ingress, service = one(objects, "Ingress"), one(objects, "Service")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"secretName": "chat-tls", "hosts": ["chat.example.com"]}]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "chat.example.com"
    (path,) = rule["http"]["paths"]
    assert path["backend"]["service"] == {"name": service["metadata"]["name"], "port": {"number": service["spec"]["ports"][0]["port"]}}
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert "https://chat.example.com/v1" in notes


# --- lint and Kubernetes schemas --------------------------------------------------------------------


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_lint_is_clean(helm: ModuleType, value_set: str) -> None:
    report = helm.lint(CHART, with_kek(VALUE_SETS[value_set]), strict=True, namespace=NAMESPACE, kube_version=f"v{KUBE_VERSION}")
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 2 warning, 3 error
    assert problems == []


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_manifest_is_valid_kubernetes(render: Any, kubernetes_validate: ModuleType, value_set: str) -> None:
    objects, _ = render(VALUE_SETS[value_set])
    assert objects
    for obj in objects:
        if obj["kind"] in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)  # strict: unknown fields are errors
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} is not valid Kubernetes {KUBE_VERSION}: {where}: {exc.message}")


def test_chart_packages_and_the_archive_renders(helm: ModuleType, tmp_path: Path) -> None:
    archive = helm.package(CHART, destination=tmp_path)
    assert Path(archive).name == f"bedside-{yaml.safe_load((CHART / 'Chart.yaml').read_text())['version']}.tgz"
    with helm.Chart.load(archive) as packaged, helm.Chart.load(CHART) as source:
        assert packaged.render(KEK, name=RELEASE, namespace=NAMESPACE) == source.render(KEK, name=RELEASE, namespace=NAMESPACE)


# --- the image and the chart agree ----------------------------------------------------------------


def test_chart_matches_the_image(helm: ModuleType) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    env = dict(re.findall(r"\b(BEDSIDE_[A-Z_]+)=(\S+)", dockerfile))
    with helm.Chart.load(CHART) as chart:
        values, metadata = chart.values, chart.metadata
    assert metadata["appVersion"] == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]  # the image tag
    assert env["BEDSIDE_DATA_DIR"] == "/data"
    assert env["BEDSIDE_POLICY__DIRECTORY"] == "/etc/bedside/policies"
    assert env["BEDSIDE_SERVER__HOST"] == "0.0.0.0"
    assert int(env["BEDSIDE_SERVER__PORT"]) == values["containerPort"]
    assert f"EXPOSE {values['containerPort']}" in dockerfile
    uid = re.search(r"ARG UID=(\d+)", dockerfile)
    assert uid and int(uid.group(1)) == values["podSecurityContext"]["runAsUser"]
    assert 'ENTRYPOINT ["bedside"]' in dockerfile and 'CMD ["serve"]' in dockerfile
    assert "/healthz" in dockerfile.split("HEALTHCHECK", 1)[1]

"""The chart's scale-out objects: secrets by reference, the migration hook, the autoscaler, the
NetworkPolicy, the ServiceMonitor, the Grafana dashboard and graceful shutdown.

Each test renders the chart with helm-python-sdk (Helm's own template engine, offline) and reads
the objects it produced; a value that must be refused is refused with a message naming the field.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.chart_support import (
    CHART,
    POSTGRES_3,
    PRODUCTION,
    RELEASE,
    ROOT,
    container,
    env_of,
    kinds,
    mounts_of,
    one,
    volumes_of,
    with_kek,
)

# --- secrets by reference ----------------------------------------------------------------------


def test_every_secret_reaches_the_pod_by_reference_and_no_configmap_holds_one(render: Any) -> None:
    objects, _ = render(PRODUCTION)
    env = env_of(container(objects))
    assert env["BEDSIDE_UPSTREAM_API_KEY"] == {"secretKeyRef": {"name": "openai", "key": "api-key"}}
    assert env["AZURE_OPENAI_KEY"] == {"secretKeyRef": {"name": "azure-openai", "key": "api-key"}}  # config.upstreams[].api_key_env
    assert env["BEDSIDE_API_KEYS"] == {"secretKeyRef": {"name": "bedside-client-keys", "key": "api-keys.json"}}
    assert env["BEDSIDE_DATABASE__URL"] == {"secretKeyRef": {"name": "bedside-db", "key": "url"}}
    assert env["BEDSIDE_PRIVACY__KEK_FILE"] == "/etc/bedside/kek/kek.key"
    assert env["BEDSIDE_AUDIT__SIGNING_KEY_FILE"] == "/etc/bedside/audit/audit-signing.key"
    assert "Secret" not in kinds(objects)  # the chart never makes one: it only names yours
    config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == f"{RELEASE}-config")
    assert "api_key_env: AZURE_OPENAI_KEY" in config["data"]["bedside.yaml"]
    assert "api_key:" not in config["data"]["bedside.yaml"]


def test_client_keys_from_a_secret_are_what_bedside_reads_as_api_keys(render: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Secret's value format the chart documents (a JSON list of hashed keys) is one Bedside accepts."""
    from proxy.auth import hash_key
    from proxy.settings import Settings

    objects, _ = render({"clientKeys": {"existingSecret": "keys", "key": "list"}})
    (name,) = [n for n, v in env_of(container(objects)).items() if v == {"secretKeyRef": {"name": "keys", "key": "list"}}]
    secret_value = json.dumps([{"tenant": "acme", "sha256": hash_key("bsk-acme"), "scopes": ["chat"]}, {"tenant": "ops", "sha256": hash_key("bsk-ops"), "scopes": ["metrics"]}])
    monkeypatch.setenv(name, secret_value)
    keys = Settings().api_keys
    assert [(k.tenant, k.scopes) for k in keys] == [("acme", ["chat"]), ("ops", ["metrics"])]


def test_one_keys_secret_gives_every_replica_the_same_five_keys(render: Any) -> None:
    objects, _ = render({"database": {"type": "postgresql", "existingSecret": "bedside-db"}, "keysSecret": "bedside-keys", "kek": {"existingSecret": ""}})
    c = container(objects)
    env, mounts = env_of(c), mounts_of(c)
    assert env["BEDSIDE_PRIVACY__KEK_FILE"] == "/etc/bedside/kek/kek.key"
    assert env["BEDSIDE_AUDIT__SIGNING_KEY_FILE"] == "/etc/bedside/audit/audit-signing.key"
    assert env["BEDSIDE_PRIVACY__SUBJECT_KEY_FILE"] == "/etc/bedside/privacy/privacy-subject.key"
    for path in ("/data/subject.key", "/data/pii-hash.key"):  # where Bedside looks by default; the rest of /data stays writable
        assert mounts[path]["subPath"] == path.rsplit("/", 1)[1] and mounts[path]["readOnly"] is True
    secrets = {v["name"]: v["secret"] for v in volumes_of(objects).values() if "secret" in v}
    assert {s["secretName"] for s in secrets.values()} == {"bedside-keys"}
    assert sorted(item["key"] for s in secrets.values() for item in s["items"]) == ["audit-signing.key", "kek.key", "pii-hash.key", "privacy-subject.key", "subject.key"]
    for name, value in env.items():  # what the settings name is what the volumes hold
        if name.endswith("_FILE") and value.startswith("/etc/bedside/"):
            directory, file = value.rsplit("/", 1)
            (mount,) = [m for m in mounts.values() if m["mountPath"] == directory]
            assert [item["path"] for item in secrets[mount["name"]]["items"]] == [file]


def test_postgresql_without_the_shared_keys_stops_rendering_and_names_them(helm: Any, render: Any) -> None:
    with pytest.raises(helm.HelmRenderError) as failure:
        render({"database": {"type": "postgresql", "existingSecret": "bedside-db"}, "auditSigningKey": {"existingSecret": "audit"}})
    message = str(failure.value)
    assert "privacySubjectKey.existingSecret, subjectKey.existingSecret, piiHashKey.existingSecret" in message
    assert "auditSigningKey.existingSecret" not in message and "keysSecret" in message and "users not found again" in message
    objects, _ = render({})  # SQLite keeps generated keys on its persistent volume: none is required
    assert "BEDSIDE_PRIVACY__SUBJECT_KEY_FILE" not in env_of(container(objects))


@pytest.mark.parametrize(
    ("config", "field", "remedy"),
    [
        ({"upstream_api_key": "sk-inline"}, "config.upstream_api_key", "upstream.existingSecret"),
        ({"upstreams": [{"name": "a", "base_url": "https://a.example/v1", "api_key": "sk-inline"}]}, "config.upstreams[0].api_key", "upstream.apiKeySecrets"),
        ({"database": {"url": "postgresql+psycopg://u:pw@db/b"}}, "config.database.url", "database.existingSecret"),
        ({"audit": {"signing_key_file": "/x"}}, "config.audit.signing_key_file", "auditSigningKey.existingSecret"),
    ],
)
def test_a_secret_written_into_config_stops_rendering(helm: Any, render: Any, config: dict[str, Any], field: str, remedy: str) -> None:
    with pytest.raises(helm.HelmRenderError) as failure:
        render({"config": config})
    message = str(failure.value)
    assert field in message and remedy in message
    assert "sk-inline" not in message and "pw@" not in message  # the refusal does not repeat the secret


# --- the migration Job ------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["install", "upgrade"])
def test_the_migration_job_runs_before_install_and_before_upgrade(helm: Any, phase: str) -> None:
    with helm.Chart.load(CHART) as chart:
        files = chart.render(with_kek(POSTGRES_3), name=RELEASE, namespace=RELEASE, is_install=phase == "install", is_upgrade=phase == "upgrade")
    job = yaml.safe_load(files[f"{RELEASE}/templates/migration-job.yaml"])
    hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
    assert hooks == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]  # a re-run replaces the last Job
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]


# --- the autoscaler ------------------------------------------------------------------------------------


def test_the_autoscaler_owns_the_replica_count(render: Any) -> None:
    objects, _ = render(PRODUCTION)
    deployment, hpa = one(objects, "Deployment"), one(objects, "HorizontalPodAutoscaler")
    assert "replicas" not in deployment["spec"]  # a helm upgrade must not reset what the autoscaler chose
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
    assert container(objects)["resources"]["requests"]["cpu"]  # utilisation is relative to the request


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"autoscaling": {"enabled": True}}, "autoscaling.enabled needs PostgreSQL"),
        ({**POSTGRES_3, "autoscaling": {"enabled": True, "minReplicas": 4, "maxReplicas": 2}}, "autoscaling.minReplicas=4 is above autoscaling.maxReplicas=2"),
        ({**POSTGRES_3, "autoscaling": {"enabled": True, "targetCPUUtilizationPercentage": None}}, "autoscaling.enabled needs a target"),
    ],
)
def test_autoscaling_that_cannot_work_stops_rendering(helm: Any, render: Any, values: dict[str, Any], expected: str) -> None:
    with pytest.raises(helm.HelmRenderError, match=re.escape(expected)):
        render(values)


# --- the NetworkPolicy ---------------------------------------------------------------------------------


def _ports(rule: dict[str, Any]) -> set[tuple[Any, str]]:
    return {(p["port"], p["protocol"]) for p in rule["ports"]}


def test_the_network_policy_lets_in_the_listed_namespaces_and_out_only_to_dns_database_upstreams_and_git(render: Any) -> None:
    objects, _ = render(PRODUCTION)
    policy = one(objects, "NetworkPolicy")["spec"]
    assert policy["podSelector"]["matchLabels"] == one(objects, "Deployment")["spec"]["selector"]["matchLabels"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    (ingress,) = policy["ingress"]
    assert _ports(ingress) == {("http", "TCP")}
    allowed = [peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name") for peer in ingress["from"]]
    assert allowed == [None, "ingress-nginx", "monitoring"]  # its own namespace (podSelector {}) first
    assert ingress["from"][0] == {"podSelector": {}}

    dns, database, upstreams, git = policy["egress"]
    assert _ports(dns) == {(53, "UDP"), (53, "TCP")}
    assert dns["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    assert database["to"] == [{"ipBlock": {"cidr": "10.20.0.5/32"}}] and _ports(database) == {(5432, "TCP")}
    assert _ports(upstreams) == {(443, "TCP")}
    assert _ports(git) == {(443, "TCP"), (22, "TCP")}


def test_the_network_policy_without_git_sync_has_no_git_rule_and_sqlite_no_database_rule(render: Any) -> None:
    objects, _ = render({"networkPolicy": {"enabled": True}})
    egress = one(objects, "NetworkPolicy")["spec"]["egress"]
    assert [_ports(rule) for rule in egress] == [{(53, "UDP"), (53, "TCP")}, {(443, "TCP")}]


def test_a_network_policy_that_would_cut_off_postgresql_stops_rendering(helm: Any, render: Any) -> None:
    with pytest.raises(helm.HelmRenderError) as failure:
        render({**POSTGRES_3, "networkPolicy": {"enabled": True}})
    assert "networkPolicy.egress.database.to" in str(failure.value) and "could not reach their database" in str(failure.value)


# --- metrics: the ServiceMonitor and the dashboard -------------------------------------------------------


def test_the_service_monitor_scrapes_metrics_with_the_metrics_key_from_a_secret(render: Any) -> None:
    objects, _ = render(PRODUCTION)
    monitor, service = one(objects, "ServiceMonitor"), one(objects, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"  # what Prometheus selects monitors by
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()  # it finds the Service
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [RELEASE]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] == service["spec"]["ports"][0]["name"] and endpoint["path"] == "/metrics"
    assert endpoint["authorization"] == {"type": "Bearer", "credentials": {"name": "bedside-metrics", "key": "token"}}
    assert re.fullmatch(r"\d+s", endpoint["interval"]) and re.fullmatch(r"\d+s", endpoint["scrapeTimeout"])


def test_without_a_token_secret_the_monitor_scrapes_open_mode_and_off_there_is_none(render: Any) -> None:
    objects, _ = render({"metrics": {"serviceMonitor": {"enabled": True}}})
    assert "authorization" not in one(objects, "ServiceMonitor")["spec"]["endpoints"][0]
    objects, _ = render({})
    assert "ServiceMonitor" not in kinds(objects)


def test_the_grafana_dashboard_ships_for_the_sidecar(render: Any) -> None:
    docs_copy = ROOT / "docs" / "dashboards" / "bedside-grafana.json"
    chart_copy = CHART / "dashboards" / "bedside-grafana.json"
    assert chart_copy.read_bytes() == docs_copy.read_bytes(), "the chart's dashboard is a copy of docs/dashboards/bedside-grafana.json: copy it again"
    objects, _ = render({"grafanaDashboard": {"enabled": True, "namespace": "monitoring", "annotations": {"grafana_folder": "Bedside"}}})
    (configmap,) = [o for o in objects if o["kind"] == "ConfigMap"]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert configmap["metadata"]["namespace"] == "monitoring"
    assert configmap["metadata"]["annotations"] == {"grafana_folder": "Bedside"}
    assert json.loads(configmap["data"]["bedside-grafana.json"]) == json.loads(docs_copy.read_text())


# --- graceful shutdown -------------------------------------------------------------------------------------


def test_shutdown_sleeps_in_pre_stop_then_drains_within_the_grace_kubernetes_waits_for(render: Any) -> None:
    objects, _ = render(PRODUCTION)
    c = container(objects)
    assert c["lifecycle"]["preStop"] == {"exec": {"command": ["sleep", "5"]}}
    assert env_of(c)["BEDSIDE_SERVER__SHUTDOWN_GRACE_SECONDS"] == "20"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"  # answers 503 from SIGTERM on
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 5 + 20 + 10
    assert one(objects, "Deployment")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0

    objects, _ = render({"shutdown": {"preStopSleepSeconds": 10, "graceSeconds": 120, "finalSeconds": 15}})
    c = container(objects)
    assert c["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "10"]
    assert env_of(c)["BEDSIDE_SERVER__SHUTDOWN_GRACE_SECONDS"] == "120"
    assert one(objects, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 145
    objects, _ = render({"terminationGracePeriodSeconds": 90})
    assert one(objects, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 90


def test_a_termination_grace_shorter_than_the_drain_stops_rendering(helm: Any, render: Any) -> None:
    with pytest.raises(helm.HelmRenderError) as failure:
        render({"terminationGracePeriodSeconds": 30})
    message = str(failure.value)
    assert "terminationGracePeriodSeconds=30 is shorter than the shutdown it must cover" in message and "= 35" in message


# --- the chart speaks Bedside's settings ---------------------------------------------------------------


@pytest.mark.parametrize("values", [{}, PRODUCTION], ids=["defaults", "production"])
def test_every_setting_the_chart_gives_the_pod_is_one_bedside_reads(render: Any, values: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pod's BEDSIDE_* variables (Secret values stood in for) and its bedside.yaml load as Settings:
    a misspelt or unknown name would stop Bedside at start-up (extra="forbid")."""
    from proxy.settings import Settings

    objects, _ = render(values)
    stand_ins = {"BEDSIDE_DATABASE__URL": "postgresql+psycopg://bedside:pw@db:5432/bedside", "BEDSIDE_UPSTREAM_API_KEY": "sk-test", "BEDSIDE_API_KEYS": "[]"}
    for name in [n for n in os.environ if n.startswith("BEDSIDE_")]:
        monkeypatch.delenv(name)
    configmaps = {o["metadata"]["name"]: o for o in objects if o["kind"] == "ConfigMap"}
    for name, value in env_of(container(objects)).items():
        if not name.startswith("BEDSIDE_"):
            continue
        if name == "BEDSIDE_CONFIG":
            config = tmp_path / "bedside.yaml"
            config.write_text(configmaps[f"{RELEASE}-config"]["data"]["bedside.yaml"])
            value = str(config)
        elif isinstance(value, dict):
            value = stand_ins[name]
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.server.port == 8080 and settings.server.host == "0.0.0.0"
    assert settings.server.shutdown_grace_seconds == 20
    if values:
        assert settings.database.url and [u.name for u in settings.all_upstreams()] == ["default", "azure"]
        assert str(settings.privacy.subject_key_file) == "/etc/bedside/privacy/privacy-subject.key"

"""docs/deploy.md's Kubernetes half works as written: its `helm install` and `helm upgrade` command
lines and its values files render, lint and validate.

The commands' ``--set`` pairs are read the way Helm reads them (dotted paths; ``true``, ``false``
and integers typed); ``--reuse-values`` keeps the install's values under the upgrade's.
"""

from __future__ import annotations

import itertools
import re
import shlex
from typing import Any

import pytest
import yaml

from tests.charts.chart_support import CHART, CUSTOM_RESOURCES, KUBE_VERSION, NAMESPACE, ROOT, one

GUIDE = ROOT / "docs" / "deploy.md"


def kubernetes_section() -> str:
    text = GUIDE.read_text()
    return text[text.index("## Kubernetes with the Helm chart") : text.index("## A single VM with systemd and SQLite")]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", kubernetes_section(), re.DOTALL)


def set_value(values: dict[str, Any], path: str, raw: str) -> None:
    value: Any = {"true": True, "false": False}.get(raw, int(raw) if re.fullmatch(r"-?\d+", raw) else raw)
    *parents, leaf = path.split(".")
    for key in parents:
        values = values.setdefault(key, {})
    values[leaf] = value


def helm_commands() -> list[tuple[str, dict[str, Any]]]:
    """(verb, values) of every helm install/upgrade line, --reuse-values applied."""
    commands: list[tuple[str, dict[str, Any]]] = []
    installed: dict[str, Any] = {}
    for block in blocks("sh"):
        for line in re.sub(r"\\\n\s*", " ", block).splitlines():
            if not line.startswith(("helm install ", "helm upgrade ")):
                continue
            words = shlex.split(line)
            values: dict[str, Any] = yaml.safe_load(yaml.safe_dump(installed)) if "--reuse-values" in words else {}
            for flag, pair in itertools.pairwise(words):
                if flag == "--set":
                    set_value(values, *pair.split("=", 1))
            if words[1] == "install":
                installed = values
            commands.append((words[1], values))
    return commands


def test_the_guide_has_an_install_and_an_upgrade() -> None:
    verbs = [verb for verb, _ in helm_commands()]
    assert verbs[0] == "install" and "upgrade" in verbs


@pytest.mark.parametrize("index", range(len(helm_commands())))
def test_each_helm_command_of_the_guide_renders_lints_and_validates(helm: Any, kubernetes_validate: Any, index: int) -> None:
    _, values = helm_commands()[index]
    check(helm, kubernetes_validate, values)


def test_the_guides_values_files_render_lint_and_validate(helm: Any, kubernetes_validate: Any) -> None:
    values_files = [yaml.safe_load(block) for block in blocks("yaml")]
    assert len(values_files) >= 2
    production = values_files[0]
    assert production["database"]["type"] == "postgresql" and production["gitSync"]["enabled"] and production["autoscaling"]["enabled"]
    objects = check(helm, kubernetes_validate, production)
    assert {"HorizontalPodAutoscaler", "NetworkPolicy", "ServiceMonitor", "Ingress"} <= {o["kind"] for o in objects}
    for partial in values_files[1:]:  # fragments: added to the production values
        check(helm, kubernetes_validate, {**production, **partial})


def check(helm: Any, kubernetes_validate: Any, values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm.Chart.load(CHART) as chart:
        files = chart.render(values, name="bedside", namespace=NAMESPACE, is_install=True)
    objects = [doc for path, text in sorted(files.items()) if not path.endswith("NOTES.txt") for doc in yaml.safe_load_all(text) if doc]
    report = helm.lint(CHART, values, strict=True, namespace=NAMESPACE, kube_version=f"v{KUBE_VERSION}")
    assert report["errors"] == [] and [m for m in report["messages"] if m["severity"] >= 2] == []
    for obj in objects:
        if obj["kind"] not in CUSTOM_RESOURCES:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
    assert one(objects, "Deployment")
    return objects

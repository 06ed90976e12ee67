"""Fixtures of the chart tests: helm-python-sdk, kubernetes-validate and a renderer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.charts.chart_support import CHART, NAMESPACE, RELEASE, dev_module, with_kek


@pytest.fixture(scope="module")
def helm() -> ModuleType:
    return dev_module("helm_python")


@pytest.fixture(scope="module")
def kubernetes_validate() -> ModuleType:
    return dev_module("kubernetes_validate")


@pytest.fixture(autouse=True)
def _offline(network_attempts: Callable[[], list[str]]) -> Iterator[None]:
    yield
    assert network_attempts() == [], "rendering the chart must not touch the network"


@pytest.fixture(scope="module")
def render(helm: ModuleType) -> Callable[[dict[str, Any]], tuple[list[dict[str, Any]], str]]:
    """values -> (rendered Kubernetes objects, NOTES.txt)."""

    def _render(values: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        with helm.Chart.load(CHART) as chart:
            files = chart.render(with_kek(values), name=RELEASE, namespace=NAMESPACE, is_install=True)
        objects: list[dict[str, Any]] = []
        notes = ""
        for path, text in sorted(files.items()):
            if path.endswith("NOTES.txt"):
                notes = text
                continue
            objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
        return objects, notes

    return _render

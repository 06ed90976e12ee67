"""The Grafana dashboard plots only metrics Bedside really exports (names checked against /metrics)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import Counter

from proxy.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "dashboards" / "bedside-grafana.json"


def test_every_metric_in_the_dashboard_is_exported() -> None:
    metrics = Metrics()
    exported = set(re.findall(r"^# TYPE (\S+) (\S+)", metrics.render().decode(), re.M))
    names = {n for n, _ in exported}
    names |= {f"{n}_bucket" for n, kind in exported if kind == "histogram"}
    dash = json.loads(DASHBOARD.read_text())
    used: set[str] = set()
    for panel in dash["panels"]:
        for target in panel["targets"]:
            used |= set(re.findall(r"\b(bedside_[a-z_]+)\b", target["expr"]))
    assert used, "the dashboard plots something"
    missing = used - names
    assert not missing, f"dashboard plots metrics Bedside does not export: {sorted(missing)}"
    # the operator's numbers the brief names are all plotted
    for wanted in ("bedside_emotion_total", "bedside_rails_verdicts_total", "bedside_handoffs_total", "bedside_pii_redactions_total"):
        assert wanted in used
    assert isinstance(metrics.requests, Counter)

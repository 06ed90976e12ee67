"""The rails' Prometheus counters on an app's :class:`proxy.metrics.Metrics`: :class:`RailsMetrics`.

One :class:`RailsMetrics` per :class:`~proxy.metrics.Metrics`, built by its owner (the services
build it once, through the handoff notifier, and hand it to both rails stages): constructing a
second one on the same registry raises, as for any Prometheus collector registered twice.

* ``bedside_rails_verdicts_total{policy, direction, check, verdict}``: every rail evaluated;
  ``direction`` is ``input`` or ``output``, ``verdict`` ``pass``, ``fail`` or ``error``;
* ``bedside_rails_actions_total{policy, direction, check, action}``: what a failure led to
  (``block``, ``fix``, ``reask``, ``handoff``, ``log``, or ``shadow`` when only recorded);
* ``bedside_handoffs_total{policy, reason}``: handoffs triggered (``reason`` is the check name);
* ``bedside_handoff_deliveries_total{policy, result}``: webhook attempts (``delivered``,
  ``retry``, ``failed``, ``dropped`` when the queue was full, ``no_webhook``).

Labels are policy and check names only, never content or identifiers of people.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter

from proxy.metrics import Metrics

__all__ = ["RailsMetrics"]


class RailsMetrics:
    """The two counters operators plot live on :class:`Metrics` itself; the detail ones are
    registered on its registry here."""

    def __init__(self, metrics: Metrics) -> None:
        r = metrics.registry
        self.verdicts = metrics.rails_verdicts
        self.handoffs = metrics.handoffs
        self.actions = Counter("bedside_rails_actions", "Actions taken on rail failures.", ["policy", "direction", "check", "action"], registry=r)
        self.deliveries = Counter("bedside_handoff_deliveries", "Handoff webhook delivery attempts, by policy and result.", ["policy", "result"], registry=r)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, cached: every request counts its verdicts, and prometheus
        validates the labels on each ``labels()`` call."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

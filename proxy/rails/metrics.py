"""The rails' Prometheus counters on each app's :class:`proxy.metrics.Metrics` (extras registered once).

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

import threading
import weakref

from prometheus_client import Counter

from proxy.metrics import Metrics

__all__ = ["RailsMetrics", "rails_metrics"]


class RailsMetrics:
    def __init__(self, metrics: Metrics) -> None:
        r = metrics.registry
        # the two counters operators plot live on Metrics itself; the detail ones are registered here
        self.verdicts = metrics.rails_verdicts
        self.handoffs = metrics.handoffs
        self.actions = Counter("bedside_rails_actions", "Actions taken on rail failures.", ["policy", "direction", "check", "action"], registry=r)
        self.deliveries = Counter("bedside_handoff_deliveries", "Handoff webhook delivery attempts, by policy and result.", ["policy", "result"], registry=r)


_by_metrics: weakref.WeakKeyDictionary[Metrics, RailsMetrics] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def rails_metrics(metrics: Metrics) -> RailsMetrics:
    """The rails counters of ``metrics`` (created on first use; one set per registry)."""
    with _lock:
        found = _by_metrics.get(metrics)
        if found is None:
            found = _by_metrics[metrics] = RailsMetrics(metrics)
        return found

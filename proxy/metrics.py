"""Prometheus metrics, one registry per app (so tests can run several apps in one process).

Labels carry machine values only (endpoint, status, stage, upstream and policy names, error kinds),
never content or identifiers of people.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_STAGE_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)


class Metrics:
    """Every metric Bedside exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        r = self.registry
        self.requests = Counter("bedside_requests", "Requests answered, by endpoint and HTTP status.", ["endpoint", "status"], registry=r)
        self.latency = Histogram("bedside_request_seconds", "Time to answer (streams: until the last byte).", ["endpoint", "stream"], buckets=_LATENCY_BUCKETS, registry=r)
        self.ttft = Histogram("bedside_time_to_first_token_seconds", "Streams: time from request to the first content frame.", buckets=_LATENCY_BUCKETS, registry=r)
        self.upstream_errors = Counter("bedside_upstream_errors", "Upstream faults, by upstream and kind.", ["upstream", "kind"], registry=r)
        self.stage_seconds = Histogram("bedside_stage_seconds", "Request-phase time spent in each stage (excluding inner stages).", ["stage"], buckets=_STAGE_BUCKETS, registry=r)
        self.stage_failures = Counter("bedside_stage_failures", "Stages that failed open (warning) or closed (request refused).", ["stage", "mode"], registry=r)
        self.policy_reloads = Counter("bedside_policy_reloads", "Policy reloads, by result.", ["result"], registry=r)
        self.policy_requests = Counter("bedside_policy_requests", "Requests by policy and mode.", ["policy", "mode"], registry=r)
        # perception (issue 5), privacy (issue 6) and rails (issue 4) figures operators plot
        self.emotion = Counter("bedside_emotion", "Requests by the emotion read in the latest user turn.", ["policy", "emotion"], registry=r)
        shift_buckets = (-1.5, -1, -0.5, -0.25, -0.1, 0, 0.1, 0.25, 0.5, 1, 1.5)
        self.sentiment_shift = Histogram("bedside_sentiment_shift", "Sentiment of the last user turn minus the first (VADER compound, -2..2).", buckets=shift_buckets, registry=r)
        frustration_buckets = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
        self.frustration = Histogram("bedside_frustration", "Calibrated frustration score of the latest user turn (0..1, expected 0-4 grade / 4).", ["policy"], buckets=frustration_buckets, registry=r)
        self.perception_events = Counter("bedside_perception_events", "Perception events: confusion and distress.", ["kind"], registry=r)
        self.tone_rules = Counter("bedside_tone_rules", "Tone rules injected, by policy and rule name.", ["policy", "rule"], registry=r)
        self.escalations = Counter("bedside_escalations", "Escalations offered (rising frustration), by policy.", ["policy"], registry=r)
        self.pii_redactions = Counter("bedside_pii_redactions", "Personal data redacted before the upstream, by policy and entity type.", ["policy", "entity"], registry=r)
        self.pii_output = Counter("bedside_pii_output", "PII the model wrote itself, by policy, entity type and action (mask, allow, shadow).", ["policy", "entity", "action"], registry=r)
        self.rails_verdicts = Counter("bedside_rails_verdicts", "Rail verdicts, by policy, direction (input/output), check and verdict.", ["policy", "direction", "check", "verdict"], registry=r)
        self.handoffs = Counter("bedside_handoffs", "Handoffs to a person, by policy and reason.", ["policy", "reason"], registry=r)
        self.memory_extractions = Counter(
            "bedside_memory_extractions",
            "Memory extractions after a reply, by extractor and result (ok, nothing, timeout, error, garbage, busy).",
            ["extractor", "result"],
            registry=r,
        )
        self.memory_operations = Counter(
            "bedside_memory_operations",
            "Operations the LLM memory extractor proposed, by outcome (added, replaced, updated, forgotten, or rejected_<reason>).",
            ["outcome"],
            registry=r,
        )
        self.outcomes = Counter(
            "bedside_outcomes",
            "Conversation outcome facts: recorded, skipped (no-store), dropped (writer queue full), failed (database) or fenced (their user was erased after the request began).",
            ["result"],
            registry=r,
        )
        self.audit_dropped = Counter("bedside_audit_dropped", "Audit entries lost because the audit log could not take them (fail_open).", registry=r)
        self.audit_refused = Counter("bedside_audit_refused", "Requests and privacy changes refused because the audit log could not record them (fail_closed), by endpoint.", ["endpoint"], registry=r)
        self.audit_queued = Gauge("bedside_audit_queued", "Audit entries waiting to be written.", registry=r)
        self.open_tenant = Gauge("bedside_open_tenant", "1 when no API key is configured and anyone may call Bedside.", registry=r)

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, cached: the hot path skips prometheus' label validation."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def render(self) -> bytes:
        return generate_latest(self.registry)

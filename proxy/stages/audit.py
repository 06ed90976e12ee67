"""Audit stage: admits a request only when the audit log can record it, if its policy says so.

Reads: ``ctx.policy.audit.on_failure`` and whether the audit log is taking entries (its writer
healthy, its queue not full).
Writes: decision ``audit`` (``on_failure``, and ``reserved`` when a queue slot is held for the
request's entry).
Short-circuits: with 503 ``audit_unavailable`` for a ``fail_closed`` policy when the log cannot
take the request's entry (its database is down, or its queue full), before any later stage or the
model sees the request; the message is the policy's ``error`` microcopy in its language.

The request's entry itself is written where the request's log line is, when the request ends
(``proxy/api/requestlog.py``): that is the one place that sees every request, also those refused
before the pipeline runs. This stage sits directly inside the policy stage, since ``on_failure`` is
per policy (docs/architecture.md records the departure from "audit outermost").

A ``fail_closed`` request that is admitted holds a reserved slot in the writer's queue, released by
the entry itself, so it is never dropped. Fails: ``fail_open`` policies never fail here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from proxy.audit.log import AuditLog
from proxy.errors import AuditUnavailable
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next


class AuditStage:
    name: ClassVar[str] = "audit"

    def __init__(self, log: AuditLog, metrics: Metrics) -> None:
        self._log = log
        self._metrics = metrics

    def applies(self, policy: Any) -> bool:
        """Only ``fail_closed`` policies have anything to check here (the pipeline leaves this stage out of the others' chains)."""
        return bool(policy.audit.on_failure != "fail_open")

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        policy = ctx.policy
        if policy is None or policy.audit.on_failure == "fail_open":
            return await call_next(ctx)
        if not self._log.reserve():
            self._metrics.audit_refused.labels(ctx.endpoint).inc()
            ctx.decide(self.name, on_failure="fail_closed", refused=True)
            # the person sees the policy's own words for "something went wrong on our side" (the code says why)
            raise AuditUnavailable(policy.microcopy.render("error", policy.persona.language, reference=ctx.request_id))
        ctx.decide(self.name, on_failure="fail_closed", reserved=True)
        return await call_next(ctx)

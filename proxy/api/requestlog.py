"""The one log line and the metrics of each request (no content, subjects hashed)."""

from __future__ import annotations

import time

from proxy import logs
from proxy.errors import BedsideError
from proxy.logs import get_logger
from proxy.pipeline.context import RequestContext
from proxy.services import Services

_LOG = get_logger()


def finish_request(services: Services, ctx: RequestContext, status: int, error: BedsideError | None = None) -> None:
    elapsed = time.perf_counter() - ctx.started
    m = services.metrics
    m.child(m.requests, ctx.endpoint, str(status)).inc()
    m.child(m.latency, ctx.endpoint, "true" if ctx.stream else "false").observe(elapsed)
    for stage, seconds in ctx.timings.items():
        m.child(m.stage_seconds, stage).observe(seconds)
    if not logs.INFO_ENABLED:
        return
    log = _LOG
    policy = getattr(ctx.policy, "name", None)
    fields = {
        "request_id": ctx.request_id,
        "endpoint": ctx.endpoint,
        "status": status,
        "duration_ms": round(elapsed * 1000, 3),
        "stream": ctx.stream,
        "model": ctx.requested_model or ctx.model,
        "policy": policy,
        "tenant": ctx.tenant,
        "user": services.hasher(ctx.user_id),
        "conversation": services.hasher(ctx.conversation_id),
        "upstream": ctx.upstream_name,
        "stages_ms": {k: round(v * 1000, 3) for k, v in ctx.timings.items()},
    }
    if error is not None:
        log.info("request", error_kind=error.kind, error_code=error.code, **fields)
    else:
        log.info("request", **fields)

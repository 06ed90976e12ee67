"""The terminal stage: send the shaped request to the upstream and return its reply.

Reads: ``ctx.body`` (as the stages left it), ``ctx.facts["route"]`` (an upstream a policy names),
``ctx.endpoint``, ``ctx.request_id``, ``ctx.upstream_call`` (set by the route of a request that came
in on another API than chat completions: it is called with the upstream instead of ``chat``, and
knows how to reach it; this stage does not know which API that is).
Writes: ``ctx.upstream_name``; the upstream-error metric.
Short-circuits: never; raises the upstream's typed error before a reply starts.
"""

from __future__ import annotations

from typing import ClassVar

from proxy.errors import UpstreamError
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.upstream.router import UpstreamRouter


class Forwarder:
    name: ClassVar[str] = "forward"

    def __init__(self, router: UpstreamRouter, metrics: Metrics) -> None:
        self._router = router
        self._metrics = metrics

    async def __call__(self, ctx: RequestContext) -> Completion:
        upstream = self._router.for_model(ctx.model, upstream=ctx.facts.get("route"))
        ctx.upstream_name = upstream.name
        try:
            if ctx.endpoint == "embeddings":
                body = await upstream.embeddings(ctx.body, request_id=ctx.request_id)
                return Completion(json_body=body)
            if ctx.upstream_call is not None:
                return await ctx.upstream_call(upstream, ctx)
            return await upstream.chat(ctx.body, request_id=ctx.request_id)
        except UpstreamError as exc:
            ctx.upstream_status = exc.http_status
            self._metrics.upstream_errors.labels(upstream.name, exc.kind).inc()
            raise

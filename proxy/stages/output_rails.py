"""Output rails stage (``output_rails``, the policy's ``rails.output``): the reply, streaming included.

The checks are compiled by :func:`proxy.checks.output_rails.compile_output_rails` from
:mod:`proxy.checks.registry`; :class:`proxy.checks.output_scan.OutputScan` applies them.

Reads: ``ctx.policy.rails.output`` (checks, actions, phrases, ``max_apologies``),
``ctx.policy.persona`` (``forbidden_phrases``, ``system_prompt``, ``disclosure``, ``language``),
``ctx.policy.microcopy``, ``ctx.policy.mode``, ``ctx.body`` (``messages`` for the first-turn test,
``n``, ``stream``), and the reply's deltas (text and tool-call arguments).
Writes: the reply, through the hold-back window; decision
``output_rails`` (failures: check, action, reason names; ``reask``); ``x-bedside-rails`` header;
metrics ``bedside_rails_verdicts_total{direction="output"}``, ``bedside_rails_actions_total``,
``bedside_handoffs_total``.
Short-circuits: never before the reply. A ``block`` or ``handoff`` failure ends the choice with the
policy's ``refusal`` / ``handoff`` text and ``finish_reason: "content_filter"``; nothing that fails a
check reaches the client. ``reask`` (non-streaming only, at most once): the reply is read whole, and
if a ``reask`` rail fails the upstream is called once more with a system message naming the
problem; a second failure blocks. On a stream ``reask`` acts as ``block``.

It sits just before the forwarder, inside the PII stage: the reply it checks still carries the PII
stage's placeholders (restored afterwards), so ``pii_leak`` only sees personal data the model wrote
itself. This stage is the one place ``persona.forbidden_phrases`` are enforced: by the policy's
``forbidden_phrases`` rail (the persona's phrases plus its own, with its action), or, when the
policy declares none, with ``block`` on the reply's text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any, ClassVar

from cachetools import LRUCache

from proxy.checks.output_rails import OutputRules, compile_output_rails
from proxy.checks.output_scan import OutputScan, ReaskNeeded
from proxy.marks import REASK_MARK
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta
from proxy.pipeline.stage import Next
from proxy.rails.guardrails_setup import prepare_rails_environment
from proxy.rails.handoff import HandoffNotifier
from proxy.rails.metrics import RailsMetrics

__all__ = ["OutputRailsStage"]

_CACHE_SIZE = 64


async def _replay(deltas: list[Delta]) -> AsyncIterator[Delta]:
    for delta in deltas:
        yield delta


class OutputRailsStage:
    name: ClassVar[str] = "output_rails"

    def __init__(self, metrics: Metrics, handoff: HandoffNotifier | None = None, *, rails_metrics: RailsMetrics | None = None) -> None:
        prepare_rails_environment()  # guardrails-ai itself is pinned offline when a rail is compiled
        # one RailsMetrics per registry: given, else the notifier's, else this stage's own
        self._rails_metrics = rails_metrics or (handoff.rails_metrics if handoff is not None else RailsMetrics(metrics))
        self._handoff = handoff
        #: compiled checks per policy version (called on the event loop only)
        self._compiled: LRUCache[tuple[str, str], OutputRules] = LRUCache(_CACHE_SIZE)

    def applies(self, policy: Any) -> bool:
        """Whether ``policy`` has output rules (its rails, or the persona's forbidden phrases); the
        pipeline leaves this stage out of the other policies' chains."""
        return not self.rules_for(policy).empty

    def rules_for(self, policy: Any) -> OutputRules:
        """The compiled output rails of ``policy`` (cached per policy version)."""
        key = (policy.name, policy.content_hash)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = compile_output_rails(policy)
        return found

    def _scan(self, ctx: RequestContext, rules: OutputRules, *, allow_reask: bool) -> OutputScan:
        policy = ctx.require_policy()
        language = policy.persona.language
        notifier = self._handoff
        metrics = self._rails_metrics

        async def notify(check: str, reasons: tuple[str, ...]) -> None:
            assert notifier is not None
            ctx.response_headers["x-bedside-handoff"] = await notifier.notify(ctx, reason=check, reasons=reasons, direction="output")

        def on_handoff(check: str, reasons: tuple[str, ...]) -> Awaitable[None] | None:
            """Called inside the hold-back window (sync); the outbox write it starts is awaited by the scan."""
            if notifier is not None:
                return notify(check, reasons)
            metrics.handoffs.labels(policy.name, check).inc()
            return None

        return OutputScan(
            rules,
            ctx,
            metrics,
            enforce=policy.mode != "shadow",
            allow_reask=allow_reask,
            refusal=policy.microcopy.render("refusal", language, reference=ctx.request_id),
            handoff_text=policy.microcopy.render("handoff", language, reference=ctx.request_id),
            on_handoff=on_handoff,
        )

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        policy = ctx.policy
        if policy is None or ctx.endpoint != "chat":
            return await call_next(ctx)
        rules = self.rules_for(policy)
        if rules.empty:
            return await call_next(ctx)
        declared = [r.check for r in policy.rails.output]
        implied = [r.check for r in rules.rules if r.check not in declared]  # the persona's forbidden phrases
        ctx.decide(self.name, checks=implied + declared)
        n = int(ctx.body.get("n") or 1)
        reask = rules.reask and not ctx.stream and policy.mode != "shadow"
        sent = ctx.body
        completion = await call_next(ctx)
        if not reask:
            scan = self._scan(ctx, rules, allow_reask=False)
            return completion.map_deltas(lambda d: scan.run(d, n))

        # non-streaming with a reask rail: read the reply whole, check it, ask once more if needed
        first = [d async for d in completion.deltas]
        scan = self._scan(ctx, rules, allow_reask=True)
        try:
            checked = [d async for d in scan.run(_replay(first), n)]
        except ReaskNeeded as need:
            await completion.aclose()
            ctx.decide(self.name, reask=need.check)
            self._rails_metrics.actions.labels(policy.name, "output", need.check, "reask").inc()
            ctx.body = {
                **sent,
                "messages": [*sent.get("messages", []), {"role": "system", "content": f"{REASK_MARK} Your previous reply could not be sent. {need.correction} Write the whole reply again."}],
            }
            second = await call_next(ctx)
            again = self._scan(ctx, rules, allow_reask=False)
            return second.map_deltas(lambda d: again.run(d, n))
        completion.deltas = _replay(checked)
        return completion

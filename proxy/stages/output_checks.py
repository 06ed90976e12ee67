"""Output checks stage: the policy's output rails on the reply, streaming included.

Reads: ``ctx.policy.rails.output`` (checks, actions, phrases, ``max_apologies``),
``ctx.policy.persona`` (``forbidden_phrases``, ``system_prompt``, ``disclosure``, ``language``),
``ctx.policy.microcopy``, ``ctx.policy.mode``, ``ctx.body`` (``messages`` for the first-turn test,
``n``, ``stream``), and the reply's deltas (text and tool-call arguments).
Writes: the reply, through the hold-back window (:mod:`proxy.rails.output`); decision
``output_checks`` (failures: check, action, reason names; ``reask``); ``x-bedside-rails`` header;
metrics ``bedside_rails_verdicts_total{direction="output"}``, ``bedside_rails_actions_total``,
``bedside_handoffs_total``.
Short-circuits: never before the reply. A ``block`` or ``handoff`` failure ends the choice with the
policy's ``refusal`` / ``handoff`` text and ``finish_reason: "content_filter"``; nothing that fails a
check reaches the client. ``reask`` (non-streaming only, at most once): the reply is read whole, and
if a ``reask`` rail fails the upstream is called once more with a system message naming the
problem; a second failure blocks. On a stream ``reask`` acts as ``block``.

It sits just before the forwarder, inside the PII stage: the reply it checks still carries the PII
stage's placeholders (restored afterwards), so ``pii_leak`` only sees personal data the model wrote
itself. The policy stage still checks ``persona.forbidden_phrases`` on its own (outside this stage);
a ``forbidden_phrases`` rail here covers the persona's phrases plus its own, with its own action.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from proxy.marks import REASK_MARK
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta
from proxy.pipeline.stage import Next
from proxy.rails.guardrails_setup import prepare_rails
from proxy.rails.handoff import HandoffNotifier
from proxy.rails.metrics import rails_metrics
from proxy.rails.output import OutputRules, OutputScan, ReaskNeeded, compile_output_rails

__all__ = ["OutputChecksStage"]

_CACHE_SIZE = 64


async def _replay(deltas: list[Delta]) -> AsyncIterator[Delta]:
    for delta in deltas:
        yield delta


class OutputChecksStage:
    name: ClassVar[str] = "output_checks"

    def __init__(self, metrics: Metrics, handoff: HandoffNotifier | None = None) -> None:
        prepare_rails()  # idempotent; the process start-up calls it first once it exists
        self._rails_metrics = rails_metrics(metrics)
        self._handoff = handoff
        self._compiled: OrderedDict[tuple[str, str], OutputRules] = OrderedDict()

    def rules_for(self, policy: Any) -> OutputRules:
        """The compiled output rails of ``policy`` (cached per policy version)."""
        key = (policy.name, policy.content_hash)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = compile_output_rails(policy)
            while len(self._compiled) > _CACHE_SIZE:
                self._compiled.popitem(last=False)
        return found

    def _scan(self, ctx: RequestContext, rules: OutputRules, *, allow_reask: bool) -> OutputScan:
        policy = ctx.policy
        language = policy.persona.language
        notifier = self._handoff
        metrics = self._rails_metrics

        def on_handoff(check: str, reasons: tuple[str, ...]) -> None:
            if notifier is not None:
                ctx.response_headers["x-bedside-handoff"] = notifier.notify(ctx, reason=check, reasons=reasons, direction="output")
            else:
                metrics.handoffs.labels(policy.name, check).inc()

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
        if policy is None or ctx.endpoint != "chat" or not policy.rails.output:
            return await call_next(ctx)
        rules = self.rules_for(policy)
        if not rules.rules and rules.disclosure is None:
            return await call_next(ctx)
        ctx.decide(self.name, checks=[r.check for r in policy.rails.output])
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

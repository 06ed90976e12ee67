"""Input rails stage (``input_rails``, the policy's ``rails.input``): checked before anything reaches
the model. The checks are compiled from :mod:`proxy.checks.registry`; the engine (which texts, how
they are run) is :mod:`proxy.checks.input_rails`.

Reads: ``ctx.policy.rails.input`` (checks, actions, thresholds, topics, sources),
``ctx.policy.persona.language``, ``ctx.policy.microcopy``, ``ctx.policy.mode``, and the messages of
``ctx.body`` as the PII stage left them (this stage sits inside it, so it sees redacted text):

* ``user``: the latest user message;
* ``tool``: tool results (``role: tool`` / ``function``) after the last assistant message;
* ``document``: the client's own system/developer messages (where retrieval apps put documents).

* ``pasted``: blocks pasted into the latest user message and content parts marked ``document: true``.

Only ``jailbreak`` looks at tool results, documents and pasted blocks (with the indirect-injection
detector, sentence by sentence); ``crisis``, ``denied_topics``, ``language``, ``max_length``,
``harmful_request`` and ``moderation`` judge the person's own words, the latest user message.
``moderation`` is awaited (network I/O with its own timeout and failure mode), the others run
in-process.

Writes: decision ``input_rails`` (check names, sources, reason names, action: never text);
``x-bedside-rails`` (``blocked`` / ``handoff``) and ``x-bedside-handoff`` (event id) headers;
``ctx.body`` for ``fix`` on ``max_length`` (the latest user message is shortened) and, when
``rails.spotlight.enabled``, untrusted text marked once the checks pass (tool results, pasted
blocks, document parts; :mod:`proxy.rails.spotlight`; decision ``spotlight``); metrics
``bedside_rails_verdicts_total{direction="input"}``, ``bedside_rails_actions_total``,
``bedside_handoffs_total``.

Short-circuits (never an HTTP error, also for streams: the person gets a normal reply):
``block`` answers with the policy's ``refusal`` microcopy and ``finish_reason: "content_filter"``;
``handoff`` answers with the ``handoff`` microcopy (``finish_reason: "stop"``) and queues a
webhook event (:mod:`proxy.rails.handoff`). When several rails fail the strongest action wins:
handoff > block > fix > log. ``log`` records only; in ``shadow`` mode every action is recorded as
``would_<action>`` and nothing changes (no webhook either).

Fails **closed**: a validator that raises, or any error in this stage, blocks with the refusal
text and counts ``bedside_stage_failures_total{stage="input_rails", mode="closed"}``.

Cost: ~0.7 ms for the five input rails on a 150-word message (``python bench/rails_cost.py``);
texts longer than ``thread_chars``, and every request of a policy holding a check marked
``off_loop`` (``harmful_request`` with ``model: encoder``: tens of ms), run in a worker thread so
the event loop stays free. A text
already judged for the same tenant, user and policy version is not judged again: its verdict
(reason names only) is remembered (:mod:`proxy.checks.input_memo`), so a resent system message or
a repeated message costs a hash, and a conversation's later turn pays for its new text only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

import anyio
import anyio.to_thread
from cachetools import LRUCache

from proxy.checks.base import InputCheck
from proxy.checks.input_memo import VerdictMemo
from proxy.checks.input_rails import InputFailure, compile_input_rails, evaluate, evaluate_remote, input_texts, strongest
from proxy.detectors.indirect import pasted_spans
from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next
from proxy.rails.guardrails_setup import prepare_rails_environment
from proxy.rails.handoff import HandoffNotifier
from proxy.rails.metrics import RailsMetrics
from proxy.rails.spotlight import spotlight_messages

__all__ = ["InputRailsStage"]

_CACHE_SIZE = 64


class InputRailsStage:
    name: ClassVar[str] = "input_rails"

    def __init__(
        self, metrics: Metrics, handoff: HandoffNotifier | None = None, *, rails_metrics: RailsMetrics | None = None, thread_chars: int = 4000, memo: VerdictMemo | None = None
    ) -> None:
        prepare_rails_environment()  # guardrails-ai itself is pinned offline when a rail is compiled
        self._metrics = metrics
        # one RailsMetrics per registry: given, else the notifier's, else this stage's own
        self._rails_metrics = rails_metrics or (handoff.rails_metrics if handoff is not None else RailsMetrics(metrics))
        self._handoff = handoff
        self._thread_chars = thread_chars
        self._limiter = anyio.CapacityLimiter(4)
        #: compiled checks per policy version (compiled at start-up and before a reload is swapped in)
        self._compiled: LRUCache[tuple[str, str], tuple[InputCheck, ...]] = LRUCache(_CACHE_SIZE)
        self._compile_lock = threading.Lock()
        #: verdicts already reached, per tenant, user and policy version (texts are not judged twice)
        self._memo = memo if memo is not None else VerdictMemo()

    def rails_for(self, policy: Any) -> tuple[InputCheck, ...]:
        """The compiled input rails of ``policy`` (cached per policy version; thread-safe)."""
        key = (policy.name, policy.content_hash)
        with self._compile_lock:
            found = self._compiled.get(key)
        if found is None:
            compiled = compile_input_rails(policy)  # loads the models its checks use (jailbreak, harmful, topics)
            with self._compile_lock:
                found = self._compiled.setdefault(key, compiled)
        return found

    def warm_policies(self, policies: Any) -> list[str]:
        """Compile the input rails of every policy of ``policies`` (a store: ``.current``) now, loading the
        models they use, so no request compiles on the event loop; returns the policies compiled.
        Called at start-up and, in the reloading thread, before a reloaded set is swapped in."""
        done = []
        for policy in policies.current.policies.values():
            if policy.rails.input:
                self.rails_for(policy)
                done.append(policy.name)
        return done

    def evaluate(self, policy_name: str, checks: tuple[InputCheck, ...], texts: list[Any], scope: tuple[Any, ...] | None = None) -> list[InputFailure]:
        """Run the checks over the texts, counting each check's verdict (thread-safe). With a
        ``scope`` (tenant, user, policy name and content hash), texts it already had judged are not
        judged again (:class:`~proxy.checks.input_memo.VerdictMemo`)."""
        rails_metrics = self._rails_metrics
        verdicts = rails_metrics.verdicts
        count = lambda check, verdict: rails_metrics.child(verdicts, policy_name, "input", check, verdict).inc()  # noqa: E731
        if scope is None:
            return evaluate(checks, texts, count)
        return evaluate(checks, texts, count, memo=self._memo, scope=scope)

    def _spotlight(self, ctx: RequestContext, policy: Any, spans_of: Callable[[str], list[tuple[int, int]]] = pasted_spans) -> None:
        """Mark untrusted text (``rails.spotlight``) once the checks let the request through;
        ``spans_of``: the request's memo of pasted parts the checks used (a text a ``fix``
        rewrote is a new key: its parts are found again)."""
        spot = policy.rails.spotlight
        messages = ctx.body.get("messages")
        if not spot.enabled or not isinstance(messages, list):
            return
        count = spotlight_messages(messages, mode=spot.mode, marker=spot.marker, sources=spot.sources, spans_of=spans_of)
        ctx.decide("spotlight", mode=spot.mode, texts=count)

    def applies(self, policy: Any) -> bool:
        """Whether ``policy`` has input checks or spotlighting (the pipeline leaves this stage out of the other policies' chains)."""
        return bool(policy.rails.input) or bool(policy.rails.spotlight.enabled)

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        policy = ctx.policy
        if policy is None or ctx.endpoint != "chat":
            return await call_next(ctx)
        if not policy.rails.input:
            self._spotlight(ctx, policy)
            return await call_next(ctx)
        shadow = policy.mode == "shadow"
        spans_of = _spans_memo()
        rails: tuple[InputCheck, ...] = ()
        try:
            rails = self.rails_for(policy)
            texts = input_texts(ctx.body.get("messages"), spans_of)
            scope = (ctx.tenant, ctx.user_id or "", policy.name, policy.content_hash)
            if sum(len(t.text) for t in texts) > self._thread_chars or any(r.off_loop for r in rails):
                failures = await anyio.to_thread.run_sync(self.evaluate, policy.name, rails, texts, scope, limiter=self._limiter)
            else:
                failures = self.evaluate(policy.name, rails, texts, scope)
            if any(r.remote is not None for r in rails):
                verdicts = self._rails_metrics.verdicts
                failures += await evaluate_remote(rails, texts, lambda check, verdict: verdicts.labels(policy.name, "input", check, verdict).inc())
        except Exception as exc:  # noqa: BLE001 - fail closed
            self._metrics.stage_failures.labels(self.name, "closed").inc()
            get_logger().error("stage_failed", stage=self.name, request_id=ctx.request_id, error_type=type(exc).__name__)
            failures = [InputFailure(self.name, "user", ("stage_error",), "block", None, -1)]
        if not failures:
            ctx.decide(self.name, checks=[r.check for r in rails], failures=[], action="pass")
            self._spotlight(ctx, policy, spans_of)
            return await call_next(ctx)

        top = strongest(failures)
        action = top.action
        ctx.decide(
            self.name,
            checks=[r.check for r in rails],
            failures=[{"check": f.check, "source": f.source, "reasons": list(f.reasons), "action": f.action} for f in failures],
            action=f"would_{action}" if shadow else action,
            shadow=shadow,
        )
        for f in failures:
            self._rails_metrics.actions.labels(policy.name, "input", f.check, "shadow" if shadow else action).inc()
        if shadow or action == "log":
            self._spotlight(ctx, policy, spans_of)
            return await call_next(ctx)
        if action == "fix":
            messages = ctx.body["messages"]
            for f in failures:
                if f.fix is not None and 0 <= f.index < len(messages):
                    messages[f.index] = {**messages[f.index], "content": f.fix}
            self._spotlight(ctx, policy, spans_of)
            return await call_next(ctx)

        language = policy.persona.language
        n = int(ctx.body.get("n") or 1)
        model = ctx.requested_model or ctx.model
        if action == "handoff":
            ctx.response_headers["x-bedside-rails"] = "handoff"
            if self._handoff is not None:
                ctx.response_headers["x-bedside-handoff"] = await self._handoff.notify(ctx, reason=top.check, reasons=top.reasons, direction="input")
            else:
                self._rails_metrics.handoffs.labels(policy.name, top.check).inc()
            text = policy.microcopy.render("handoff", language, reference=ctx.request_id)
            return Completion.from_text(text, model=model, finish_reason="stop", short_circuit="rails", n=n)
        ctx.response_headers["x-bedside-rails"] = "blocked"
        text = policy.microcopy.render("refusal", language, reference=ctx.request_id)
        return Completion.from_text(text, model=model, finish_reason="content_filter", short_circuit="rails", n=n)


def _spans_memo() -> Callable[[str], list[tuple[int, int]]]:
    """:func:`pasted_spans` remembered for one request (the checks and the spotlight read the
    same last user message); never shared between requests."""
    memo: dict[str, list[tuple[int, int]]] = {}

    def spans_of(text: str) -> list[tuple[int, int]]:
        found = memo.get(text)
        if found is None:
            found = memo[text] = pasted_spans(text)
        return found

    return spans_of

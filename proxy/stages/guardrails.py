"""Guardrails stage: the policy's input rails, checked before anything reaches the model.

Reads: ``ctx.policy.rails.input`` (checks, actions, thresholds, topics, sources),
``ctx.policy.persona.language``, ``ctx.policy.microcopy``, ``ctx.policy.mode``, and the messages of
``ctx.body`` as the PII stage left them (this stage sits inside it, so it sees redacted text):

* ``user``: the latest user message;
* ``tool``: tool results (``role: tool`` / ``function``) after the last assistant message;
* ``document``: the client's own system/developer messages (where retrieval apps put documents).

Only ``jailbreak`` looks at tool results and documents (with ``source=`` so the detector treats
instructions inside data as injection); ``crisis``, ``denied_topics``, ``language`` and
``max_length`` judge the person's own words, the latest user message.

Writes: decision ``guardrails`` (check names, sources, reason names, action: never text);
``x-bedside-rails`` (``blocked`` / ``handoff``) and ``x-bedside-handoff`` (event id) headers;
``ctx.body`` only for ``fix`` on ``max_length`` (the latest user message is shortened); metrics
``bedside_rails_verdicts_total{direction="input"}``, ``bedside_rails_actions_total``,
``bedside_handoffs_total``.

Short-circuits (never an HTTP error, also for streams: the person gets a normal reply):
``block`` answers with the policy's ``refusal`` microcopy and ``finish_reason: "content_filter"``;
``handoff`` answers with the ``handoff`` microcopy (``finish_reason: "stop"``) and queues a
webhook event (:mod:`proxy.rails.handoff`). When several rails fail the strongest action wins:
handoff > block > fix > log. ``log`` records only; in ``shadow`` mode every action is recorded as
``would_<action>`` and nothing changes (no webhook either).

Fails **closed**: a validator that raises, or any error in this stage, blocks with the refusal
text and counts ``bedside_stage_failures_total{stage="guardrails", mode="closed"}``.

Cost: ~0.7 ms for the five input rails on a 150-word message (``python bench/rails_cost.py``);
texts longer than ``thread_chars`` run in a worker thread so the event loop stays free.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import anyio
import anyio.to_thread

from proxy.logs import get_logger
from proxy.marks import BEDSIDE_MARK
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next
from proxy.policy.sections.rails import InputRail, TopicRule
from proxy.rails.guardrails_setup import prepare_rails
from proxy.rails.handoff import HandoffNotifier
from proxy.rails.messages import text_of
from proxy.rails.metrics import rails_metrics
from proxy.rails.run import run_validators
from proxy.rails.validators import (
    BedsideCrisis,
    BedsideDeniedTopics,
    BedsideJailbreak,
    BedsideLanguage,
    BedsideMaxLength,
)

__all__ = ["GuardrailsStage", "InputText", "input_texts"]

_SEVERITY = {"handoff": 4, "block": 3, "fix": 2, "reask": 3, "log": 1}
_USER_ONLY = frozenset({"crisis", "denied_topics", "max_length", "language"})
_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class InputText:
    """One text an input rail may check: where it came from and the message index."""

    source: str
    text: str
    index: int


@dataclass(frozen=True, slots=True)
class _Rail:
    check: str
    action: str
    sources: frozenset[str]
    validator: Any


@dataclass(frozen=True, slots=True)
class _Failure:
    check: str
    source: str
    reasons: tuple[str, ...]
    action: str
    fix: str | None
    index: int


def input_texts(messages: Any) -> list[InputText]:
    """The texts of a chat request the input rails look at, by source (see the module doc)."""
    out: list[InputText] = []
    if not isinstance(messages, list):
        return out
    last_user = last_assistant = -1
    for i, m in enumerate(messages):
        if isinstance(m, dict):
            if m.get("role") == "user":
                last_user = i
            elif m.get("role") == "assistant":
                last_assistant = i
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            continue
        role = m.get("role")
        text = text_of(m.get("content"))
        if not text.strip():
            continue
        if role == "user" and i == last_user:
            out.append(InputText("user", text, i))
        elif role in ("tool", "function") and i > last_assistant:
            out.append(InputText("tool", text, i))
        elif role in ("system", "developer") and not text.startswith(BEDSIDE_MARK):
            out.append(InputText("document", text, i))
    return out


def _topic(rule: TopicRule) -> Any:
    from proxy.detectors.topics import BUILTIN_TOPICS, TopicSpec

    base = BUILTIN_TOPICS.get(rule.name)
    if base is not None and not rule.keywords and not rule.exceptions:
        return rule.name
    if base is not None:
        return TopicSpec(rule.name, (*base.keywords, *rule.keywords), base.patterns, (*base.exceptions, *rule.exceptions), base.description)
    return TopicSpec(rule.name, tuple(rule.keywords), (), tuple(rule.exceptions))


def _validator(rail: InputRail, language: str) -> Any:
    if rail.check == "jailbreak":
        return BedsideJailbreak(threshold=0.5 if rail.threshold is None else rail.threshold)
    if rail.check == "crisis":
        return BedsideCrisis(threshold=0.5 if rail.threshold is None else rail.threshold)
    if rail.check == "denied_topics":
        return BedsideDeniedTopics(topics=[_topic(t) for t in rail.topics], **({} if rail.threshold is None else {"min_score": rail.threshold}))
    if rail.check == "max_length":
        return BedsideMaxLength(max_chars=rail.max_chars)
    if rail.check == "language":
        return BedsideLanguage(allowed=[lang.split("-")[0].lower() for lang in rail.languages] or [language.split("-")[0].lower()])
    raise ValueError(f"unknown input check {rail.check!r}")  # pragma: no cover - the schema forbids it


class GuardrailsStage:
    name: ClassVar[str] = "guardrails"

    def __init__(self, metrics: Metrics, handoff: HandoffNotifier | None = None, *, thread_chars: int = 4000) -> None:
        prepare_rails()  # idempotent; the process start-up calls it first once it exists
        self._metrics = metrics
        self._rails_metrics = rails_metrics(metrics)
        self._handoff = handoff
        self._thread_chars = thread_chars
        self._limiter = anyio.CapacityLimiter(4)
        self._compiled: OrderedDict[tuple[str, str], tuple[_Rail, ...]] = OrderedDict()

    def rails_for(self, policy: Any) -> tuple[_Rail, ...]:
        """The compiled input rails of ``policy`` (cached per policy version)."""
        key = (policy.name, policy.content_hash)
        found = self._compiled.get(key)
        if found is None:
            found = tuple(
                _Rail(r.check, r.action, frozenset({"user"} & set(r.sources)) if r.check in _USER_ONLY else frozenset(r.sources), _validator(r, policy.persona.language)) for r in policy.rails.input
            )
            self._compiled[key] = found
            while len(self._compiled) > _CACHE_SIZE:
                self._compiled.popitem(last=False)
        return found

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        policy = ctx.policy
        if policy is None or ctx.endpoint != "chat" or not policy.rails.input:
            return await call_next(ctx)
        shadow = policy.mode == "shadow"
        try:
            rails = self.rails_for(policy)
            texts = input_texts(ctx.body.get("messages"))
            if sum(len(t.text) for t in texts) > self._thread_chars:
                failures = await anyio.to_thread.run_sync(self.evaluate, policy.name, rails, texts, limiter=self._limiter)
            else:
                failures = self.evaluate(policy.name, rails, texts)
        except Exception as exc:  # noqa: BLE001 - fail closed
            self._metrics.stage_failures.labels(self.name, "closed").inc()
            get_logger().error("stage_failed", stage=self.name, request_id=ctx.request_id, error_type=type(exc).__name__)
            failures = [_Failure("guardrails", "user", ("stage_error",), "block", None, -1)]
        if not failures:
            ctx.decide(self.name, checks=[r.check for r in rails], failures=[], action="pass")
            return await call_next(ctx)

        action = max((f.action for f in failures), key=lambda a: _SEVERITY[a])
        top = next(f for f in failures if f.action == action)
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
            return await call_next(ctx)
        if action == "fix":
            messages = ctx.body["messages"]
            for f in failures:
                if f.fix is not None and 0 <= f.index < len(messages):
                    messages[f.index] = {**messages[f.index], "content": f.fix}
            return await call_next(ctx)

        language = policy.persona.language
        n = int(ctx.body.get("n") or 1)
        model = ctx.requested_model or ctx.model
        if action == "handoff":
            ctx.response_headers["x-bedside-rails"] = "handoff"
            if self._handoff is not None:
                ctx.response_headers["x-bedside-handoff"] = self._handoff.notify(ctx, reason=top.check, reasons=top.reasons, direction="input")
            else:
                self._rails_metrics.handoffs.labels(policy.name, top.check).inc()
            text = policy.microcopy.render("handoff", language, reference=ctx.request_id)
            return Completion.from_text(text, model=model, finish_reason="stop", short_circuit="rails", n=n)
        ctx.response_headers["x-bedside-rails"] = "blocked"
        text = policy.microcopy.render("refusal", language, reference=ctx.request_id)
        return Completion.from_text(text, model=model, finish_reason="content_filter", short_circuit="rails", n=n)

    def evaluate(self, policy_name: str, rails: Sequence[_Rail], texts: Sequence[InputText]) -> list[_Failure]:
        """Run every rail over the texts it applies to; returns the failures (thread-safe)."""
        failures: list[_Failure] = []
        verdicts = self._rails_metrics.verdicts
        for rail in rails:
            verdict = "pass"
            for item in texts:
                if item.source not in rail.sources:
                    continue
                outcome = run_validators(item.text, [rail.validator], metadata={"source": item.source})
                for f in outcome.failures:
                    error = "validator_error" in f.reasons
                    verdict = "error" if error else "fail"
                    action = "block" if error or (rail.action == "fix" and f.fix_value is None) else rail.action
                    failures.append(_Failure(rail.check, item.source, f.reasons, action, f.fix_value, item.index))
            verdicts.labels(policy_name, "input", rail.check, verdict).inc()
        return failures

"""Transcripts stage: record each turn, encrypted, for users who asked for it.

Runs inside the PII stage, after memory. Active only when the user granted the ``transcripts``
purpose and the conversation is ``standard`` (``ctx.facts["consent"]``, written by the consent
stage; ``sensitive`` and ``no-store`` conversations are never transcribed).

Reads: the last user message (redacted here; its turn number counts the turns an upstream keeps,
``ctx.facts["thread"]``) and the reply's text (choice 0, as the model wrote
it), both put back to the user's own values with this request's vault (``ctx.facts["pii_vault"]``,
when PII redaction is on): a transcript is the user's own record of what they said and read.
Readings (emotion label and intensity, tone rules applied) go beside it as machine values.
Writes: one encrypted row per turn (:class:`~proxy.privacy.transcripts.TranscriptWriter`) after a
reply that ended normally; decision ``transcripts`` (recorded or not, never content).
Short-circuits: never. Fails **open**: a failure to write logs ``transcript_failed`` with the
exception type only and counts ``bedside_stage_failures_total{stage="transcripts",mode="open"}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta, FinishDelta, TextDelta
from proxy.pipeline.stage import Next
from proxy.privacy.pseudonyms import restore
from proxy.privacy.transcripts import TranscriptWriter, should_record
from proxy.stages.messages import last_user_index, text_of

_NORMAL_END = frozenset({"stop", "length", "tool_calls", "function_call"})


class TranscriptsStage:
    name: ClassVar[str] = "transcripts"

    def __init__(self, writer: TranscriptWriter, metrics: Metrics) -> None:
        self._writer = writer
        self._metrics = metrics

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        consent = ctx.facts.get("consent")
        messages = ctx.body.get("messages")
        granted = consent["granted"] if consent is not None else None
        sensitivity = consent["sensitivity"] if consent is not None else None
        if ctx.endpoint != "chat" or not ctx.user_id or not isinstance(messages, list) or not should_record(granted, sensitivity):
            return await call_next(ctx)
        last = last_user_index(messages)
        said = text_of(messages[last].get("content")) if last is not None else ""
        history = ctx.facts.get("thread")  # turns an upstream keeps come before these
        turn = (history.user_turns if history is not None else 0) + sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "user")
        policy = ctx.require_policy()
        completion = await call_next(ctx)
        if completion.short_circuit is not None:
            return completion
        conversation = ctx.conversation_id or ctx.request_id

        async def after(deltas: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
            normal = True
            reply: list[str] = []
            async for delta in deltas:
                if isinstance(delta, TextDelta) and delta.choice == 0:
                    reply.append(delta.text)
                elif isinstance(delta, FinishDelta) and delta.reason not in _NORMAL_END:
                    normal = False
                yield delta
            if normal:
                await self._record(ctx, conversation, turn, policy, said, "".join(reply))

        return completion.map_deltas(after)

    async def _record(self, ctx: RequestContext, conversation: str, turn: int, policy: Any, said: str, reply: str) -> None:
        vault = ctx.facts.get("pii_vault")
        if vault is not None:
            said, reply = restore(said, vault), restore(reply, vault)
        try:
            scope = self._writer.subjects.scope(ctx.tenant, ctx.user_id)
            await self._writer.record(scope, conversation, turn, policy, _readings(ctx), said, reply)
            ctx.decide(self.name, recorded=True)
        except Exception as exc:  # noqa: BLE001 - transcripts fail open
            self._metrics.stage_failures.labels(self.name, "open").inc()
            ctx.decide(self.name, recorded=False, failed="write")
            get_logger().warning("transcript_failed", stage=self.name, error_type=type(exc).__name__)


def _readings(ctx: RequestContext) -> dict[str, Any]:
    """Machine values about the turn: the emotion reading and the tone rules applied."""
    out: dict[str, Any] = {}
    emotion = ctx.facts.get("emotion")
    current = getattr(emotion, "current", None)
    if current is not None:
        out["emotion"] = str(current.label)
        out["intensity"] = round(float(current.intensity), 3)
    rules = ctx.decisions.get("tone", {}).get("rules")
    if isinstance(rules, list):
        out["tone_rules"] = [str(r) for r in rules]
    return out

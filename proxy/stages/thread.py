"""Thread stage: Bedside's side of a conversation the upstream keeps.

A request that continues a conversation the upstream holds (the Responses API's
``previous_response_id`` or ``conversation``: ``ctx.thread``, set by the route) does not resend the
earlier turns, so the PII stage could not number placeholders from them and the emotion stage could
not read their trend. This stage gives both what Bedside kept of those turns, and keeps the new
state after the reply.

Reads: ``ctx.thread``, ``ctx.tenant``, ``ctx.user_id`` (else a fingerprint of the client's key: such
threads belong to the key), ``ctx.conversation_source``.
Writes: ``ctx.facts["thread"]`` (the earlier turns' pseudonym vault and emotion readings),
``ctx.thread.resume_from`` (the upstream id to continue from), ``ctx.conversation_id`` (the thread's,
unless the client named one), decision ``thread`` (whether it continued, saved: never ids or
values). After a reply that ended normally and that the upstream keeps (``store`` not false), the
state (the vault as the PII stage left it, the readings as the emotion stage left them) is saved,
encrypted, under the reply's id before the reply's last event goes out, so the next request can
continue from it at once. A reply Bedside wrote itself (a refusal) is saved too, pointing the
upstream back at the turn before it.
Short-circuits: 404 ``previous_response_not_found`` when the id is not one of this user's (another
user's or tenant's ids read as unknown) or cannot be read any more (shredded, expired).
Fails **closed**: when the store cannot be read the request is refused (503); a failed save is
logged and counted (the reply has gone out; continuing from it then gives 404).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from proxy.errors import BedsideError, NotFound, ServiceUnavailable
from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext, ThreadHistory, ThreadRef
from proxy.pipeline.deltas import Delta, FinishDelta
from proxy.pipeline.stage import Next
from proxy.privacy.threads import ThreadState, ThreadStore
from proxy.stages.identity import key_fingerprint

__all__ = ["ThreadStage", "thread_owner"]

UNAVAILABLE = "Bedside could not read what it keeps of this conversation, so the request was not sent. Please try again in a moment."
_ALTERING = frozenset({"block", "fix", "handoff"})


def thread_owner(user_id: str | None, headers: Mapping[str, str]) -> str:
    """Whose threads these are: the end user, else the client's key (a fingerprint of it)."""
    return user_id if user_id else f"\x00key:{key_fingerprint(dict(headers))}"


def not_found(kind: str, param: str) -> NotFound:
    what = "conversation" if kind == "conversation" else "response"
    return NotFound(
        f"There is no earlier {what} with this id for you here: it may belong to another user, have expired or been deleted, or its model server "
        "does not keep responses. Start a new conversation without it, or send the earlier turns in 'input'.",
        param=param,
        code=f"{'conversation' if kind == 'conversation' else 'previous_response'}_not_found",
    )


class ThreadStage:
    name: ClassVar[str] = "thread"

    def __init__(self, store: ThreadStore | None, metrics: Metrics) -> None:
        self._store = store
        self._metrics = metrics

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        ref = ctx.thread
        store = self._store
        if ref is None or store is None:
            if ref is not None and ref.continues is not None:
                raise ServiceUnavailable(UNAVAILABLE, code="thread_store_unavailable")
            return await call_next(ctx)
        scope = store.scope(ctx.tenant, thread_owner(ctx.user_id, ctx.headers))
        prior = await self._prior(ctx, ref, store, scope) if ref.continues is not None else None
        turns = (prior.user_turns if prior is not None else 0) + sum(1 for m in ctx.body.get("messages") or () if isinstance(m, dict) and m.get("role") == "user")
        ctx.decide(self.name, kind=ref.kind, continued=prior is not None)
        completion = await call_next(ctx)
        if not ref.keep:
            return completion
        return completion.map_deltas(lambda d: self._save_after(d, ctx, completion, ref, store, scope, prior, turns))

    async def _prior(self, ctx: RequestContext, ref: ThreadRef, store: ThreadStore, scope: Any) -> ThreadState:
        assert ref.continues is not None
        try:
            prior = await (store.claim(scope, ref.continues) if ref.kind == "conversation" else store.load(scope, ref.continues))
        except Exception as exc:  # noqa: BLE001 - fail closed: without the state neither isolation nor restore holds
            self._metrics.stage_failures.labels(self.name, "closed").inc()
            get_logger().warning("thread_read_failed", stage=self.name, error_type=type(exc).__name__)
            raise ServiceUnavailable(UNAVAILABLE, code="thread_store_unavailable") from None
        if prior is None:
            raise not_found(ref.kind, "conversation" if ref.kind == "conversation" else "previous_response_id")
        ref.resume_from = ref.continues if ref.kind == "conversation" else prior.resume_from
        ctx.facts["thread"] = ThreadHistory(vault=_vault(prior.vault), emotion=_emotion(prior.emotion), user_turns=prior.user_turns)
        if ctx.conversation_source != "header" and prior.conversation_id:
            ctx.conversation_id = prior.conversation_id
            if "x-bedside-conversation" in ctx.response_headers:  # the id identity derived is not this thread's
                ctx.response_headers["x-bedside-conversation"] = prior.conversation_id
            ctx.conversation_source = "thread"
        return prior

    async def _save_after(
        self, deltas: AsyncIterator[Delta], ctx: RequestContext, completion: Completion, ref: ThreadRef, store: ThreadStore, scope: Any, prior: ThreadState | None, turns: int
    ) -> AsyncIterator[Delta]:
        finish: str | None = None
        async for delta in deltas:
            if isinstance(delta, FinishDelta) and delta.choice == 0:
                finish = delta.reason
            yield delta
        # the reply ended normally: keep the state before the route writes the reply's last event
        state = self._state(ctx, prior, turns, altered=finish == "content_filter" or _altered(ctx.decisions))
        targets: list[tuple[str, ThreadState]] = []
        if completion.kept_as:
            targets.append((completion.kept_as, dataclasses.replace(state, resume_from=completion.kept_as)))
        elif completion.short_circuit is not None and ref.kind == "response" and isinstance(completion.meta.get("id"), str):
            targets.append((completion.meta["id"], dataclasses.replace(state, resume_from=ref.resume_from)))
        if ref.kind == "conversation" and ref.continues:
            targets.append((ref.continues, dataclasses.replace(state, resume_from=ref.continues)))
        saved = 0
        for thread_id, thread_state in targets:
            try:
                if await store.save(scope, thread_id, thread_state):
                    saved += 1
                else:
                    get_logger().warning("thread_save_refused", stage=self.name, detail="the reply id already belongs to another user")
            except Exception as exc:  # noqa: BLE001 - the reply went out; continuing from it will say the id is unknown
                self._metrics.stage_failures.labels(self.name, "closed").inc()
                get_logger().warning("thread_save_failed", stage=self.name, error_type=type(exc).__name__)
        ctx.decide(self.name, saved=saved)

    def _state(self, ctx: RequestContext, prior: ThreadState | None, turns: int, *, altered: bool) -> ThreadState:
        from proxy.detectors.emotion_conversation import prior_state

        vault = ctx.facts.get("pii_vault")
        conv = ctx.facts.get("emotion")
        return ThreadState(
            vault=vault.export_state() if vault is not None else (prior.vault if prior is not None else None),
            emotion=prior_state(conv) if conv is not None else (prior.emotion if prior is not None else None),
            conversation_id=ctx.conversation_id,
            user_turns=turns,
            upstream=ctx.upstream_name,
            altered=altered,
        )


def _altered(decisions: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether a stage changed or stopped the reply (its recorded decisions say so)."""
    rails = decisions.get("output_rails") or {}
    if rails.get("reask") or any(isinstance(f, dict) and f.get("action") in _ALTERING for f in rails.get("failures") or ()):
        return True
    return bool((decisions.get("pii") or {}).get("output_masked"))


def _vault(state: Any) -> Any:
    if not isinstance(state, dict):
        return None
    from proxy.privacy.pseudonyms import PseudonymVault

    try:
        return PseudonymVault.from_state(state)
    except (AssertionError, ValueError, TypeError):
        raise BedsideError("Bedside's record of this conversation is damaged.", code="thread_state_damaged") from None


def _emotion(state: Any) -> Any:
    if not isinstance(state, dict):
        return None
    from proxy.detectors.emotion_conversation import prior_from_state

    try:
        return prior_from_state(state)
    except ValueError:
        return None  # the trend starts afresh: emotion fails open

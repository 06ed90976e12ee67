"""The one interface: a stage, and the runner that composes stages around the upstream call.

::

    Next = Callable[[RequestContext], Awaitable[Completion]]

    class Stage(Protocol):
        name: ClassVar[str]
        async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion: ...

A stage may

* edit ``ctx.body`` (the request) and then ``await call_next(ctx)``;
* reject **before** the reply starts by raising a ``BedsideError``;
* answer without the upstream by returning ``Completion.from_text(...)`` (short-circuit);
* wrap the reply's deltas (``completion.map_deltas(...)``) to check or rewrite the output. Once the
  reply is streaming a stage never raises: it ends the stream with a refusal text and
  ``finish_reason: "content_filter"``.

Stages are built once at start-up with explicit arguments and hold no per-request state. A
stage with something ``/readyz`` should report (a detector that may be degraded) also implements
:class:`Readiness`.

**A stage with nothing to do under a policy is not run for it.** The stage that picks the request's
policy says so (``selects_policy = True``: the policy stage); the stages inside it are composed
into one chain per policy, once (the first request under a policy version builds it), leaving out
each stage that sits that policy out (:func:`applies`): its own ``applies(policy)`` when it has
one, else a stage named after a policy section with ``enabled: false`` (emotion, tone, pii,
memory). Such a stage is not timed either (no ``ctx.timings`` entry, no stage metric), since it
ran no code. A stage may sit a policy out only if it would have passed every request under it
straight on: it writes no decision, fact or header then (``tests/pipeline/test_stage_skipping.py``
checks every stage against the example policies).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext

Next = Callable[[RequestContext], Awaitable[Completion]]


@runtime_checkable
class Stage(Protocol):
    """A concern of the pipeline: identity, policy, emotion, pii, forward, ..."""

    name: ClassVar[str]

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion: ...


@runtime_checkable
class Readiness(Protocol):
    """A stage that reports to ``/readyz``: ``{"ok": bool, "degraded": bool, "detail": str, ...}``
    (a true ``degraded`` adds a warning naming the stage)."""

    def readiness(self) -> dict[str, Any]: ...


def applies(stage: Stage, policy: Any) -> bool:
    """Whether ``stage`` has anything to do for requests under ``policy`` (None: no policy, always).

    Its own ``applies(policy)`` when it has one; otherwise False only when ``policy`` has a section
    named after the stage that is switched off (``enabled: false``)."""
    if policy is None:
        return True
    own = getattr(stage, "applies", None)
    if callable(own):
        return bool(own(policy))
    return getattr(getattr(policy, stage.name, None), "enabled", None) is not False


class Pipeline:
    """Stages, outermost first, around a terminal ``Next`` (the upstream forwarder).

    The chain is composed once; the part inside the stage that selects the policy, once per policy
    (see the module's docstring). Each stage's request-phase time (its own, excluding the stages
    inside it) is recorded in ``ctx.timings[stage.name]``.
    """

    #: chains per policy kept at most (old policy versions fall out when a reload adds more)
    MAX_CHAINS = 64

    def __init__(self, stages: Sequence[Stage], terminal: Next) -> None:
        self.stages = tuple(stages)
        self._terminal = terminal
        split = next((i + 1 for i, s in enumerate(self.stages) if getattr(s, "selects_policy", False)), len(self.stages))
        self._per_policy = self.stages[split:]
        self._chains: dict[int, tuple[Any, Next]] = {}
        self._full = _compose(self._per_policy, terminal)
        self._entry = _compose(self.stages[:split], self._for_policy if self._per_policy else terminal)

    async def __call__(self, ctx: RequestContext) -> Completion:
        return await self._entry(ctx)

    def chain(self, policy: Any) -> tuple[str, ...]:
        """The names of the stages run inside the policy stage for requests under ``policy``."""
        return tuple(s.name for s in self._per_policy if applies(s, policy))

    async def _for_policy(self, ctx: RequestContext) -> Completion:
        policy = ctx.policy
        if policy is None:
            return await self._full(ctx)
        found = self._chains.get(id(policy))
        if found is None or found[0] is not policy:  # id() of a policy object that is gone is reused
            if len(self._chains) >= self.MAX_CHAINS:
                self._chains.clear()
            found = self._chains[id(policy)] = (policy, _compose([s for s in self._per_policy if applies(s, policy)], self._terminal))
        return await found[1](ctx)


def _compose(stages: Sequence[Stage], terminal: Next) -> Next:
    call: Next = terminal
    for stage in reversed(stages):
        call = _timed(stage, call)
    return call


def _timed(stage: Stage, inner: Next) -> Next:
    name = stage.name

    async def run(ctx: RequestContext) -> Completion:
        started = time.perf_counter()
        inside = 0.0

        async def call_next(c: RequestContext) -> Completion:
            nonlocal inside
            t = time.perf_counter()
            try:
                return await inner(c)
            finally:
                inside += time.perf_counter() - t

        try:
            return await stage(ctx, call_next)
        finally:
            ctx.timings[name] = time.perf_counter() - started - inside

    return run

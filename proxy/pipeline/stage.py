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


class Pipeline:
    """Stages, outermost first, around a terminal ``Next`` (the upstream forwarder).

    The chain is composed once. Each stage's request-phase time (its own, excluding the stages
    inside it) is recorded in ``ctx.timings[stage.name]``.
    """

    def __init__(self, stages: Sequence[Stage], terminal: Next) -> None:
        self.stages = tuple(stages)
        self._terminal = terminal
        call: Next = terminal
        for stage in reversed(self.stages):
            call = _timed(stage, call)
        self._entry = call

    async def __call__(self, ctx: RequestContext) -> Completion:
        return await self._entry(ctx)


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

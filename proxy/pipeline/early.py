"""``EarlyWork``: work a stage starts for a later stage of the same request, so the two overlap.

The stage order is fixed (outermost first), so a later stage's work normally starts only when the
request reaches it. Some work does not depend on what the stages in between do, and waiting for
it is pure latency: the PII analysis of a request's new turns does not depend on the emotion
reading of those turns (nor on the tone stage's guidance, which the PII walk skips), so the emotion
stage starts it before its own model read and both run on worker threads at once
(``docs/architecture.md``, "Overlapping the emotion read and the PII analysis").

The handle sits in ``ctx.facts`` under the later stage's key. The later stage :meth:`take`s it
and awaits the task: its result, or its exception, is exactly what the work itself gave. Whoever
started it calls :meth:`discard` once the request has gone past the later stage (``finally``), so
work nobody took (the request failed or was cancelled in between) is cancelled and its outcome is
never reported as an unretrieved task exception. A handle is one request's: it is never shared.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["EarlyWork"]

T = TypeVar("T")


class EarlyWork(Generic[T]):
    """A task started now (on the running loop) for a later stage; ``key`` says what it was started
    for, so the later stage takes it only when it would have done the very same work."""

    __slots__ = ("_task", "key", "taken")

    def __init__(self, key: Hashable, work: Coroutine[Any, Any, T]) -> None:
        self.key = key
        self.taken = False
        self._task: asyncio.Task[T] = asyncio.ensure_future(work)

    def take(self, key: Hashable) -> asyncio.Task[T] | None:
        """The task, once, for the stage it was started for (``key`` equal); None otherwise (that
        stage then does its work itself, and the work started early is discarded)."""
        if self.taken or key != self.key:
            self.discard()
            return None
        self.taken = True
        return self._task

    def discard(self) -> None:
        """Cancel the work if nobody took it (idempotent); its outcome is consumed, never reported."""
        if self.taken:
            return
        self.taken = True
        self._task.cancel()
        self._task.add_done_callback(_consume)


def _consume(task: asyncio.Task[Any]) -> None:
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.exception()

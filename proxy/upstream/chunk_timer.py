"""The wait for each chunk of a streamed upstream reply, bounded without a timer per chunk.

Reads: a stream's chunk iterator, the running event loop's clock. Writes: nothing; raises
``UpstreamTimeout`` (kind ``upstream_stream_idle``) when one wait lasts ``idle`` seconds or runs
into the exchange's deadline, and (kind ``upstream_total_timeout``) when a wait would begin past
that deadline. Short-circuits: never reads on its own; a wait cancelled by someone else (the client
went away) stays a cancellation.

``asyncio.timeout`` around every read builds a context object, looks up the current task and
schedules and cancels a timer per chunk: on a stream of a few hundred chunks that is a good part of
the proxy's own work per chunk. :class:`ChunkTimer` keeps one timer per stream instead, armed at the
first wait: when it fires during a wait that is not yet over its limit it re-arms itself for that
limit; when it fires between waits it simply lapses (the next wait arms it again). A wait costs
reading the clock and noting the waiting task.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from proxy.errors import UpstreamTimeout

__all__ = ["ChunkTimer"]


def _silent() -> UpstreamTimeout:
    return UpstreamTimeout("The model server went silent in the middle of its reply.", kind="upstream_stream_idle")


class ChunkTimer:
    """Bounds each :meth:`next` by ``idle`` seconds and by ``deadline`` (a ``time.monotonic()``
    value); :meth:`close` at the end of the stream."""

    __slots__ = ("_cancelling", "_deadline", "_expired", "_handle", "_idle", "_loop", "_since", "_task")

    def __init__(self, idle: float, deadline: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._idle = idle
        self._deadline = self._loop.time() + (deadline - time.monotonic())  # in the loop's clock
        #: the task waiting for a chunk now (None between waits), and since when
        self._task: asyncio.Task[object] | None = None
        self._since = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._expired = False
        self._cancelling = 0

    async def next(self, source: AsyncIterator[bytes]) -> bytes | None:
        """The next chunk of ``source``, or None at its end."""
        now = self._loop.time()
        if now >= self._deadline:
            raise UpstreamTimeout("The model server's reply took longer than allowed.", kind="upstream_total_timeout")
        task = self._task = asyncio.current_task()
        self._since = now
        if self._handle is None:
            self._handle = self._loop.call_at(min(now + self._idle, self._deadline), self._fire)
        try:
            return await anext(source)
        except StopAsyncIteration:
            return None
        except asyncio.CancelledError:
            if self._expired and task is not None and task.uncancel() <= self._cancelling:
                self._expired = False
                raise _silent() from None
            raise
        finally:
            self._task = None

    def _fire(self) -> None:
        self._handle = None
        task = self._task
        if task is None or self._expired:
            return  # between two waits: the next one arms the timer again
        limit = min(self._since + self._idle, self._deadline)
        if self._loop.time() < limit:
            self._handle = self._loop.call_at(limit, self._fire)
            return
        self._expired = True
        self._cancelling = task.cancelling()
        task.cancel()

    def close(self) -> None:
        """Stop the timer (the stream ended, failed or was closed)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

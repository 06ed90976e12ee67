"""The outcome writer: requests hand their facts to a bounded queue; one thread writes them in batches.

:meth:`OutcomeRecorder.submit` is what the request path pays: a ``put_nowait`` on a
``queue.Queue`` (a few microseconds, never a database call on the event loop). The writer thread
wakes for the first update, lets more arrive for ``linger`` seconds without being woken for each
(a wake per request cost the serving thread ~17% of its time at concurrency 16: a futex call and a
GIL hand-over each), takes what is waiting (up to ``batch`` updates), merges them per conversation and writes them in
one transaction (:meth:`~proxy.storage.outcomes.OutcomeRepository.apply`). A full queue drops the
newest facts (``bedside_outcomes_total{result="dropped"}``, one warning per burst). When the
database is unreachable (a restart, a failover: SQLAlchemy's ``OperationalError``,
``InterfaceError`` or an invalidated connection) the batch is kept and retried with a backoff of
up to 5 s until the database answers again, while requests go on queueing (bounded as above); at
:meth:`stop` it is retried until the stop's timeout, then given up and logged. Any other failed
write is retried update by update, so only the update that cannot be written is lost (logged by
exception type, counted ``result="failed"``), and the thread carries on. Facts of a request that
began before its user's erasure are not written (``result="fenced"``: :mod:`proxy.storage.erasure_fences`).
A fence stands :data:`~proxy.storage.erasure_fences.FENCE_SECONDS`; facts of a request that began
longer ago than that (less a minute), held through an outage or queued behind a batch that was,
could outlive the fence of an erasure made meanwhile, so they are given up instead of written
(``result="expired"``, logged).
:meth:`flush` waits until everything submitted so far is written (feedback, tests, shutdown).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from proxy.logs import get_logger
from proxy.storage.engine import database_unreachable
from proxy.storage.erasure_fences import FENCE_SECONDS
from proxy.storage.outcomes import OutcomeRepository, OutcomeUpdate

#: held facts of requests that began longer ago than this are given up, not written: an erasure's
#: fence may be gone by the time the database answers (a minute's margin for the write itself)
STALE_SECONDS = FENCE_SECONDS - 60.0

_STOP = object()


def _began(update: OutcomeUpdate) -> datetime:
    at = update.began or update.at
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class OutcomeRecorder:
    """One per process: a bounded queue and one daemon writer thread (started on first use)."""

    def __init__(
        self,
        repo: OutcomeRepository,
        *,
        queue_size: int = 10000,
        batch: int = 256,
        linger: float = 0.1,
        on_result: Callable[[str, int], None] | None = None,
        stale_seconds: float = STALE_SECONDS,
    ) -> None:
        self.repo = repo
        self._stale_seconds = stale_seconds
        self._linger = linger
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._batch = batch
        self._on_result = on_result or (lambda result, n: None)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._dropping = False
        #: set by flush and stop: the writer stops lingering and writes what is waiting now
        self._urgent = threading.Event()
        #: how long the last batch took to write (for benchmarks)
        self.last_write_ms = 0.0
        #: set by stop(): past it, a batch the unreachable database does not take is given up
        self._give_up_at: float | None = None
        self._failing_since: float | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="bedside-outcomes", daemon=True)
                self._thread.start()

    def submit(self, update: OutcomeUpdate) -> bool:
        """Queue one request's facts; False (counted) when the queue is full. Never blocks."""
        if self._thread is None:
            self.start()
        try:
            self._queue.put_nowait(update)
        except queue.Full:
            self._on_result("dropped", 1)
            if not self._dropping:
                self._dropping = True
                get_logger().warning("outcomes_dropped", detail="the outcome writer is behind (database slow or down): new conversation facts are dropped until it catches up")
            return False
        self._dropping = False
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every update submitted before this call is written (or failed); False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        self._urgent.set()
        return done.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is waiting, then end the thread."""
        thread = self._thread
        if thread is None:
            return
        self._give_up_at = time.monotonic() + timeout
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            return
        self._urgent.set()
        thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, OutcomeUpdate) and self._queue.qsize() < self._batch:
                # let more arrive for `linger` without waking this thread for each one (a wake per
                # request costs the serving thread a futex call and a GIL hand-over); flush and
                # stop cut the wait short
                self._urgent.wait(self._linger)
            self._urgent.clear()
            items = [item]
            while len(items) < self._batch:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            updates = [i for i in items if isinstance(i, OutcomeUpdate)]
            if updates:
                self._write(updates)
            for i in items:
                if isinstance(i, threading.Event):
                    i.set()
            if any(i is _STOP for i in items):
                return

    def _write(self, updates: list[OutcomeUpdate]) -> None:
        started = time.perf_counter()
        backoff = 0.05
        fenced_before = getattr(self.repo, "fenced", 0)
        updates = self._fresh(updates)  # what queued up behind a batch held through an outage may be old too
        if not updates:
            return
        while True:
            try:
                self.repo.apply(updates)
                break
            except Exception as exc:  # noqa: BLE001 - outcomes fail open: serving never depends on them
                if not database_unreachable(exc) or (self._give_up_at is not None and time.monotonic() >= self._give_up_at):
                    self._failed(updates, exc)
                    return
                if self._failing_since is None:
                    self._failing_since = time.monotonic()
                    get_logger().error("outcomes_writer", result="failing", error_type=type(exc).__name__, count=len(updates) + self._queue.qsize())
                time.sleep(backoff)  # the database is restarting: keep the batch and try again
                backoff = min(backoff * 2, 5.0)
                updates = self._fresh(updates)
                if not updates:
                    return
        if self._failing_since is not None:
            get_logger().warning("outcomes_writer", result="recovered", duration_s=round(time.monotonic() - self._failing_since, 3))
            self._failing_since = None
        fenced = getattr(self.repo, "fenced", 0) - fenced_before  # their user was erased after the request began
        if fenced:
            self._on_result("fenced", fenced)
        self._on_result("recorded", len(updates) - fenced)
        self.last_write_ms = (time.perf_counter() - started) * 1000

    def _fresh(self, updates: list[OutcomeUpdate]) -> list[OutcomeUpdate]:
        """``updates`` without those held too long to be written safely (counted and logged)."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self._stale_seconds)
        kept = [u for u in updates if _began(u) > cutoff]
        if len(kept) < len(updates):
            self._on_result("expired", len(updates) - len(kept))
            get_logger().error(
                "outcomes_writer", result="expired", count=len(updates) - len(kept),
                detail="conversation facts held through a long database outage were given up: an erasure's fence may no longer stand",
            )  # fmt: skip
        return kept

    def _failed(self, updates: list[OutcomeUpdate], exc: Exception) -> None:
        if len(updates) > 1:  # one bad update must not take the batch with it: write them one by one
            for update in updates:
                self._write([update])
            return
        self._on_result("failed", 1)
        get_logger().error("outcomes_write_failed", error_type=type(exc).__name__, count=1)


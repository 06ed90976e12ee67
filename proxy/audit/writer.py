"""The audit writer: a bounded queue and one worker thread that writes events in batches.

``submit`` never blocks and never touches the database: it appends to the queue (or, when the
queue is full, refuses and counts the event as dropped: the caller decides what that means, see
``audit.on_failure``). The worker takes up to ``batch_size`` events at a time (waiting up to
``linger_seconds``, 0.1 s, for a batch to fill: a transaction costs about a millisecond of CPU
whatever its size, so under load the batch shares it) and sequences them in one transaction under
the sequencer's lock, after every event already pending (:meth:`AuditStore.add_and_integrate`),
then resolves the futures of callers waiting for their index (:meth:`AuditWriter.submit` with
``on_index``). An event someone waits for, :meth:`flush` and :meth:`stop` cut the wait short, so
only the request path's entries (nobody waits for them) linger.

When the database fails, nothing is dropped: the batch goes back to the front of the queue (or,
if it already reached ``audit_pending``, waits there for the sequencer) and the worker retries
with a backoff of up to 5 s, reporting :attr:`AuditWriter.healthy` False meanwhile. Slots can be
reserved ahead (:meth:`reserve`): a request admitted under ``fail_closed`` holds one, so its event
always has room.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from proxy.audit.store import AuditStore, PendingEvent
from proxy.logs import get_logger

OnIndex = Callable[[int | None, BaseException | None], None]


@dataclass
class _Item:
    event: PendingEvent
    on_index: OnIndex | None = None


@dataclass
class WriterStats:
    written: int = 0
    dropped: int = 0
    failures: int = 0
    last_error: str | None = None
    failing_since: float | None = None
    extra: dict[str, int] = field(default_factory=dict)


class AuditWriter:
    def __init__(self, store: AuditStore, *, capacity: int = 10_000, batch_size: int = 500, idle_seconds: float = 5.0, linger_seconds: float = 0.1) -> None:
        self.store = store
        self.capacity = capacity
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        #: how long the worker waits for a batch to fill once an event arrived (one transaction per
        #: batch, not per event: under load the database work per request shrinks with it)
        self.linger_seconds = linger_seconds
        self.stats = WriterStats()
        self._queue: deque[_Item] = deque()
        #: written to audit_pending, waiting for a sequencer to give them an index
        self._unsequenced: list[_Item] = []
        self._reserved = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._busy = False
        #: the worker is waiting for its batch to fill: submit() does not wake it for every event
        #: (a wake-up per event makes the worker take the GIL from the event loop each time)
        self._lingering = False
        #: someone waits (an event with ``on_index``, flush, stop): write what is queued now
        self._urgent = False

    # ---- callers ---------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        return self.stats.failing_since is None

    @property
    def queued(self) -> int:
        return len(self._queue) + len(self._unsequenced)

    def reserve(self) -> bool:
        """Hold a slot for an event to come (False when the queue is full or the store is failing)."""
        with self._cond:
            if not self.healthy or len(self._queue) + self._reserved >= self.capacity:
                return False
            self._reserved += 1
            return True

    def release(self) -> None:
        with self._cond:
            self._reserved = max(0, self._reserved - 1)

    def submit(self, event: PendingEvent, *, reserved: bool = False, on_index: OnIndex | None = None) -> bool:
        """Queue an event; False (and counted as dropped) when the queue has no room for it."""
        with self._cond:
            if reserved:
                self._reserved = max(0, self._reserved - 1)
            elif len(self._queue) + self._reserved >= self.capacity:
                self.stats.dropped += 1
                return False
            self._queue.append(_Item(event, on_index))
            if on_index is not None:
                self._urgent = True
            if not self._lingering or on_index is not None or len(self._queue) >= self.batch_size:
                self._cond.notify()
        if self._thread is None:
            self.start()
        return True

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="bedside-audit-writer", daemon=True)
            self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event has its index (True) or ``timeout`` passes (False)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._unsequenced or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._urgent = True  # the worker writes what is queued without lingering
                self._cond.notify_all()
                self._cond.wait(min(left, 0.05))
        return True

    def stop(self, timeout: float = 10.0) -> bool:
        """Flush, then end the worker. Returns False when events were still queued at the timeout."""
        flushed = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
        if not flushed:
            get_logger().error("audit_writer", result="stopped_with_queue", count=self.queued, detail="audit events were still queued when the process stopped")
        return flushed

    # ---- the worker ------------------------------------------------------------------------

    def _take(self) -> list[_Item]:
        with self._cond:
            while not self._queue and not self._unsequenced and not self._stopping:
                self._busy = False
                self._cond.notify_all()
                if not self._cond.wait(self.idle_seconds):
                    break  # idle: integrate what other processes left pending
            deadline = time.monotonic() + self.linger_seconds
            self._lingering = True
            while self._queue and len(self._queue) < self.batch_size and not self._stopping and not self._urgent:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            self._lingering = False
            self._urgent = False
            self._busy = True
            n = min(len(self._queue), self.batch_size)
            return [self._queue.popleft() for _ in range(n)]

    def _run(self) -> None:
        backoff = 0.05
        while True:
            with self._cond:
                if self._stopping and not self._queue and not self._unsequenced:
                    self._busy = False
                    self._cond.notify_all()
                    return
            batch = self._take()
            try:
                limit = self.batch_size * 2
                found: dict[str, int] = {}
                if batch:
                    # one transaction: the batch enters audit_pending and the sequencer takes in
                    # everything pending (ours and other processes'); a failure commits nothing
                    found = self.store.add_and_integrate([item.event for item in batch], limit)
                    self._unsequenced.extend(batch)
                    batch = []
                if not found or len(found) >= limit:
                    self.store.integrate_all(limit)  # idle, or more was pending than one round takes
                self._resolve(found)
                if self.stats.failing_since is not None:
                    get_logger().warning("audit_writer", result="recovered", duration_s=round(time.monotonic() - self.stats.failing_since, 3))
                self.stats.failing_since = None
                backoff = 0.05
            except Exception as exc:  # noqa: BLE001 - the store is down: keep every event, retry
                with self._cond:
                    self._queue.extendleft(reversed(batch))  # not written: back to the front, in order
                self.stats.failures += 1
                self.stats.last_error = type(exc).__name__
                if self.stats.failing_since is None:
                    self.stats.failing_since = time.monotonic()
                    get_logger().error("audit_writer", result="failing", error_type=type(exc).__name__, count=self.queued)
                with self._cond:
                    if self._stopping:
                        self._busy = False
                        self._cond.notify_all()
                        return
                    self._cond.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _resolve(self, found: dict[str, int]) -> None:
        if not self._unsequenced:
            return
        missing = [item.event.uid for item in self._unsequenced if item.event.uid not in found]
        if missing:  # integrated by another process's sequencer (or still pending)
            found = {**found, **self.store.indexes(missing)}
        waiting: list[_Item] = []
        for item in self._unsequenced:
            index = found.get(item.event.uid)
            if index is None:
                waiting.append(item)  # another sequencer's batch limit: next round
                continue
            self.stats.written += 1
            if item.on_index is not None:
                item.on_index(index, None)
        self._unsequenced = waiting

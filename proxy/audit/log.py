"""``AuditLog``: the one object the rest of Bedside uses to record events and read proofs.

* :meth:`AuditLog.submit` queues an event and returns at once (the request path: it never waits
  and never blocks the event loop); False means there was no room (counted as dropped).
* ``await`` :meth:`AuditLog.append` queues an event and waits until the sequencer gave it its
  index (privacy actions, erasure receipts); :meth:`append_sync` does the same from a CLI command.
* :meth:`checkpoint` signs the current tree (integrating what is pending first);
  :meth:`inclusion_proof` and :meth:`consistency_proof` read RFC 6962 proofs from the store.

Database work runs in worker threads: the writer's own thread for appends, anyio's (bounded by a
capacity limiter) for reads and checkpoints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy.engine import Engine

from proxy.audit.checkpoint import Checkpoint, parse_body
from proxy.audit.events import AuditEvent
from proxy.audit.note import Signer, Verifier, split
from proxy.audit.store import AuditStore, PendingEvent
from proxy.audit.writer import AuditWriter
from proxy.crypto.subjects import SubjectKey
from proxy.errors import AuditUnavailable

T = TypeVar("T")


def pending(event: AuditEvent) -> PendingEvent:
    tenant = getattr(event, "tenant", None)
    subject = getattr(event, "subject", None)
    return PendingEvent(event.id, event.to_json(), (event.kind, tenant[:128] if tenant else None, subject))


class AuditLog:
    def __init__(
        self,
        engine: Engine,
        *,
        signer: Signer | None = None,
        origin: str | None = None,
        verifiers: list[Verifier] | None = None,
        subjects: SubjectKey | None = None,
        capacity: int = 10_000,
        batch_size: int = 500,
        write_timeout: float = 5.0,
        max_threads: int = 4,
        on_drop: Callable[[], None] | None = None,
    ) -> None:
        self.store = AuditStore(engine)
        self.writer = AuditWriter(self.store, capacity=capacity, batch_size=batch_size)
        self.signer = signer
        self.origin = origin or (signer.name if signer is not None else None)
        self.verifiers = verifiers if verifiers is not None else ([signer.verifier] if signer is not None else [])
        self.subjects = subjects
        self.write_timeout = write_timeout
        self.limiter = anyio.CapacityLimiter(max_threads)
        self._on_drop = on_drop

    # ---- subjects --------------------------------------------------------------------------

    def subject(self, tenant: str | None, user: str | None) -> str | None:
        """The keyed HMAC of (tenant, user) the log names people by; None without a user."""
        if self.subjects is None or not tenant or not user or not user.strip():
            return None
        try:
            return self.subjects.scope(tenant, user).subject
        except ValueError:
            return None

    # ---- writing ---------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether an event submitted now can be written (store answering, queue not full)."""
        return self.writer.healthy and self.writer.queued < self.writer.capacity

    def reserve(self) -> bool:
        return self.writer.reserve()

    def release(self) -> None:
        self.writer.release()

    def submit(self, event: AuditEvent, *, reserved: bool = False) -> bool:
        """Queue ``event`` without waiting. False: no room (counted in ``bedside_audit_dropped``)."""
        ok = self.writer.submit(pending(event), reserved=reserved)
        if not ok and self._on_drop is not None:
            self._on_drop()
        return ok

    async def append(self, event: AuditEvent, *, timeout: float | None = None) -> int:
        """Queue ``event`` and wait for its index. AuditUnavailable when there is no room or it is
        not written within ``timeout`` (default ``audit.write_timeout_seconds``); the event then
        stays queued and is written when the store answers again."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()

        def done(index: int | None, exc: BaseException | None) -> None:
            def settle() -> None:
                if future.done():
                    return
                if exc is not None:
                    future.set_exception(exc)
                else:
                    future.set_result(int(index or 0))

            loop.call_soon_threadsafe(settle)

        if not self.writer.submit(pending(event), on_index=done):
            if self._on_drop is not None:
                self._on_drop()
            raise AuditUnavailable("The audit log is not accepting entries right now (its queue is full). Try again in a moment.")
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout if timeout is not None else self.write_timeout)
        except TimeoutError:
            raise AuditUnavailable(
                "The audit log did not confirm this entry in time (its database is slow or down); the entry is still queued. Try again in a moment."
            ) from None

    def append_sync(self, event: AuditEvent) -> int:
        """Write ``event`` and sequence it now (blocking: for CLI commands). Returns its index."""
        item = pending(event)
        self.store.add_pending([item])
        self.store.integrate_all()
        return self.store.indexes([item.uid])[item.uid]

    # ---- reading ---------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    def checkpoint_sync(self) -> Checkpoint:
        if self.signer is None or self.origin is None:
            raise RuntimeError("this audit log has no signing key")
        self.writer.flush(self.write_timeout)  # what this process queued before the call is covered
        return self.store.sign(self.signer, self.origin)

    async def checkpoint(self) -> Checkpoint:
        """A signed checkpoint of the whole log: this process's queued events and every pending
        event are integrated first."""
        return await self._run(self.checkpoint_sync)

    def latest_checkpoint_sync(self) -> Checkpoint | None:
        found = self.store.latest_checkpoint()
        if found is None:
            return None
        origin, size, root = parse_body(split(found[1])[0])
        return Checkpoint(origin, size, root, found[1])

    async def latest_checkpoint(self) -> Checkpoint | None:
        return await self._run(self.latest_checkpoint_sync)

    async def tree_size(self) -> int:
        """How many entries the sequencer has integrated."""
        return (await self._run(self.store.state)).size

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return await self._run(self.store.inclusion_proof, index, size)

    async def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return await self._run(self.store.consistency_proof, old, new)

    async def entry(self, index: int) -> tuple[bytes, bytes] | None:
        return await self._run(self.store.entry, index)

    # ---- lifecycle and health --------------------------------------------------------------

    def start(self) -> None:
        self.writer.start()

    def stop(self, timeout: float = 10.0) -> bool:
        return self.writer.stop(timeout)

    def health(self) -> dict[str, Any]:
        s = self.writer.stats
        return {"ok": True, "healthy": self.writer.healthy, "queued": self.writer.queued, "written": s.written, "dropped": s.dropped, "failures": s.failures, "last_error": s.last_error}

"""Human handoff: a signed event with the conversation's redacted context, POSTed to a webhook.

When a rail's action is ``handoff`` the person gets the policy's handoff message at once, and
:meth:`HandoffNotifier.notify` queues an event for the policy's ``rails.handoff.webhook_url`` so the
person does not have to repeat themselves. Delivery runs in background tasks and never blocks or
fails the person's reply: a bounded queue (full: the event is dropped, logged and counted), a few
worker tasks, one pooled aiohttp session, exponential back-off retries on connection errors,
timeouts, 5xx, 408 and 429 (other 4xx are permanent). Every attempt writes a log line
(``handoff_delivery``: policy, attempt, webhook_status, result) and a metric
(``bedside_handoff_deliveries_total``).

Durability: every event is written to an :class:`~proxy.rails.outbox.Outbox` (in a worker thread)
before a delivery worker sees it; a failed attempt records ``attempts`` and ``next_attempt_at``
there, and the row is deleted once the webhook accepted the event or Bedside gave up on it.
:meth:`HandoffNotifier.start` (the app's start-up) takes the pending rows again, so with the
database outbox (``handoff_outbox``, wired in ``proxy.services``) a restart or crash loses no
event; an attempt cut off by a crash may be repeated (receivers de-duplicate on the event id). The
default :class:`~proxy.rails.outbox.MemoryOutbox` keeps unit tests free of a database.

The event (JSON)::

    {"type": "bedside.handoff", "id": "hnd_…", "created": 1732300000, "timestamp": "2026-…Z",
     "policy": "healthcare-intake", "policy_version": "…", "direction": "input",
     "reason": "crisis", "reasons": ["self_harm", "kill_self"], "reference": "<request id>",
     "tenant": "acme", "subject": "<HMAC of the user id>", "conversation": "<conversation id>",
     "distress": true, "context": [{"role": "user", "content": "…redacted…"}, …]}

Headers: ``X-Bedside-Event`` (the id; the same on every retry, so receivers can de-duplicate),
``X-Bedside-Attempt``, and, when the policy names ``secret_env`` and that variable is set,
``X-Bedside-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``
(:func:`verify_signature` checks one).

Privacy: ``context`` holds the last ``context_turns`` user and assistant turns of the request *as
the input rails stage saw them*, which is after the PII stage has redacted them; system and tool
messages are left out. As a second line of defence every text also goes through ``redact``
(default :func:`proxy.rails.patterns.scrub_structured_pii`: e-mails, phones, cards, SSNs, IBANs,
IPs); the PII issue may pass a Presidio-backed redactor instead. The user is named by the
deployment's keyed HMAC (``subject``), never by raw id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from proxy.logs import get_logger
from proxy.marks import BEDSIDE_MARK
from proxy.metrics import Metrics
from proxy.pipeline.context import RequestContext
from proxy.rails.messages import text_of
from proxy.rails.metrics import RailsMetrics
from proxy.rails.outbox import HandoffTarget, MemoryOutbox, Outbox, OutboxItem
from proxy.rails.patterns import scrub_structured_pii

__all__ = ["HandoffNotifier", "HandoffTarget", "Outbox", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Bedside-Signature"
_MAX_TURN_CHARS = 2000
_RETRY_STATUSES = frozenset({408, 425, 429})


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: bytes, header: str, body: bytes, *, tolerance: float = 300.0, now: float | None = None) -> bool:
    """Whether ``header`` is a valid signature of ``body`` no older than ``tolerance`` seconds."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


class HandoffNotifier:
    """Builds, queues and delivers handoff events. One per app; safe to share between requests."""

    def __init__(
        self,
        hasher: Callable[[str | None], str | None],
        metrics: Metrics | RailsMetrics,
        *,
        redact: Callable[[str], str] = scrub_structured_pii,
        queue_size: int = 256,
        workers: int = 2,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        environ: Mapping[str, str] | None = None,
        outbox: Outbox | None = None,
        sweep_seconds: float = 30.0,
    ) -> None:
        self._outbox: Outbox = MemoryOutbox() if outbox is None else outbox
        #: how often :meth:`start`'s sweep takes up events nobody delivers (a replica that died); 0: never
        self._sweep_seconds = sweep_seconds
        #: outbox writes in progress (each awaited by the request that raised the handoff)
        self._writing = 0
        self._queued: set[str] = set()
        self._hasher = hasher
        self._metrics = metrics if isinstance(metrics, RailsMetrics) else RailsMetrics(metrics)
        self._redact = redact
        self._queue_size = queue_size
        self._workers = workers
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._environ = os.environ if environ is None else environ
        self._queue: asyncio.Queue[OutboxItem] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None

    @property
    def rails_metrics(self) -> RailsMetrics:
        """The rails counters this notifier counts on (shared with the rails stages)."""
        return self._metrics

    def __repr__(self) -> str:
        pending = len(self._queued) + self._writing
        return f"HandoffNotifier(pending={pending})"

    # ---- building ---------------------------------------------------------------------------
    def build_event(self, ctx: RequestContext, *, reason: str, reasons: tuple[str, ...] = (), direction: str = "input") -> dict[str, Any]:
        """The event for ``ctx``'s conversation, with redacted context only."""
        policy = ctx.policy
        turns = policy.rails.handoff.context_turns if policy is not None else 10
        emotion = ctx.facts.get("emotion")
        now = time.time()
        return {
            "type": "bedside.handoff",
            "id": f"hnd_{uuid.uuid4().hex}",
            "created": int(now),
            "timestamp": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
            "policy": getattr(policy, "name", None),
            "policy_version": getattr(policy, "version_header", None),
            "direction": direction,
            "reason": reason,
            "reasons": list(reasons),
            "reference": ctx.request_id,
            "tenant": ctx.tenant,
            "subject": self._hasher(ctx.user_id),
            "conversation": ctx.conversation_id,
            "distress": bool(getattr(emotion, "distress", False)) if emotion is not None else None,
            "context": self.context(ctx.body.get("messages"), turns),
        }

    def context(self, messages: Any, turns: int) -> list[dict[str, str]]:
        """The last ``turns`` user/assistant turns, each redacted and capped."""
        out: list[dict[str, str]] = []
        if not isinstance(messages, list):
            return out
        for m in messages:
            if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
                continue
            text = text_of(m.get("content")).strip()
            if text and not text.startswith(BEDSIDE_MARK):
                out.append({"role": str(m["role"]), "content": self._redact(text[:_MAX_TURN_CHARS])})
        return out[-turns:]

    # ---- queueing ---------------------------------------------------------------------------
    async def notify(self, ctx: RequestContext, *, reason: str, reasons: tuple[str, ...] = (), direction: str = "input") -> str:
        """Count the handoff, build its event, write it to the outbox and queue it; returns the event id.

        Waits for the outbox write (a worker thread; a few ms), so once the person's reply leaves, a
        restart cannot lose the event. Never raises and never waits for the webhook itself: the
        reply does not depend on delivery."""
        policy = ctx.policy
        name = getattr(policy, "name", "none")
        self._metrics.handoffs.labels(name, reason).inc()
        event = self.build_event(ctx, reason=reason, reasons=reasons, direction=direction)
        target = HandoffTarget.from_policy(policy.rails.handoff) if policy is not None else HandoffTarget(None)
        await self.submit(event, target)
        return str(event["id"])

    async def submit(self, event: dict[str, Any], target: HandoffTarget) -> bool:
        """Write ``event`` for ``target`` to the outbox (awaited), then queue it for delivery; False when
        there is no webhook or the queue is full (counted ``dropped`` and logged)."""
        policy = str(event.get("policy") or "none")
        log = get_logger()
        if not target.url:
            self._metrics.deliveries.labels(policy, "no_webhook").inc()
            log.warning("handoff_delivery", policy=policy, result="no_webhook", request_id=event.get("reference"))
            return False
        queue = self._ensure_started()
        if self._writing + queue.qsize() >= self._queue_size:
            self._metrics.deliveries.labels(policy, "dropped").inc()
            log.error("handoff_delivery", policy=policy, result="dropped", detail="handoff queue full", request_id=event.get("reference"))
            return False
        self._writing += 1
        try:
            await self._persist(event, target)
        finally:
            self._writing -= 1
        return True

    async def _persist(self, event: dict[str, Any], target: HandoffTarget) -> None:
        try:
            item = await asyncio.to_thread(self._outbox.add, event, target)
        except Exception:  # noqa: BLE001 - the outbox is down: still deliver from memory
            get_logger().error("handoff_outbox", result="write_failed", detail="delivering from memory only; a restart would lose this event", request_id=event.get("reference"), exc_info=True)
            item = OutboxItem(f"memory-{uuid.uuid4()}", event, target)
        self._enqueue(item)

    def _enqueue(self, item: OutboxItem) -> bool:
        queue = self._ensure_started()
        if item.id in self._queued:
            return False
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            get_logger().warning("handoff_outbox", result="deferred", detail="queue full; the event stays in the outbox for the next start", policy=item.event.get("policy"))
            return False
        self._queued.add(item.id)
        return True

    async def start(self) -> int:
        """Start the workers, queue the events left in the outbox (by an earlier process) and, every
        ``sweep_seconds``, those another replica left when it died (it held them until then: the
        database outbox's locks); returns how many were queued now."""
        self._ensure_started()
        resumed = await self._resume()
        if self._sweep_seconds > 0:
            self._tasks.append(asyncio.get_running_loop().create_task(self._sweep(), name="handoff-sweep"))
        return resumed

    async def _resume(self) -> int:
        free = self._queue_size - len(self._queued)
        if free <= 0:
            return 0
        items = await asyncio.to_thread(self._outbox.pending, free)
        resumed = sum(1 for item in items if self._enqueue(item))
        if resumed:
            get_logger().info("handoff_outbox", result="resumed", count=resumed)
        return resumed

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_seconds)
            try:
                await self._resume()
            except Exception:  # noqa: BLE001 - the next sweep tries again; the events stay in the outbox
                get_logger().error("handoff_outbox", result="sweep_failed", detail="pending handoff events were not taken up; the next sweep tries again", exc_info=True)

    def _ensure_started(self) -> asyncio.Queue[OutboxItem]:
        if self._queue is None:
            self._queue = asyncio.Queue(self._queue_size)
        if not self._tasks:
            self._tasks = [asyncio.get_running_loop().create_task(self._work(), name=f"handoff-{i}") for i in range(self._workers)]
        return self._queue

    # ---- delivery ---------------------------------------------------------------------------
    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            item = await self._queue.get()
            try:
                if item.next_attempt_at is not None:
                    wait = (item.next_attempt_at - datetime.now(UTC)).total_seconds()
                    if wait > 0:
                        await asyncio.sleep(min(wait, self._max_backoff))
                await self.deliver(item.event, item.target, item=item)
            except Exception:  # noqa: BLE001 - a bug must not kill the worker
                get_logger().error("handoff_delivery", policy=item.event.get("policy"), result="error", exc_info=True)
            finally:
                self._queued.discard(item.id)
                self._queue.task_done()

    async def _still_waiting(self, item: OutboxItem) -> bool:
        """Whether ``item`` is still in the outbox (an erasure deletes its user's events, and a person
        the user asked to be forgotten by is not told about them afterwards). Delivered from memory
        only (the outbox write failed), or the outbox unreachable: yes (a hand-off is not held back)."""
        if item.id.startswith("memory-"):
            return True
        try:
            return await asyncio.to_thread(self._outbox.holds, item.id)
        except Exception:  # noqa: BLE001 - the database is down: deliver (the hand-off matters more than this check)
            get_logger().error("handoff_outbox", result="check_failed", detail="could not check the event is still pending; delivering", exc_info=True)
            return True

    async def _outbox_call(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            await asyncio.to_thread(fn, *args)
        except Exception:  # noqa: BLE001 - delivery goes on; the row may be retried after a restart
            get_logger().error("handoff_outbox", result="update_failed", exc_info=True)

    async def deliver(self, event: dict[str, Any], target: HandoffTarget, *, item: OutboxItem | None = None) -> bool:
        """POST ``event`` with retries (continuing after ``item.attempts``); True once the webhook answered 2xx.

        With an outbox ``item``: each failed attempt is recorded, and the row is removed at the end."""
        assert target.url
        first = item.attempts + 1 if item is not None else 1
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        policy = str(event.get("policy") or "none")
        body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
        secret = self._environ.get(target.secret_env) if target.secret_env else None
        log = get_logger()
        attempts = max(target.retries + 1, first)
        for attempt in range(first, attempts + 1):
            if item is not None and not await self._still_waiting(item):
                self._metrics.deliveries.labels(policy, "withdrawn").inc()
                gone = "the event left the outbox before this attempt (its user was erased)"
                log.info("handoff_delivery", policy=policy, attempt=attempt, result="withdrawn", detail=gone, request_id=event.get("reference"))
                await self._outbox_call(self._outbox.remove, item.id)  # nothing left to delete: lets go of the row's lock
                return False
            headers = {"content-type": "application/json", "x-bedside-event": str(event["id"]), "x-bedside-attempt": str(attempt)}
            if secret:
                headers[SIGNATURE_HEADER] = sign(secret.encode(), body, int(time.time()))
            status: int | None = None
            try:
                async with self._session.post(target.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=target.timeout)) as resp:
                    status = resp.status
                    await resp.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("handoff_delivery", policy=policy, attempt=attempt, result="retry" if attempt < attempts else "failed", error_type=type(exc).__name__, request_id=event.get("reference"))
            else:
                if 200 <= status < 300:
                    self._metrics.deliveries.labels(policy, "delivered").inc()
                    log.info("handoff_delivery", policy=policy, attempt=attempt, webhook_status=status, result="delivered", request_id=event.get("reference"))
                    if item is not None:
                        await self._outbox_call(self._outbox.remove, item.id)
                    return True
                permanent = 400 <= status < 500 and status not in _RETRY_STATUSES
                log.warning(
                    "handoff_delivery", policy=policy, attempt=attempt, webhook_status=status, result="failed" if permanent or attempt == attempts else "retry", request_id=event.get("reference")
                )
                if permanent:
                    break
            if attempt < attempts:
                self._metrics.deliveries.labels(policy, "retry").inc()
                delay = min(self._max_backoff, self._backoff * 2 ** (attempt - 1))
                if item is not None:
                    await self._outbox_call(self._outbox.retry_later, item.id, attempt, datetime.now(UTC) + timedelta(seconds=delay))
                await asyncio.sleep(delay)
        if item is not None:
            await self._outbox_call(self._outbox.remove, item.id)  # given up: logged and counted below
        self._metrics.deliveries.labels(policy, "failed").inc()
        log.error("handoff_delivery", policy=policy, result="failed", detail="the handoff webhook did not accept the event", request_id=event.get("reference"))
        return False

    async def _writes_done(self) -> None:
        """Until no request is between writing an event to the outbox and queueing it."""
        while self._writing:
            await asyncio.sleep(0.005)

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for queued events to be delivered; True when all were."""
        if self._queue is None:
            return True
        try:
            await asyncio.wait_for(self._join(), timeout)
            return True
        except TimeoutError:
            return False

    async def _join(self) -> None:
        await self._writes_done()
        if self._queue is not None:
            await self._queue.join()

    async def aclose(self, timeout: float = 2.0) -> None:
        """At shutdown: finish the outbox writes, drain briefly, then stop the workers and close the session.

        Events not delivered by then stay in the outbox; the next start delivers them (database outbox)."""
        await self._writes_done()
        if not await self.drain(timeout) and self._queue is not None:
            get_logger().error(
                "handoff_delivery", result="abandoned", count=len(self._queued), detail="shutdown before these handoff events were delivered; they stay in the outbox for the next start"
            )
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self._queue = None
        self._queued.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        with contextlib.suppress(Exception):  # the rows left are let go, for the next start of any replica
            await asyncio.to_thread(self._outbox.close)

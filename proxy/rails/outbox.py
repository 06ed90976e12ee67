"""Where handoff events wait for delivery: :class:`MemoryOutbox` (tests, no database) or
:class:`DatabaseOutbox` (the ``handoff_outbox`` table, so a restart loses none).

:class:`~proxy.rails.handoff.HandoffNotifier` writes an event here before its workers see it,
deletes it once the webhook accepted it (or gave up on it: logged and counted as ``failed``), records
``attempts`` and ``next_attempt_at`` after each failed attempt, and at start-up takes the pending
rows again. The methods are synchronous; the notifier calls them in a worker thread.

In the database the event and its target (webhook URL, the *name* of the signing secret's variable,
retries, timeout) are one envelope ciphertext (:mod:`proxy.crypto.envelope`) under a per-tenant
outbox data key: the event's context holds redacted user turns, and a webhook URL may carry a token.
Only the row id, event id, tenant, policy name, attempts and times are plain.

Several replicas share the table. On PostgreSQL each process holds a session-level advisory lock
on every row it is delivering (:class:`_Claims`: one connection of its own, taken before the row is
written, released when the row is removed or the process closes the outbox), and a start-up takes
only the rows whose lock it gets: a row another live replica is delivering or waiting to retry is
left to it, and the rows of a process that died (its connection, and so its locks, went with it)
are taken at once (by the next start, or by the sweep every running notifier makes:
:meth:`~proxy.rails.handoff.HandoffNotifier.start`). A database restart drops every lock; the rows still held are locked again on
the next use of the connection, and a replica starting in between may deliver one of them too
(receivers de-duplicate on the event id).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import CryptoError
from proxy.logs import get_logger
from proxy.policy.sections.rails import Handoff
from proxy.storage.repositories import UserScope
from proxy.storage.tables import HandoffOutboxRow
from proxy.storage.user_lock import advisory_key

__all__ = ["DatabaseOutbox", "HandoffTarget", "MemoryOutbox", "Outbox", "OutboxItem"]

TABLE = "handoff_outbox"
COLUMN = "payload"
#: the subject of the per-tenant data key that encrypts outbox payloads (not a user)
OUTBOX_SUBJECT = hashlib.sha256(b"bedside/handoff-outbox/v1").hexdigest()


@dataclass(frozen=True, slots=True)
class HandoffTarget:
    """Where and how one event is delivered (from the policy's ``rails.handoff``)."""

    url: str | None
    secret_env: str | None = None
    retries: int = 3
    timeout: float = 5.0

    @classmethod
    def from_policy(cls, handoff: Handoff) -> "HandoffTarget":
        return cls(handoff.webhook_url, handoff.secret_env, handoff.retries, handoff.timeout_seconds)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One event waiting for delivery; ``attempts`` were already made."""

    id: str
    event: dict[str, Any]
    target: HandoffTarget
    attempts: int = 0
    next_attempt_at: datetime | None = None


class Outbox(Protocol):
    def add(self, event: dict[str, Any], target: HandoffTarget) -> OutboxItem: ...
    def pending(self, limit: int) -> list[OutboxItem]: ...
    def retry_later(self, item_id: str, attempts: int, next_attempt_at: datetime) -> None: ...
    def remove(self, item_id: str) -> None: ...
    def holds(self, item_id: str) -> bool: ...
    def close(self) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryOutbox:
    """The outbox in a dict: the same interface, gone with the process (unit tests, no database)."""

    def __init__(self) -> None:
        self._items: dict[str, OutboxItem] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, event: dict[str, Any], target: HandoffTarget) -> OutboxItem:
        item = OutboxItem(str(uuid.uuid4()), event, target, 0, _now())
        with self._lock:
            self._items[item.id] = item
        return item

    def pending(self, limit: int) -> list[OutboxItem]:
        with self._lock:
            items = sorted(self._items.values(), key=lambda i: i.next_attempt_at or _now())
        return items[:limit]

    def retry_later(self, item_id: str, attempts: int, next_attempt_at: datetime) -> None:
        with self._lock:
            if item_id in self._items:
                self._items[item_id] = replace(self._items[item_id], attempts=attempts, next_attempt_at=next_attempt_at)

    def remove(self, item_id: str) -> None:
        with self._lock:
            self._items.pop(item_id, None)

    def holds(self, item_id: str) -> bool:
        with self._lock:
            return item_id in self._items

    def close(self) -> None:
        """Nothing to let go of (the items go with the process)."""


#: the advisory lock class (first int4 key) of handoff outbox rows
_LOCK_CLASS = int.from_bytes(b"bhnd", "big") & 0x7FFF_FFFF


class _Claims:
    """The outbox rows this process delivers, as session-level advisory locks on a connection of its
    own (PostgreSQL; elsewhere one process owns the database and every call says yes). Thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = engine.dialect.name == "postgresql"
        self._conn: sa.Connection | None = None
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def _try(self, conn: sa.Connection, row_id: str) -> bool:
        return bool(conn.execute(sa.select(sa.func.pg_try_advisory_lock(_LOCK_CLASS, advisory_key(row_id)))).scalar())

    def _connection(self) -> sa.Connection:
        if self._conn is not None and not self._conn.closed and not self._conn.invalidated:
            return self._conn
        if self._conn is not None:
            self._conn.close()
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")  # no transaction left open
        for row_id in list(self._held):  # the locks went with the old connection (a database restart): take them again
            self._try(conn, row_id)
        self._conn = conn
        return conn

    def take(self, row_id: str) -> bool:
        """Lock ``row_id`` for this process; False when another live process holds it."""
        if not self.enabled:
            return True
        with self._lock:
            if row_id in self._held:
                return True  # ours already (a second lock would need a second unlock)
            for attempt in (1, 2):
                try:
                    if not self._try(self._connection(), row_id):
                        return False
                    break
                except DBAPIError as exc:  # the database restarted under the connection: one more try on a new one
                    if attempt == 2 or not exc.connection_invalidated:
                        raise
            self._held.add(row_id)
            return True

    def release(self, row_id: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            if row_id not in self._held:
                return
            self._held.discard(row_id)
            if self._conn is not None and not self._conn.closed and not self._conn.invalidated:
                with contextlib.suppress(DBAPIError):  # a lost connection has let go of its locks already
                    self._conn.execute(sa.select(sa.func.pg_advisory_unlock(_LOCK_CLASS, advisory_key(row_id))))

    def close(self) -> None:
        """Let every row go (closing the connection drops its locks)."""
        with self._lock:
            self._held.clear()
            if self._conn is not None:
                if not self._conn.closed and not self._conn.invalidated:
                    with contextlib.suppress(DBAPIError):  # now, not when the server notices the session is gone
                        self._conn.execute(sa.select(sa.func.pg_advisory_unlock_all()))
                self._conn.invalidate()  # closes the database session itself (a pooled one would keep the locks)
                self._conn.close()
                self._conn = None


class DatabaseOutbox:
    """The ``handoff_outbox`` table; payloads envelope-encrypted under the tenant's outbox key."""

    def __init__(self, engine: Engine, envelope: Envelope) -> None:
        self.engine = engine
        self.envelope = envelope
        self._claims = _Claims(engine)

    @staticmethod
    def _scope(tenant: str) -> UserScope:
        return UserScope(tenant or "-", OUTBOX_SUBJECT)

    def add(self, event: dict[str, Any], target: HandoffTarget) -> OutboxItem:
        row_id = str(uuid.uuid4())
        tenant = str(event.get("tenant") or "-")[:128]
        plaintext = json.dumps(
            {"event": event, "target": {"url": target.url, "secret_env": target.secret_env, "retries": target.retries, "timeout": target.timeout}},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8", "surrogatepass")
        payload = self.envelope.encrypt_sync(self._scope(tenant), FieldRef(TABLE, row_id, COLUMN), plaintext)
        now = _now()
        self._claims.take(row_id)  # before the row exists: no other replica's start-up can take it first
        row = HandoffOutboxRow(
            id=row_id,
            event_id=str(event.get("id") or "")[:64],
            tenant=tenant,
            policy=str(event.get("policy") or "none")[:128],
            attempts=0,
            next_attempt_at=now,
            payload=payload,
            created_at=now,
        )
        try:
            with Session(self.engine) as session:
                session.add(row)
                session.commit()
        except Exception:
            self._claims.release(row_id)
            raise
        return OutboxItem(row_id, event, target, 0, now)

    def pending(self, limit: int) -> list[OutboxItem]:
        """Up to ``limit`` waiting events no other live process is delivering, oldest due first, taken
        for this one."""
        with Session(self.engine) as session:
            ids = list(session.exec(select(HandoffOutboxRow.id).order_by(HandoffOutboxRow.next_attempt_at)))  # type: ignore[arg-type]
        mine: list[str] = []
        for row_id in ids:
            if len(mine) >= limit:
                break
            if self._claims.take(row_id):
                mine.append(row_id)
        with Session(self.engine) as session:
            found = {r.id: r for r in session.exec(select(HandoffOutboxRow).where(col(HandoffOutboxRow.id).in_(mine)))} if mine else {}
        items: list[OutboxItem] = []
        for row_id in mine:
            row = found.get(row_id)
            if row is None:  # delivered and removed meanwhile
                self._claims.release(row_id)
                continue
            try:
                data = json.loads(self.envelope.decrypt_sync(self._scope(row.tenant), FieldRef(TABLE, row.id, COLUMN), row.payload))
            except (CryptoError, ValueError):
                self._claims.release(row_id)
                get_logger().error("handoff_delivery", policy=row.policy, result="unreadable", detail="an outbox row could not be decrypted; it stays for the operator")
                continue
            t = data["target"]
            at = row.next_attempt_at if row.next_attempt_at.tzinfo is not None else row.next_attempt_at.replace(tzinfo=UTC)
            items.append(OutboxItem(row.id, data["event"], HandoffTarget(t["url"], t["secret_env"], int(t["retries"]), float(t["timeout"])), row.attempts, at))
        return items

    def retry_later(self, item_id: str, attempts: int, next_attempt_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(HandoffOutboxRow).where(HandoffOutboxRow.id == item_id).values(attempts=attempts, next_attempt_at=next_attempt_at))  # type: ignore[arg-type]

    def remove(self, item_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(HandoffOutboxRow).where(HandoffOutboxRow.id == item_id))  # type: ignore[arg-type]
        self._claims.release(item_id)

    def holds(self, item_id: str) -> bool:
        """Whether the event still waits in the table (its user's erasure deletes it)."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(col(HandoffOutboxRow.id)).where(col(HandoffOutboxRow.id) == item_id)).first() is not None

    def close(self) -> None:
        """Let go of the rows still held (the next start of any replica takes them)."""
        self._claims.close()

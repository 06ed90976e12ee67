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
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import CryptoError
from proxy.logs import get_logger
from proxy.policy.sections.rails import Handoff
from proxy.storage.repositories import UserScope
from proxy.storage.tables import HandoffOutboxRow

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


class DatabaseOutbox:
    """The ``handoff_outbox`` table; payloads envelope-encrypted under the tenant's outbox key."""

    def __init__(self, engine: Engine, envelope: Envelope) -> None:
        self.engine = engine
        self.envelope = envelope

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
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
        return OutboxItem(row_id, event, target, 0, now)

    def pending(self, limit: int) -> list[OutboxItem]:
        with Session(self.engine) as session:
            rows = list(session.exec(select(HandoffOutboxRow).order_by(HandoffOutboxRow.next_attempt_at).limit(limit)))  # type: ignore[arg-type]
        items: list[OutboxItem] = []
        for row in rows:
            try:
                data = json.loads(self.envelope.decrypt_sync(self._scope(row.tenant), FieldRef(TABLE, row.id, COLUMN), row.payload))
            except (CryptoError, ValueError):
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

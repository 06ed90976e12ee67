"""Pending handoff events about one user, for export and erasure (``handoff_outbox``).

An outbox row names its user only *inside* its ciphertext (the event's ``subject``: the
deployment's keyed hash of the user id, the one logs use), under the tenant's outbox key. So
:class:`HandoffEvents` reads the tenant's pending rows page by page, decrypts each and keeps those
whose event names the user. The table is small: a row lives until its webhook accepted the event
or Bedside gave up on it. A row that does not decrypt cannot be attributed to anyone and is left
alone (the outbox logs it as ``unreadable`` for the operator).

Export shows each event as the webhook will receive it (its context was redacted before it was
stored) and only the *host* of its webhook (the URL may carry a token). Erasure deletes the user's
pending events: a person the user asked to be forgotten by is not told about them afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel
from sqlalchemy.engine import Connection, Engine

from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import CryptoError
from proxy.privacy.export_document import HandoffEvent
from proxy.privacy.user_data import StepResult, Who
from proxy.rails.outbox import COLUMN, OUTBOX_SUBJECT, TABLE
from proxy.storage import user_rows
from proxy.storage.repositories import UserScope
from proxy.storage.tables import HandoffOutboxRow

#: rows decrypted per database page while looking for one user's events
SCAN_PAGE = 200


def _host(url: Any) -> str | None:
    if not isinstance(url, str) or not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


class HandoffEvents:
    """Export source and erasure step for ``handoff_outbox``."""

    section = "handoff_events"
    tables: tuple[str, ...] = ("handoff_outbox",)
    table = "handoff_outbox"

    def __init__(self, engine: Engine, envelope: Envelope, hasher: Callable[[str | None], str | None]) -> None:
        self.engine = engine
        self.envelope = envelope
        self.hasher = hasher

    def _names(self, who: Who) -> set[str]:
        return {h for h in (self.hasher(who.user), self.hasher(who.user.strip())) if h}

    def _open(self, row: HandoffOutboxRow) -> dict[str, Any] | None:
        try:
            data = json.loads(self.envelope.decrypt_sync(UserScope(row.tenant or "-", OUTBOX_SUBJECT), FieldRef(TABLE, row.id, COLUMN), row.payload))
        except (CryptoError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _scan(self, who: Who, after: str | None, limit: int) -> tuple[list[tuple[HandoffOutboxRow, dict[str, Any]]], str | None]:
        """One page of the tenant's rows: the user's among them (row and decrypted payload), and the next key."""
        names = self._names(who)
        rows = user_rows.outbox_page(self.engine, who.tenant, after, limit)
        mine: list[tuple[HandoffOutboxRow, dict[str, Any]]] = []
        with self.envelope.batch():
            for row in rows:
                data = self._open(row)
                event = data.get("event") if data is not None else None
                if isinstance(event, dict) and event.get("subject") in names:
                    mine.append((row, data or {}))
        return mine, (rows[-1].id if len(rows) == limit else None)

    def _all(self, who: Who) -> Iterator[tuple[HandoffOutboxRow, dict[str, Any]]]:
        after: str | None = None
        while True:
            mine, after = self._scan(who, after, SCAN_PAGE)
            yield from mine
            if after is None:
                return

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        mine, following = self._scan(who, after, limit)
        items: list[BaseModel] = []
        for row, data in mine:
            created = row.created_at if row.created_at.tzinfo is not None else row.created_at.replace(tzinfo=UTC)
            target = data.get("target")
            items.append(
                HandoffEvent(
                    id=row.id,
                    event_id=row.event_id,
                    policy=row.policy,
                    created_at=created,
                    attempts=row.attempts,
                    recipient_host=_host(target.get("url")) if isinstance(target, dict) else None,
                    event=data.get("event"),
                )
            )
        return items, following

    def holds(self, who: Who) -> bool:
        return next(self._all(who), None) is not None

    def erase(self, who: Who, conn: Connection, tombstone: str) -> StepResult:
        ids = [row.id for row, _ in self._all(who)]
        return StepResult(user_rows.delete_outbox(conn, who.tenant, ids))

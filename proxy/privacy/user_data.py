"""Where one user's data lives, table by table: what export reads and erasure removes.

Two small interfaces, implemented once per kind of data (here for consent, memories, transcripts,
Responses API thread states, conversation outcomes and data keys; :mod:`proxy.rails.outbox_rights`
for pending handoff events):

* :class:`ExportSource` writes one list section of the export document
  (:data:`~proxy.privacy.export_document.LIST_SECTIONS`) a page at a time: ``page(who, after,
  limit)`` returns the items (export models) and the key to ask for the next page, or None at the end.
* :class:`ErasureStep` removes the user's rows from one table inside the caller's transaction, so
  the erasure journal records them in the same commit, and says whether it still ``holds`` anything.

Both name the tables they cover; :class:`~proxy.privacy.rights.UserRights` checks that every table
of the schema is covered or declared "not user data" (``proxy/privacy/inventory.py``). All methods
are synchronous (database and decryption); callers run them in a worker thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel
from sqlalchemy.engine import Connection, Engine

from proxy.crypto.keys import CryptoError, KeyDestroyed
from proxy.privacy.export_document import (
    AuditLogEvent,
    ConsentReceipt,
    DataKeyInfo,
    MemoryItem,
    MemorySource,
    PolicyRef,
    PseudonymValue,
    TranscriptTurn,
)
from proxy.privacy.memory import Memory, MemoryStore
from proxy.privacy.pseudonyms import PLACEHOLDER_RE
from proxy.privacy.threads import ThreadState, ThreadStore, vault_values
from proxy.privacy.transcripts import TranscriptWriter
from proxy.storage import user_rows
from proxy.storage.repositories import UserScope
from proxy.storage.tables import ThreadStateRow


@dataclass(frozen=True, slots=True)
class Who:
    """The user an export or erasure is about: the tenant's id for them and their scope. ``repr`` hides the id."""

    tenant: str
    user: str
    scope: UserScope

    def __repr__(self) -> str:
        return f"Who(tenant={self.tenant!r}, subject={self.scope.subject[:8]}...)"


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one erasure step did: rows ``deleted`` or ``detached`` (kept, no longer the user's), and for
    data keys what each destroyed key was (version, KEK id, times)."""

    count: int
    action: str = "deleted"
    keys: list[dict[str, Any]] = field(default_factory=list)


@runtime_checkable
class ExportSource(Protocol):
    section: str
    tables: tuple[str, ...]

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]: ...


@runtime_checkable
class ErasureStep(Protocol):
    table: str

    def holds(self, who: Who) -> bool: ...

    def erase(self, who: Who, conn: Connection, tombstone: str) -> StepResult: ...


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def unreadable_reason(exc: Exception) -> str:
    return "key_destroyed" if isinstance(exc, KeyDestroyed) else "decryption_failed"


# ---- consent -------------------------------------------------------------------------------------


class ConsentRecords:
    """``consent_events``: exported as receipts; on erasure *detached* (re-keyed to a random tombstone),
    so the decisions stay as proof of consent while nothing leads from the user to them."""

    section = "consent_receipts"
    tables: tuple[str, ...] = ("consent_events",)
    table = "consent_events"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        rows = user_rows.consent_page(self.engine, who.scope, after, limit)
        items: list[BaseModel] = [
            ConsentReceipt(
                id=r.receipt_id,
                created_at=utc(r.created_at),
                purpose=r.purpose,
                granted=r.granted,
                method=r.method,
                notice_version=r.notice_version,
                notice_hash=r.notice_hash,
            )
            for r in rows
        ]
        return items, (rows[-1].id if len(rows) == limit else None)

    def holds(self, who: Who) -> bool:
        return user_rows.holds(self.engine, self.table, who.scope)

    def erase(self, who: Who, conn: Connection, tombstone: str) -> StepResult:
        return StepResult(user_rows.detach_consent(conn, who.scope, tombstone), action="detached")


# ---- memories ------------------------------------------------------------------------------------


def _memory_item(memory: Memory) -> MemoryItem:
    return MemoryItem(
        id=memory.id,
        kind=memory.kind,
        topic=memory.topic or None,
        text=memory.plain_text(),
        text_with_placeholders=memory.text,
        values=dict(memory.values),
        source=MemorySource(conversation=memory.conversation, turn=memory.turn),
        created_at=memory.created,
        updated_at=memory.updated,
    )


class Memories:
    """``memories``: every row is exported (one the store cannot decrypt appears with ``unreadable``);
    erasure deletes them. Decryption goes through :meth:`MemoryStore.load_sync` (its public reader)."""

    section = "memories"
    tables: tuple[str, ...] = ("memories",)
    table = "memories"

    def __init__(self, engine: Engine, store: MemoryStore) -> None:
        self.engine = engine
        self.store = store

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        # a user's memories are few (the memory budget keeps them small): one page, read at once
        opened = {m.id: m for m in self.store.load_sync(who.scope)}
        items: list[BaseModel] = []
        for row in user_rows.memory_rows(self.engine, who.scope):
            memory = opened.get(row.id)
            if memory is not None:
                items.append(_memory_item(memory))
                continue
            items.append(
                MemoryItem(
                    id=row.id,
                    kind=row.kind,
                    topic=None,
                    text=None,
                    text_with_placeholders=None,
                    values={},
                    source=MemorySource(conversation=row.conversation, turn=row.turn),
                    created_at=utc(row.created_at),
                    updated_at=utc(row.updated_at),
                    unreadable="decryption_failed",
                )
            )
        return items, None

    def holds(self, who: Who) -> bool:
        return user_rows.holds(self.engine, self.table, who.scope)

    def erase(self, who: Who, conn: Connection, tombstone: str) -> StepResult:
        return StepResult(user_rows.delete_scoped(conn, self.table, who.scope))


class PseudonymValues:
    """The values behind placeholders that Bedside keeps beyond a request: those of the user's memories
    (one page: they are few), then those in the pseudonym vaults of their thread states (page by page).
    A request's own vault lives for that request only."""

    section = "pseudonym_values"
    tables: tuple[str, ...] = ("memories", "thread_states")

    def __init__(self, store: MemoryStore, engine: Engine, threads: ThreadStore) -> None:
        self.store = store
        self.engine = engine
        self.threads = threads

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        items: list[BaseModel] = []
        if after is None:  # first the memories' values, then the thread states' (key: ("thread_states", row key))
            for memory in self.store.load_sync(who.scope):
                for placeholder, value in sorted(memory.values.items()):
                    items.append(PseudonymValue(placeholder=placeholder, entity_type=_entity(placeholder), value=value, table="memories", row_id=memory.id))
            return items, ("thread_states", None)
        rows = user_rows.thread_state_page(self.engine, who.scope, after[1], limit)
        with self.threads.envelope.batch():
            for row in rows:
                state = open_thread(self.threads, who, row)
                if isinstance(state, ThreadState):
                    items += [PseudonymValue(placeholder=p, entity_type=t, value=v, table="thread_states", row_id=row.id) for p, t, v in vault_values(state)]
        last = rows[-1] if len(rows) == limit else None
        return items, (("thread_states", (last.created_at, last.id)) if last is not None else None)


def _entity(placeholder: str) -> str:
    match = PLACEHOLDER_RE.fullmatch(placeholder)
    return match.group("type") if match is not None else "UNKNOWN"


# ---- transcripts ---------------------------------------------------------------------------------


class Transcripts:
    """``transcripts``: every recorded turn, decrypted page by page (one data-key read per page)."""

    section = "transcripts"
    tables: tuple[str, ...] = ("transcripts",)
    table = "transcripts"

    def __init__(self, engine: Engine, writer: TranscriptWriter) -> None:
        self.engine = engine
        self.writer = writer

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        rows = user_rows.transcript_page(self.engine, who.scope, after, limit)
        items: list[BaseModel] = []
        with self.writer.envelope.batch():
            for row in rows:
                turn = self.writer.open(who.scope, row)
                items.append(
                    TranscriptTurn(
                        id=turn.id,
                        conversation=turn.conversation,
                        turn=turn.turn,
                        created_at=turn.created_at,
                        policy=PolicyRef(name=turn.policy_name, version=turn.policy_version),
                        readings=turn.readings,
                        user=turn.user_text,
                        reply=turn.reply_text,
                        unreadable=turn.unreadable,
                    )
                )
        last = rows[-1] if len(rows) == limit else None
        return items, ((last.created_at, last.id) if last is not None else None)

    def holds(self, who: Who) -> bool:
        return user_rows.holds(self.engine, self.table, who.scope)

    def erase(self, who: Who, conn: Connection, tombstone: str) -> StepResult:
        return StepResult(user_rows.delete_scoped(conn, self.table, who.scope))


# ---- thread states (Responses API) ---------------------------------------------------------------


def open_thread(threads: ThreadStore, who: Who, row: ThreadStateRow) -> ThreadState | str:
    """The decrypted state, or why it cannot be read."""
    try:
        return threads.open(who.scope, row)
    except CryptoError as exc:
        return unreadable_reason(exc)
    except (ValueError, TypeError):
        return "malformed"



class DataKeys:
    """``data_keys``: exported as metadata (never key material); erasure deletes the rows, wrapped keys
    included, which is the crypto-shredding: every copy of the user's ciphertexts is unreadable after."""

    section = "data_keys"
    tables: tuple[str, ...] = ("data_keys",)
    table = "data_keys"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        items: list[BaseModel] = [
            DataKeyInfo(
                version=k.key_version,
                kek_id=k.kek_id,
                created_at=utc(k.created_at),
                destroyed_at=utc(k.destroyed_at) if k.destroyed_at is not None else None,
                state="live" if k.wrapped_key is not None else "destroyed",
            )
            for k in user_rows.data_keys(self.engine, who.scope)
        ]
        return items, None

    def holds(self, who: Who) -> bool:
        return user_rows.holds(self.engine, self.table, who.scope)

    def erase(self, who: Who, conn: Connection, tombstone: str) -> StepResult:
        keys = user_rows.take_data_keys(conn, who.scope)
        return StepResult(len(keys), keys=keys)


__all__ = [
    "ConsentRecords",
    "DataKeys",
    "ErasureStep",
    "ExportSource",
    "Memories",
    "PseudonymValues",
    "StepResult",
    "Transcripts",
    "Who",
    "unreadable_reason",
]


# ---- the audit log ---------------------------------------------------------------------------------


class AuditEvents:
    """``audit_entries``: the entries naming the user by subject HMAC, exported as they were logged
    (marked ``audit_log_entry``). Not erased: the log is append-only and tamper-evident (deleting an
    entry breaks every signed checkpoint after it), holds no content, and records the erasure itself
    (``proxy/privacy/inventory.py`` says so)."""

    section = "audit_events"
    tables: tuple[str, ...] = ("audit_entries",)

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def page(self, who: Who, after: Any, limit: int) -> tuple[list[BaseModel], Any]:
        rows = user_rows.audit_entries_page(self.engine, who.scope, after, limit)
        items: list[BaseModel] = [AuditLogEvent(index=i, kind=kind, created_at=utc(at), event=json.loads(payload)) for i, kind, at, payload in rows]
        return items, (rows[-1][0] if len(rows) == limit else None)

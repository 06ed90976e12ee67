"""One user's rows across tables, for export and erasure: paged reads, scoped deletes, the erasure journal.

Every per-user function takes a :class:`~proxy.storage.repositories.UserScope` (tenant and
subject; a missing scope raises ``ScopeError``, never "all rows"). Reads page by a key (``after``)
so an export of any size holds one page at a time and no transaction stays open between pages.
Deletes take a SQLAlchemy ``Connection`` inside the caller's transaction, so the erasure journal
(:class:`ErasureJournal`) records what a step deleted in the *same* transaction as the delete: a
crash leaves either both or neither. The only cross-user read is :func:`outbox_page` (a tenant's
pending handoff events, which name users only inside their ciphertext).

All of it is synchronous SQLAlchemy; async callers run it in a worker thread
(``PrivacyRepository.run``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from proxy.storage.repositories import UserScope, _checked
from proxy.storage.tables import ConsentEvent, ConversationOutcome, DataKey, ErasureRow, HandoffOutboxRow, MemoryRow, ThreadStateRow, Transcript

#: tables whose rows carry ``tenant`` and ``subject`` columns naming one user
SCOPED_TABLES: dict[str, type[SQLModel]] = {
    "consent_events": ConsentEvent,
    "conversation_outcomes": ConversationOutcome,
    "data_keys": DataKey,
    "memories": MemoryRow,
    "thread_states": ThreadStateRow,
    "transcripts": Transcript,
}


def _mine(table: type[SQLModel], scope: UserScope) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    t = table.__table__  # type: ignore[attr-defined]  # SQLModel table classes have it
    return t.c.tenant == scope.tenant, t.c.subject == scope.subject


def holds(engine: Engine, table: str, scope: UserScope) -> bool:
    """Whether ``table`` has any row of the user (one indexed probe)."""
    scope = _checked(scope)
    model = SCOPED_TABLES[table]
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.literal(1)).select_from(model.__table__).where(*_mine(model, scope)).limit(1)).first() is not None  # type: ignore[attr-defined]


# ---- paged reads ---------------------------------------------------------------------------------


def consent_page(engine: Engine, scope: UserScope, after: int | None, limit: int) -> list[ConsentEvent]:
    """The user's consent decisions, oldest first, after the row id ``after``."""
    scope = _checked(scope)
    with Session(engine) as session:
        query = select(ConsentEvent).where(ConsentEvent.tenant == scope.tenant, ConsentEvent.subject == scope.subject)
        if after is not None:
            query = query.where(col(ConsentEvent.id) > after)
        return list(session.exec(query.order_by(col(ConsentEvent.id)).limit(limit)))


def transcript_page(engine: Engine, scope: UserScope, after: tuple[datetime, str] | None, limit: int) -> list[Transcript]:
    """The user's recorded turns, oldest first (time, then id), after the key ``after``."""
    scope = _checked(scope)
    with Session(engine) as session:
        query = select(Transcript).where(Transcript.tenant == scope.tenant, Transcript.subject == scope.subject)
        if after is not None:
            at, row_id = after
            query = query.where(sa.or_(col(Transcript.created_at) > at, sa.and_(col(Transcript.created_at) == at, col(Transcript.id) > row_id)))
        return list(session.exec(query.order_by(col(Transcript.created_at), col(Transcript.id)).limit(limit)))


def thread_state_page(engine: Engine, scope: UserScope, after: tuple[datetime, str] | None, limit: int) -> list[ThreadStateRow]:
    """The user's thread states as stored (ciphertexts), oldest first (time, then id), after the key ``after``."""
    scope = _checked(scope)
    with Session(engine) as session:
        query = select(ThreadStateRow).where(ThreadStateRow.tenant == scope.tenant, ThreadStateRow.subject == scope.subject)
        if after is not None:
            at, row_id = after
            query = query.where(sa.or_(col(ThreadStateRow.created_at) > at, sa.and_(col(ThreadStateRow.created_at) == at, col(ThreadStateRow.id) > row_id)))
        return list(session.exec(query.order_by(col(ThreadStateRow.created_at), col(ThreadStateRow.id)).limit(limit)))


def outcome_page(engine: Engine, scope: UserScope, after: int | None, limit: int) -> list[ConversationOutcome]:
    """The user's conversation outcome rows (machine values only), by row id, after ``after``."""
    scope = _checked(scope)
    with Session(engine) as session:
        query = select(ConversationOutcome).where(ConversationOutcome.tenant == scope.tenant, ConversationOutcome.subject == scope.subject)
        if after is not None:
            query = query.where(col(ConversationOutcome.id) > after)
        return list(session.exec(query.order_by(col(ConversationOutcome.id)).limit(limit)))


def memory_rows(engine: Engine, scope: UserScope) -> list[MemoryRow]:
    """The user's memory rows as stored (ciphertexts), oldest first."""
    scope = _checked(scope)
    with Session(engine) as session:
        query = select(MemoryRow).where(MemoryRow.tenant == scope.tenant, MemoryRow.subject == scope.subject)
        return list(session.exec(query.order_by(col(MemoryRow.created_at), col(MemoryRow.id))))


def data_keys(engine: Engine, scope: UserScope) -> list[DataKey]:
    """The user's data key rows (wrapped keys, versions), oldest first."""
    scope = _checked(scope)
    with Session(engine) as session:
        return list(session.exec(select(DataKey).where(DataKey.tenant == scope.tenant, DataKey.subject == scope.subject).order_by(col(DataKey.key_version))))


def outbox_page(engine: Engine, tenant: str, after: str | None, limit: int) -> list[HandoffOutboxRow]:
    """A tenant's pending handoff events by row id, after ``after``: the user is known only after decryption."""
    if not tenant:
        raise ValueError("a tenant is needed")
    with Session(engine) as session:
        query = select(HandoffOutboxRow).where(HandoffOutboxRow.tenant == tenant)
        if after is not None:
            query = query.where(col(HandoffOutboxRow.id) > after)
        return list(session.exec(query.order_by(col(HandoffOutboxRow.id)).limit(limit)))


# ---- deletes inside the caller's transaction -----------------------------------------------------


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def delete_scoped(conn: Connection, table: str, scope: UserScope) -> int:
    """Delete every row of the user in ``table`` (one of :data:`SCOPED_TABLES`); returns how many."""
    scope = _checked(scope)
    model = SCOPED_TABLES[table]
    return _rowcount(conn.execute(sa.delete(model.__table__).where(*_mine(model, scope))))  # type: ignore[attr-defined]


def detach_consent(conn: Connection, scope: UserScope, tombstone: str) -> int:
    """Re-key the user's consent decisions to ``tombstone`` (a random value, not derived from the user):
    the rows stay as proof of consent, and nothing leads from the user to them any more."""
    scope = _checked(scope)
    UserScope(scope.tenant, tombstone)  # the tombstone has a subject's shape, so the table's rules hold
    t = ConsentEvent.__table__  # type: ignore[attr-defined]
    return _rowcount(conn.execute(sa.update(t).where(*_mine(ConsentEvent, scope)).values(subject=tombstone)))


def take_data_keys(conn: Connection, scope: UserScope) -> list[dict[str, Any]]:
    """Delete the user's data key rows (wrapped keys included: crypto-shredding) and return what they were
    (version, KEK id, times; never key material)."""
    scope = _checked(scope)
    t = DataKey.__table__  # type: ignore[attr-defined]
    # DELETE ... RETURNING: exactly the rows this statement removed (a concurrent erasure's are not counted twice)
    rows = conn.execute(sa.delete(t).where(*_mine(DataKey, scope)).returning(t.c.key_version, t.c.kek_id, t.c.created_at, t.c.destroyed_at)).all()
    return [{"version": int(v), "kek_id": str(k), "created_at": _iso(c), "destroyed_at": _iso(d) if d is not None else None} for v, k, c, d in sorted(rows, key=lambda r: r[0])]


def delete_outbox(conn: Connection, tenant: str, ids: Sequence[str]) -> int:
    """Delete the given pending handoff events of ``tenant``."""
    if not ids:
        return 0
    t = HandoffOutboxRow.__table__  # type: ignore[attr-defined]
    return _rowcount(conn.execute(sa.delete(t).where(t.c.tenant == tenant, t.c.id.in_(list(ids)))))


def _iso(value: datetime) -> str:
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---- the erasure journal -------------------------------------------------------------------------


class ErasureJournal:
    """The ``erasures`` table: one running row per user while an erasure runs, a receipt once done."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def running(self, scope: UserScope) -> ErasureRow | None:
        scope = _checked(scope)
        with Session(self.engine) as session:
            return session.exec(select(ErasureRow).where(ErasureRow.tenant == scope.tenant, ErasureRow.subject == scope.subject, ErasureRow.state == "running")).first()

    def begin(self, scope: UserScope, tombstone: str) -> ErasureRow:
        """The user's running erasure (its attempts counted up: a retry resumes it), else a new one."""
        scope = _checked(scope)
        for _ in range(3):
            with Session(self.engine) as session:
                found = session.exec(
                    select(ErasureRow).where(ErasureRow.tenant == scope.tenant, ErasureRow.subject == scope.subject).with_for_update()
                ).first()
                if found is not None:
                    found.attempts += 1
                    session.add(found)
                    session.commit()
                    session.refresh(found)
                    return found
                row = ErasureRow(id=str(uuid.uuid4()), tenant=scope.tenant, subject=scope.subject, consent_tombstone=tombstone, counts={}, data_keys=[])
                session.add(row)
                try:
                    session.commit()
                except IntegrityError:  # another request began the same user's erasure meanwhile: resume that one
                    session.rollback()
                    continue
                session.refresh(row)
                return row
        raise RuntimeError("could not begin or resume the erasure")

    def record(self, conn: Connection, erasure_id: str, action: str, table: str, count: int, keys: Sequence[dict[str, Any]] = ()) -> None:
        """Add what one step did (``action``: deleted or detached ``count`` rows of ``table``) to the journal,
        in the step's own transaction (the row is locked on PostgreSQL, so concurrent retries add up)."""
        t = ErasureRow.__table__  # type: ignore[attr-defined]
        # write first, read after: a step that deleted nothing has not begun a write transaction on
        # SQLite, so a read here would be a snapshot another erasure's record may commit over before
        # this one writes (its count lost). The no-op update takes the write lock (the row lock on
        # PostgreSQL) before the counts are read.
        conn.execute(sa.update(t).where(t.c.id == erasure_id).values(attempts=t.c.attempts))
        found = conn.execute(sa.select(t.c.counts, t.c.data_keys).where(t.c.id == erasure_id).with_for_update()).first()
        if found is None:
            raise LookupError("the erasure's journal row is gone")
        counts = {k: dict(v) for k, v in dict(found[0] or {}).items()}
        per_table = counts.setdefault(action, {})
        per_table[table] = int(per_table.get(table, 0)) + int(count)
        stored_keys = list(found[1] or [])
        stored_keys.extend(k for k in keys if k not in stored_keys)
        conn.execute(sa.update(t).where(t.c.id == erasure_id).values(counts=counts, data_keys=stored_keys))

    def get(self, erasure_id: str) -> ErasureRow | None:
        with Session(self.engine) as session:
            return session.get(ErasureRow, erasure_id)

    def finish(self, erasure_id: str, receipt: dict[str, Any], completed_at: datetime) -> None:
        """Mark the erasure done: the subject is cleared, the receipt (no user id, no subject) kept."""
        t = ErasureRow.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            conn.execute(sa.update(t).where(t.c.id == erasure_id).values(state="done", subject=None, receipt=receipt, completed_at=completed_at))


def audit_entries_page(engine: Engine, scope: UserScope, after: int | None, limit: int) -> list[tuple[int, str, datetime, bytes]]:
    """``(index, kind, created_at, payload)`` of the audit entries naming the user, by index, after ``after``."""
    from proxy.storage.audit_tables import AuditEntry

    t = AuditEntry.__table__  # type: ignore[attr-defined]  # SQLModel tables are sa.Table at run time
    query = sa.select(t.c.idx, t.c.kind, t.c.created_at, t.c.payload).where(t.c.tenant == scope.tenant[:128], t.c.subject == scope.subject)
    if after is not None:
        query = query.where(t.c.idx > after)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(t.c.idx).limit(limit)).all()
    return [(int(r.idx), str(r.kind), r.created_at, bytes(r.payload) if not isinstance(r.payload, str) else r.payload.encode("utf-8")) for r in rows]

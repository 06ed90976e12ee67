"""The one place that reads and writes a user's data: every query is scoped by tenant and user.

A :class:`UserScope` (tenant plus *subject*, the keyed HMAC of tenant and user id; see
``proxy.crypto.subjects``) is the first argument of every per-user method, and it cannot be built
empty: a missing tenant or user raises :class:`ScopeError` instead of meaning "all rows". The only
methods that touch several users' rows are on :class:`DataKeyMaintenance` (KEK rotation), which
reads wrapped keys and never user data, and :class:`MemoryMaintenance` (the retention purge), which
counts and deletes memories by age and tenant without reading them.

**Off the event loop.** The methods are synchronous SQLAlchemy; async callers use
:meth:`PrivacyRepository.run`, which runs a whole unit of work (for instance: look up the data key,
unwrap it, encrypt) in a worker thread, bounded by one ``anyio.CapacityLimiter`` per repository so
a burst cannot exhaust the connection pool or anyio's default thread pool shared with the rest of
Bedside. An async engine was measured and not chosen (``bench/storage_cost.py``, ``docs/privacy.md``):
SQLite has no async driver in the lock file and SQLAlchemy's asyncio layer needs greenlet, which is
not installed either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from proxy.storage.tables import MEMORY_KINDS, PURPOSES, ConsentEvent, DataKey, MemoryRow

T = TypeVar("T")

_MAX_TENANT = 128
_SUBJECT_LEN = 64
_HEX = frozenset("0123456789abcdef")


class ScopeError(ValueError):
    """A per-user query without a complete (tenant, user) scope: a bug in the caller, never "all rows"."""


RowT = TypeVar("RowT", bound=SQLModel)


def insert(engine: Engine, row: RowT) -> RowT:
    """Add one row in its own transaction and return it as stored (defaults filled in)."""
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
    return row


@dataclass(frozen=True, slots=True)
class UserScope:
    """Whose data a query may touch: a tenant and the subject (keyed HMAC) of one of its users."""

    tenant: str
    subject: str

    def __post_init__(self) -> None:
        if not isinstance(self.tenant, str) or not self.tenant or len(self.tenant) > _MAX_TENANT:
            raise ScopeError("a user-data query needs a tenant (1 to 128 characters)")
        if not isinstance(self.subject, str) or len(self.subject) != _SUBJECT_LEN or not set(self.subject) <= _HEX:
            raise ScopeError("a user-data query needs the user's subject (64 hex characters from SubjectKey), never a raw or empty id")

    def __repr__(self) -> str:
        return f"UserScope(tenant={self.tenant!r}, subject={self.subject[:8]}...)"


def _checked(scope: object) -> UserScope:
    if not isinstance(scope, UserScope):
        raise ScopeError(f"a user-data query needs a UserScope, got {type(scope).__name__}")
    return scope


def _now() -> datetime:
    return datetime.now(UTC)


class PrivacyRepository:
    """Data keys and consent events of one (tenant, user) at a time."""

    def __init__(self, engine: Engine, *, max_threads: int = 8) -> None:
        self.engine = engine
        self.limiter = anyio.CapacityLimiter(max_threads)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker thread (at most ``max_threads`` at once), so the loop never blocks on the database."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    # ---- data keys ---------------------------------------------------------------------------

    def current_data_key(self, scope: UserScope) -> DataKey | None:
        """The newest live data key of the user, or None (never had one, or all destroyed)."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            newest = session.exec(
                select(DataKey).where(DataKey.tenant == scope.tenant, DataKey.subject == scope.subject).order_by(col(DataKey.key_version).desc()).limit(1)
            ).first()
        return newest if newest is not None and newest.destroyed_at is None else None

    def data_key(self, scope: UserScope, version: int) -> DataKey | None:
        scope = _checked(scope)
        with Session(self.engine) as session:
            return session.exec(select(DataKey).where(DataKey.tenant == scope.tenant, DataKey.subject == scope.subject, DataKey.key_version == version)).first()

    def add_data_key(self, scope: UserScope, kek_id: str, wrap: Callable[[int], bytes]) -> DataKey:
        """Store a new data key version; ``wrap(version)`` gives its wrapped bytes (the version is in the AAD).

        Two callers racing for the same user: one insert wins, the other gets the winner's key.
        """
        scope = _checked(scope)
        with Session(self.engine) as session:
            last = session.exec(select(sa.func.max(DataKey.key_version)).where(DataKey.tenant == scope.tenant, DataKey.subject == scope.subject)).one()
            version = int(last or 0) + 1
            row = DataKey(tenant=scope.tenant, subject=scope.subject, key_version=version, kek_id=kek_id, wrapped_key=wrap(version))
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                existing = self.current_data_key(scope)
                if existing is None:
                    raise
                return existing
            session.refresh(row)
            return row

    def destroy_data_keys(self, scope: UserScope) -> int:
        """Crypto-shred: forget every wrapped data key of the user (rows stay, so versions are not reused)."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            result = session.execute(
                sa.update(DataKey)
                .where(col(DataKey.tenant) == scope.tenant, col(DataKey.subject) == scope.subject, col(DataKey.destroyed_at).is_(None))
                .values(wrapped_key=None, destroyed_at=_now())
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0)

    # ---- consent -----------------------------------------------------------------------------

    def append_consent(self, scope: UserScope, *, receipt_id: str, purpose: str, granted: bool, method: str, notice_version: str, notice_hash: str) -> ConsentEvent:
        """Append one decision. There is no update or delete: the ledger only grows."""
        scope = _checked(scope)
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}")
        row = ConsentEvent(
            receipt_id=receipt_id,
            tenant=scope.tenant,
            subject=scope.subject,
            purpose=purpose,
            granted=granted,
            method=method,
            notice_version=notice_version,
            notice_hash=notice_hash,
        )
        return insert(self.engine, row)

    def consent_history(self, scope: UserScope, purposes: Iterable[str] = PURPOSES) -> list[ConsentEvent]:
        """Every decision of the user, oldest first."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            query = (
                select(ConsentEvent)
                .where(ConsentEvent.tenant == scope.tenant, ConsentEvent.subject == scope.subject, col(ConsentEvent.purpose).in_(list(purposes)))
                .order_by(col(ConsentEvent.id))
            )
            return list(session.exec(query))

    def latest_consent(self, scope: UserScope) -> dict[str, ConsentEvent]:
        """The newest decision per purpose (a purpose without one is absent: not granted)."""
        scope = _checked(scope)
        newest = sa.select(col(ConsentEvent.purpose), sa.func.max(ConsentEvent.id).label("id")).where(
            col(ConsentEvent.tenant) == scope.tenant, col(ConsentEvent.subject) == scope.subject
        ).group_by(ConsentEvent.purpose).subquery()
        with Session(self.engine) as session:
            rows = session.exec(select(ConsentEvent).join(newest, col(ConsentEvent.id) == newest.c.id)).all()
        return {row.purpose: row for row in rows if row.tenant == scope.tenant and row.subject == scope.subject}

    def known(self, scope: UserScope) -> bool:
        """Whether Bedside holds anything about the user in this tenant (a consent event or a data key)."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            for table in (ConsentEvent, DataKey):
                hit = session.exec(select(table.id).where(table.tenant == scope.tenant, table.subject == scope.subject).limit(1)).first()
                if hit is not None:
                    return True
        return False

    # ---- memories ----------------------------------------------------------------------------

    def add_memory(self, scope: UserScope, row: MemoryRow) -> MemoryRow:
        """Insert one memory of the user (its id and ciphertexts made by the caller, bound to that id)."""
        scope = _checked(scope)
        if (row.tenant, row.subject) != (scope.tenant, scope.subject):
            raise ScopeError("a memory row must belong to the scope it is added under")
        if row.kind not in MEMORY_KINDS:
            raise ValueError(f"unknown memory kind {row.kind!r}")
        return insert(self.engine, row)

    def memories(self, scope: UserScope) -> list[MemoryRow]:
        """The user's memories, oldest first."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            query = select(MemoryRow).where(MemoryRow.tenant == scope.tenant, MemoryRow.subject == scope.subject).order_by(col(MemoryRow.created_at), col(MemoryRow.id))
            return list(session.exec(query))

    def memory_version(self, scope: UserScope) -> tuple[Any, ...]:
        """What changes whenever the user's memories or live data keys change: how many memories, the
        latest update, how many live keys and their latest version. One prepared statement on a
        plain connection (four indexed aggregates), the cheapest check that sees every replica's writes."""
        scope = _checked(scope)
        with self.engine.connect() as conn:
            return tuple(conn.execute(_MEMORY_VERSION, {"tenant": scope.tenant, "subject": scope.subject}).one())

    def replace_memory(self, scope: UserScope, memory_id: str, *, text: bytes, data: bytes, conversation: str, turn: int, at: datetime | None = None) -> bool:
        """Overwrite one memory of the user (a changed preference), dated ``at`` (default now); False
        when it is not theirs or gone."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            result = session.execute(
                sa.update(MemoryRow)
                .where(col(MemoryRow.id) == memory_id, col(MemoryRow.tenant) == scope.tenant, col(MemoryRow.subject) == scope.subject)
                .values(text=text, data=data, conversation=conversation, turn=turn, updated_at=at or _now())
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def delete_memory(self, scope: UserScope, memory_id: str) -> bool:
        """Forget one memory of the user; False when the id is not one of theirs."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            result = session.execute(
                sa.delete(MemoryRow).where(col(MemoryRow.id) == memory_id, col(MemoryRow.tenant) == scope.tenant, col(MemoryRow.subject) == scope.subject)
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def delete_memories(self, scope: UserScope) -> int:
        """Forget every memory of the user (and nobody else's); returns how many."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            result = session.execute(sa.delete(MemoryRow).where(col(MemoryRow.tenant) == scope.tenant, col(MemoryRow.subject) == scope.subject))
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0)


def _memory_version_statement() -> sa.Select[Any]:
    tenant: sa.BindParameter[str] = sa.bindparam("tenant", type_=sa.String())
    subject: sa.BindParameter[str] = sa.bindparam("subject", type_=sa.String())
    mine = (col(MemoryRow.tenant) == tenant, col(MemoryRow.subject) == subject)
    keys = (col(DataKey.tenant) == tenant, col(DataKey.subject) == subject, col(DataKey.wrapped_key).is_not(None))
    return sa.select(
        sa.select(sa.func.count()).select_from(MemoryRow).where(*mine).scalar_subquery(),
        sa.select(sa.func.max(col(MemoryRow.updated_at))).where(*mine).scalar_subquery(),
        sa.select(sa.func.count()).select_from(DataKey).where(*keys).scalar_subquery(),
        sa.select(sa.func.max(col(DataKey.key_version))).where(*keys).scalar_subquery(),
    )


#: built once: SQLAlchemy then reuses its compiled form, so a check costs one round trip
_MEMORY_VERSION = _memory_version_statement()


class MemoryMaintenance:
    """The retention purge over every user's memories: it reads and deletes rows by age and tenant
    only, never their (encrypted) content."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def older_than(self, cutoff: datetime) -> dict[str, int]:
        """Memories not updated since ``cutoff``, counted per tenant."""
        with Session(self.engine) as session:
            return self._count(session, cutoff)

    def purge_older_than(self, cutoff: datetime) -> dict[str, int]:
        """Delete the memories not updated since ``cutoff`` (one transaction); how many per tenant."""
        deleted: dict[str, int] = {}
        with Session(self.engine) as session:
            for tenant in self._count(session, cutoff):
                result = session.execute(sa.delete(MemoryRow).where(col(MemoryRow.tenant) == tenant, col(MemoryRow.updated_at) < cutoff))
                deleted[tenant] = int(getattr(result, "rowcount", 0) or 0)
            session.commit()
        return {t: n for t, n in deleted.items() if n}

    @staticmethod
    def _count(session: Session, cutoff: datetime) -> dict[str, int]:
        query = sa.select(col(MemoryRow.tenant), sa.func.count()).where(col(MemoryRow.updated_at) < cutoff).group_by(col(MemoryRow.tenant))
        return {str(t): int(n) for t, n in session.execute(query).all()}


@dataclass(frozen=True, slots=True)
class WrappedKeyRow:
    """What KEK rotation sees of a data key: where it belongs (for the AAD) and its wrapped bytes."""

    id: int
    tenant: str
    subject: str
    key_version: int
    kek_id: str
    wrapped_key: bytes


class DataKeyMaintenance:
    """Operations over every user's data keys (KEK rotation). They read wrapped keys only, never user data."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def live_keys_not_under(self, kek_id: str, *, after_id: int = 0, limit: int = 500) -> list[WrappedKeyRow]:
        """Live data keys wrapped by another KEK than ``kek_id``, by id, after ``after_id`` (paging)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(DataKey)
                .where(col(DataKey.destroyed_at).is_(None), col(DataKey.wrapped_key).is_not(None), DataKey.kek_id != kek_id, col(DataKey.id) > after_id)
                .order_by(col(DataKey.id))
                .limit(limit)
            ).all()
        return [WrappedKeyRow(r.id or 0, r.tenant, r.subject, r.key_version, r.kek_id, r.wrapped_key or b"") for r in rows]

    def replace_wrapping(self, row: WrappedKeyRow, kek_id: str, wrapped: bytes) -> bool:
        """Swap one key's wrapping, only if it is unchanged since read (a key shredded meanwhile stays shredded)."""
        with Session(self.engine) as session:
            result = session.execute(
                sa.update(DataKey)
                .where(col(DataKey.id) == row.id, col(DataKey.kek_id) == row.kek_id, col(DataKey.wrapped_key) == row.wrapped_key, col(DataKey.destroyed_at).is_(None))
                .values(kek_id=kek_id, wrapped_key=wrapped)
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def count_by_kek(self) -> dict[str, int]:
        """Live data keys per KEK id (to check a rotation finished)."""
        with Session(self.engine) as session:
            rows = session.execute(sa.select(col(DataKey.kek_id), sa.func.count()).where(col(DataKey.destroyed_at).is_(None)).group_by(DataKey.kek_id)).all()
        return {str(k): int(n) for k, n in rows}

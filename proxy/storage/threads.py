"""The ``thread_states`` table's queries: per user always scoped, plus the retention purge.

A row is found only under its (tenant, subject) scope: another user's or tenant's row for the same
response id is "not found". ``ref`` is unique across tenants, so an id can be bound to one user only:
:meth:`ThreadRepository.add` answers False when the id already belongs to someone (or to the same
user: then :meth:`ThreadRepository.replace` updates it). :class:`ThreadMaintenance` is the only code
that touches several users' rows: it deletes rows older than a cut-off, reading no content.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from proxy.storage.repositories import UserScope, _checked
from proxy.storage.tables import ThreadStateRow

__all__ = ["ThreadMaintenance", "ThreadRepository"]


class ThreadRepository:
    """Thread state rows of one (tenant, user) at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, scope: UserScope, ref: str) -> ThreadStateRow | None:
        """The user's row for ``ref``, or None (absent, or someone else's)."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            return session.exec(select(ThreadStateRow).where(ThreadStateRow.ref == ref, ThreadStateRow.tenant == scope.tenant, ThreadStateRow.subject == scope.subject)).first()

    def add(self, scope: UserScope, *, row_id: str, ref: str, state: bytes) -> bool:
        """Insert a row; False when ``ref`` is taken already (by anyone)."""
        scope = _checked(scope)
        row = ThreadStateRow(id=row_id, ref=ref, tenant=scope.tenant, subject=scope.subject, state=state)
        with Session(self.engine) as session:
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    def replace(self, scope: UserScope, *, row_id: str, state: bytes) -> bool:
        """Overwrite the state of the user's row ``row_id`` (its ciphertext is bound to that id)."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            result = session.execute(
                sa.update(ThreadStateRow)
                .where(col(ThreadStateRow.id) == row_id, col(ThreadStateRow.tenant) == scope.tenant, col(ThreadStateRow.subject) == scope.subject)
                .values(state=state, updated_at=datetime.now(UTC))
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def delete(self, scope: UserScope, ref: str) -> bool:
        """Delete the user's row for ``ref``; False when there is none."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            result = session.execute(
                sa.delete(ThreadStateRow).where(col(ThreadStateRow.ref) == ref, col(ThreadStateRow.tenant) == scope.tenant, col(ThreadStateRow.subject) == scope.subject)
            )
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def delete_all(self, scope: UserScope) -> int:
        """Delete every row of the user (erasure); returns how many."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            result = session.execute(sa.delete(ThreadStateRow).where(col(ThreadStateRow.tenant) == scope.tenant, col(ThreadStateRow.subject) == scope.subject))
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0)


class ThreadMaintenance:
    """The retention purge over every user's thread states (no content is read)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def purge_older_than(self, cutoff: datetime) -> int:
        """Delete rows not updated since ``cutoff``; returns how many."""
        with Session(self.engine) as session:
            result = session.execute(sa.delete(ThreadStateRow).where(col(ThreadStateRow.updated_at) < cutoff))
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0)

"""The ``transcripts`` table's queries: per user always scoped, plus the retention purge.

Per-user methods take a :class:`~proxy.storage.repositories.UserScope` first (a missing scope
raises :class:`~proxy.storage.repositories.ScopeError`, never "all rows"), like the rest of the
privacy repository. :class:`TranscriptMaintenance` is the only code that touches several users'
rows: it deletes rows older than a cut-off and counts them per tenant, reading no content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from proxy.storage.repositories import UserScope, _checked, insert
from proxy.storage.tables import Transcript


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One conversation of a user: its hashed id, turns, first and last time, latest policy."""

    conversation: str
    turns: int
    first_at: datetime
    last_at: datetime
    policy_name: str
    policy_version: str


class TranscriptRepository:
    """Transcript rows of one (tenant, user) at a time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, scope: UserScope, *, row_id: str, conversation: str, turn: int, policy_name: str, policy_version: str, readings: dict[str, Any], content: bytes) -> Transcript:
        scope = _checked(scope)
        row = Transcript(
            id=row_id,
            tenant=scope.tenant,
            subject=scope.subject,
            conversation=conversation,
            turn=turn,
            policy_name=policy_name,
            policy_version=policy_version,
            readings=readings,
            content=content,
        )
        return insert(self.engine, row)

    def conversations(self, scope: UserScope) -> list[ConversationSummary]:
        """The user's conversations, most recent first."""
        scope = _checked(scope)
        where = (col(Transcript.tenant) == scope.tenant, col(Transcript.subject) == scope.subject)
        with Session(self.engine) as session:
            stats = session.execute(
                sa.select(col(Transcript.conversation), sa.func.count(), sa.func.min(Transcript.created_at), sa.func.max(Transcript.created_at)).where(*where).group_by(Transcript.conversation)
            ).all()
            out: list[ConversationSummary] = []
            for conversation, turns, first_at, last_at in stats:
                latest = session.exec(
                    select(Transcript.policy_name, Transcript.policy_version)
                    .where(*where, col(Transcript.conversation) == conversation)
                    .order_by(col(Transcript.created_at).desc(), col(Transcript.turn).desc())
                    .limit(1)
                ).one()
                out.append(ConversationSummary(str(conversation), int(turns), first_at, last_at, str(latest[0]), str(latest[1])))
        out.sort(key=lambda s: (s.last_at, s.conversation), reverse=True)
        return out

    def turns(self, scope: UserScope, conversations: Sequence[str]) -> list[Transcript]:
        """The rows of one conversation (given by any of its candidate hashes), by turn then time."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(Transcript)
                    .where(Transcript.tenant == scope.tenant, Transcript.subject == scope.subject, col(Transcript.conversation).in_(list(conversations)))
                    .order_by(col(Transcript.turn), col(Transcript.created_at))
                )
            )

    def count(self, scope: UserScope) -> int:
        scope = _checked(scope)
        with Session(self.engine) as session:
            return int(session.exec(select(sa.func.count()).select_from(Transcript).where(Transcript.tenant == scope.tenant, Transcript.subject == scope.subject)).one())

    def delete_all(self, scope: UserScope) -> int:
        """Erase every transcript of the user; returns rows deleted."""
        scope = _checked(scope)
        with Session(self.engine) as session:
            result = session.execute(sa.delete(Transcript).where(col(Transcript.tenant) == scope.tenant, col(Transcript.subject) == scope.subject))
            session.commit()
            return int(getattr(result, "rowcount", 0) or 0)


class TranscriptMaintenance:
    """Retention over every user's transcripts: counts and deletes by age, never reads content."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def _expired(cutoff: datetime, by_policy: Mapping[str, datetime]) -> sa.ColumnElement[bool]:
        """Rows older than their policy's cutoff (``by_policy``), or than ``cutoff`` for every other policy."""
        created, policy = col(Transcript.created_at), col(Transcript.policy_name)
        own = [sa.and_(policy == name, created < when) for name, when in sorted(by_policy.items())]
        rest = sa.and_(created < cutoff, policy.not_in(sorted(by_policy))) if by_policy else created < cutoff
        return sa.or_(rest, *own)

    def older_than(self, cutoff: datetime, by_policy: Mapping[str, datetime] | None = None) -> dict[str, int]:
        """Rows past their retention (see :meth:`_expired`), per tenant."""
        expired = self._expired(cutoff, by_policy or {})
        with Session(self.engine) as session:
            rows = session.execute(sa.select(col(Transcript.tenant), sa.func.count()).where(expired).group_by(Transcript.tenant)).all()
        return {str(t): int(n) for t, n in rows}

    def purge_older_than(self, cutoff: datetime, by_policy: Mapping[str, datetime] | None = None) -> dict[str, int]:
        """Delete rows past their retention; returns the rows deleted per tenant (one transaction)."""
        expired = self._expired(cutoff, by_policy or {})
        with Session(self.engine) as session:
            counts = {str(t): int(n) for t, n in session.execute(sa.select(col(Transcript.tenant), sa.func.count()).where(expired).group_by(Transcript.tenant)).all()}
            deleted = {}
            for tenant in counts:
                result = session.execute(sa.delete(Transcript).where(col(Transcript.tenant) == tenant, expired))
                deleted[tenant] = int(getattr(result, "rowcount", 0) or 0)
            session.commit()
        return {t: n for t, n in deleted.items() if n}

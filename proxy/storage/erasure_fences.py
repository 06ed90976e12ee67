"""Erasure fences: an erased user's conversation facts still on their way are not written afterwards.

The outcome writer of every replica keeps finished requests' facts in memory for a moment (its
linger) and, while the database is unreachable, for as long as the outage lasts (a backoff of up to
5 s between tries). The erasure drains the writer of its own process first, and its second pass
deletes what requests in flight wrote meanwhile; but a batch another replica was holding through an
outage could land after the erasure had answered, naming a user who was just erased.

So the erasure's outcome step raises a **fence** in the same transaction as its delete
(:func:`raise_fence`): the tenant, a digest of the user's subject, the time, and an expiry
:data:`FENCE_SECONDS` later. Every outcome batch reads the fences of its subjects first
(:func:`fenced`) and drops the facts of requests that *began* before their user's erasure: those
requests read the user's consent and data before it. A request that began after the erasure is the
user starting afresh, and is written.

A fence read and a delete can still cross: a writer that read "no fence" and an erasure whose
delete cannot see the writer's uncommitted rows would leave those rows behind (two replicas at the
same moment; a test that starts both together left 137 of 150). So on PostgreSQL the erasure takes
an exclusive transaction-level advisory lock on the user (:func:`raise_fence`, before its fence and
delete) and every outcome batch takes shared ones on its users before reading the fences
(:func:`hold_off_erasures`): a batch that came first commits before the erasure deletes, so its rows
go with the rest; an erasure that came first has committed its fence before the batch reads it.
Batches do not wait for each other (shared locks). On SQLite (one writer at a time) the batch
takes the write lock before it reads (``BEGIN IMMEDIATE``), with the same two outcomes.

What a fence holds: ``sha256("bedside-erasure-fence\\0" + subject)``, never the subject (a keyed
HMAC itself), so no row of any table names an erased user and only a writer that already holds the
subject can match it; the time of the erasure; nothing else. Expired fences are deleted when a new
fence is raised and by the outcome retention purge (:func:`purge_expired_fences`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from proxy.storage.tables import ErasureFence
from proxy.storage.user_lock import advisory_key

__all__ = ["FENCE_SECONDS", "digest", "fenced", "hold_off_erasures", "purge_expired_fences", "raise_fence"]

#: how long a fence stands: far past the outcome writer's longest wait between tries (5 s) and any
#: request's duration, short enough that the digest is not kept longer than it serves
FENCE_SECONDS: Final = 900.0
_TABLE: sa.Table = ErasureFence.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table models
_LABEL: Final = b"bedside-erasure-fence\0"


#: the advisory lock class (first int4 key) of a user's erasure against outcome batches
_LOCK_CLASS: Final = int.from_bytes(b"bfen", "big") & 0x7FFF_FFFF


def digest(subject: str) -> str:
    """What a fence keeps of ``subject`` (one-way; hex)."""
    return hashlib.sha256(_LABEL + subject.encode()).hexdigest()


def hold_off_erasures(conn: Connection, subjects: Iterable[tuple[str, str]]) -> None:
    """Hold off erasures of ``subjects`` till the transaction ends, or wait for one under way to
    commit its fence; the first statement of the transaction. PostgreSQL: shared advisory locks on
    the users (other batches do not wait); SQLite: the database's write lock (``BEGIN IMMEDIATE``)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite begins only before a write: begin now, writing
        return
    if conn.dialect.name != "postgresql":
        return
    from sqlalchemy.dialects import postgresql  # here: a SQLite deployment never loads it (~2 MiB resident)

    keys = sorted({advisory_key(tenant, subject) for tenant, subject in subjects})
    if keys:
        held = sa.select(sa.func.pg_advisory_xact_lock_shared(_LOCK_CLASS, sa.column("k"))).select_from(
            sa.func.unnest(sa.cast(sa.literal(keys), postgresql.ARRAY(sa.Integer))).alias("k")
        )
        conn.execute(held)


def raise_fence(conn: Connection, tenant: str, subject: str, *, now: datetime | None = None) -> None:
    """Fence the user off from late conversation facts, from ``now`` for :data:`FENCE_SECONDS`
    (replacing an earlier fence of theirs); expired fences of anyone go at the same time. Runs in the
    caller's transaction: the erasure's, together with the delete of the user's outcome rows.
    PostgreSQL and SQLite (the two databases Bedside runs on) both take the upsert."""
    if conn.dialect.name == "postgresql":  # outcome batches of this user in flight commit first; later ones wait for the fence
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_CLASS, advisory_key(tenant, subject))))
    at = now or datetime.now(UTC)
    conn.execute(sa.delete(_TABLE).where(_TABLE.c.expires_at < at))
    values = {"tenant": tenant, "subject_digest": digest(subject), "erased_at": at, "expires_at": at + timedelta(seconds=FENCE_SECONDS)}
    # an upsert: two erasures of one user at once (they share one journal) both raise it
    update = {"erased_at": at, "expires_at": values["expires_at"]}
    keys = ["tenant", "subject_digest"]
    if conn.dialect.name == "postgresql":  # each dialect's module is imported where it is used
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(_TABLE).values(**values).on_conflict_do_update(index_elements=keys, set_=update))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(_TABLE).values(**values).on_conflict_do_update(index_elements=keys, set_=update))


def fenced(conn: Connection, subjects: Iterable[tuple[str, str]], *, now: datetime | None = None) -> dict[tuple[str, str], datetime]:
    """``(tenant, subject) -> erased_at`` for those of ``subjects`` behind a fence that still stands;
    one indexed read per tenant (a batch of the outcome writer holds few)."""
    at = now or datetime.now(UTC)
    c = _TABLE.c
    wanted: dict[str, dict[str, str]] = {}
    for tenant, subject in subjects:
        wanted.setdefault(tenant, {})[digest(subject)] = subject
    out: dict[tuple[str, str], datetime] = {}
    for tenant, by_digest in wanted.items():
        rows = conn.execute(sa.select(c.subject_digest, c.erased_at).where(c.tenant == tenant, c.subject_digest.in_(sorted(by_digest)), c.expires_at > at))
        for key, erased_at in rows:
            out[(tenant, by_digest[key])] = erased_at if erased_at.tzinfo is not None else erased_at.replace(tzinfo=UTC)
    return out


def purge_expired_fences(engine: Engine, *, now: datetime | None = None) -> int:
    """Delete the fences that no longer stand; returns how many."""
    with engine.begin() as conn:
        result = conn.execute(sa.delete(_TABLE).where(_TABLE.c.expires_at < (now or datetime.now(UTC))))
        return int(getattr(result, "rowcount", 0) or 0)

"""The audit log's tables (revision 0009). Only the sequencer writes ``audit_entries``,
``audit_nodes`` and ``audit_tree``; processes write ``audit_pending`` (see ``proxy/audit/store.py``).

* ``audit_pending``: events waiting for an index, in the order the database gave them ids.
* ``audit_entries``: the log. ``idx`` is the leaf index, ``payload`` the leaf's bytes (the event's
  JSON with its index first), ``leaf_hash`` = SHA-256(0x00 || payload). ``tenant``, ``subject``,
  ``kind`` and ``created_at`` are copies of the payload's fields for lookups; the payload is what
  the tree covers.
* ``audit_nodes``: the hash of every complete subtree of two or more leaves (``level`` >= 1,
  ``idx``-th of its level), so a proof reads O(log n) rows.
* ``audit_tree``: one row: the tree's size, root, and right edge (the roots of its complete subtrees).
* ``audit_checkpoints``: every signed checkpoint (C2SP signed note).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class AuditPending(SQLModel, table=True):
    __tablename__ = "audit_pending"
    __table_args__ = (sa.UniqueConstraint("uid", name="uq_audit_pending_uid"),)

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=32, description="The event's id (random), to find its index once sequenced.")
    event: bytes = Field(sa_type=sa.LargeBinary, description="The event's JSON, without its index.")
    created_at: datetime = Field(default_factory=_now)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"
    __table_args__ = (
        sa.Index("ix_audit_entries_scope", "tenant", "subject"),
        sa.Index("ix_audit_entries_created_at", "created_at"),
        sa.UniqueConstraint("uid", name="uq_audit_entries_uid"),
    )

    idx: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))
    uid: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    tenant: str | None = Field(default=None, max_length=128)
    subject: str | None = Field(default=None, max_length=64)
    leaf_hash: bytes = Field(sa_type=sa.LargeBinary)
    payload: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=_now)


class AuditNode(SQLModel, table=True):
    __tablename__ = "audit_nodes"

    level: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_type=sa.LargeBinary)


class AuditTree(SQLModel, table=True):
    __tablename__ = "audit_tree"

    id: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True, autoincrement=False))
    size: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    root: bytes = Field(sa_type=sa.LargeBinary)
    edge: bytes = Field(sa_type=sa.LargeBinary, description="The roots of the tree's complete subtrees, largest first, 32 bytes each.")
    updated_at: datetime = Field(default_factory=_now)


class AuditCheckpoint(SQLModel, table=True):
    __tablename__ = "audit_checkpoints"
    __table_args__ = (sa.Index("ix_audit_checkpoints_size", "size"),)

    id: int | None = Field(default=None, primary_key=True)
    size: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    root: bytes = Field(sa_type=sa.LargeBinary)
    note: str = Field(sa_type=sa.Text, description="The signed note (C2SP tlog-checkpoint).")
    created_at: datetime = Field(default_factory=_now)

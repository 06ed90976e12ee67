"""thread states: pseudonyms and emotion readings of conversations an upstream keeps (Responses API), envelope-encrypted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "thread_states",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ref", name="uq_thread_states_ref"),
    )
    op.create_index("ix_thread_states_scope", "thread_states", ["tenant", "subject"])
    op.create_index("ix_thread_states_updated_at", "thread_states", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_thread_states_updated_at", table_name="thread_states")
    op.drop_index("ix_thread_states_scope", table_name="thread_states")
    op.drop_table("thread_states")

"""erasure_fences: an erased user's conversation facts still on their way are not written afterwards

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure_fences",
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("subject_digest", sa.String(length=64), nullable=False),
        sa.Column("erased_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "subject_digest"),
    )
    op.create_index("ix_erasure_fences_expires_at", "erasure_fences", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_erasure_fences_expires_at", table_name="erasure_fences")
    op.drop_table("erasure_fences")

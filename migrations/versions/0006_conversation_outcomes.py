"""conversation outcomes: per-conversation facts (no text, no PII) for the product KPIs

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("conversation", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("policy_name", sa.String(length=128), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("trajectory", sa.JSON(), nullable=False),
        sa.Column("sentiment_shift", sa.Float(), nullable=True),
        sa.Column("confusion_events", sa.Integer(), nullable=False),
        sa.Column("distress_events", sa.Integer(), nullable=False),
        sa.Column("tone_rules", sa.JSON(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("rails", sa.JSON(), nullable=False),
        sa.Column("handoff_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("handoff_turn", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("resolved", sa.Boolean(), nullable=True),
        sa.Column("feedback_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.UniqueConstraint("tenant", "conversation", name="uq_conversation_outcomes_conversation"),
    )
    op.create_index("ix_conversation_outcomes_started", "conversation_outcomes", ["tenant", "started_at"])
    op.create_index("ix_conversation_outcomes_ended", "conversation_outcomes", ["ended_at"])


def downgrade() -> None:
    op.drop_index("ix_conversation_outcomes_ended", table_name="conversation_outcomes")
    op.drop_index("ix_conversation_outcomes_started", table_name="conversation_outcomes")
    op.drop_table("conversation_outcomes")

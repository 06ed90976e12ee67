"""Revision 0004 on SQLite and PostgreSQL: up, down one step (other tables and rows stay), up again, models match."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import proxy.storage.tables  # noqa: F401 - registers the tables
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from tests.storage.dbs import pg_url  # noqa: F401 - fixture

REVISION = "0004"


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(url))
    below = script.get_revision(REVISION).down_revision
    assert isinstance(below, str)
    migrate.upgrade(url, below)
    assert "transcripts" not in _tables(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO consent_events (receipt_id, tenant, subject, purpose, granted, method, notice_version, notice_hash, created_at) "
                "VALUES ('r1', 'acme', :s, 'transcripts', true, 'api', 'v1', 'h', :t)"
            ),
            {"s": "a" * 64, "t": datetime.now(UTC)},
        )
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        indexes = {ix["name"] for ix in sa.inspect(engine).get_indexes("transcripts")}
        assert {"ix_transcripts_scope", "ix_transcripts_created_at"} <= indexes
    finally:
        engine.dispose()
    migrate.downgrade(url, below)  # down past 0004 (and any revision after it)
    tables = _tables(url)
    assert "transcripts" not in tables and {"consent_events", "data_keys", "api_keys"} <= tables
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM consent_events")).scalar() == 1
    engine.dispose()
    migrate.upgrade(url)
    assert "transcripts" in _tables(url)


def test_sqlite_round_trip(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'b.db'}")


@pytest.mark.postgres
def test_postgres_round_trip(pg_url: str) -> None:  # noqa: F811 - the imported fixture
    _round_trip(pg_url)

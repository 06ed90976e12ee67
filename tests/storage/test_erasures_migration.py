"""Revision 0008 (the erasure journal) on SQLite and PostgreSQL: up, down one step (other tables and rows
stay), up again; models match; one running erasure per user, any number of done ones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import proxy.storage.tables  # noqa: F401 - registers the tables
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from tests.storage.dbs import db_url  # noqa: F401 - fixture

REVISION = "0008"
INSERT = sa.text(
    "INSERT INTO erasures (id, tenant, subject, state, attempts, consent_tombstone, counts, data_keys, started_at) "
    "VALUES (:id, 'acme', :s, :state, 1, :tomb, '{}', '[]', :t)"
)


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_revision_0008_round_trip(db_url: str) -> None:  # noqa: F811
    below = ScriptDirectory.from_config(migrate.alembic_config(db_url)).get_revision(REVISION).down_revision
    assert isinstance(below, str)
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
        now = {"t": datetime.now(UTC), "tomb": "f" * 64}
        with engine.begin() as conn:
            conn.execute(INSERT, {"id": "e1", "s": "a" * 64, "state": "running", **now})
            conn.execute(INSERT, {"id": "e2", "s": None, "state": "done", **now})
            conn.execute(INSERT, {"id": "e3", "s": None, "state": "done", **now})  # done ones have no subject: any number
            conn.execute(sa.text("INSERT INTO api_keys (tenant, key_sha256, prefix, created_at, scopes) VALUES ('acme', :h, 'bsk-x', :t, 'chat')"), {"h": "b" * 64, "t": now["t"]})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # a second running erasure of the same user
            conn.execute(INSERT, {"id": "e4", "s": "a" * 64, "state": "running", **now})
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(INSERT, {"id": "e5", "s": "c" * 64, "state": "paused", **now})
    finally:
        engine.dispose()
    migrate.downgrade(db_url, below)
    tables = _tables(db_url)
    assert "erasures" not in tables and {"consent_events", "data_keys", "memories", "transcripts", "handoff_outbox", "api_keys"} <= tables
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM api_keys")).scalar() == 1
            assert conn.execute(sa.text("SELECT count(*) FROM erasures")).scalar() == 0
    finally:
        engine.dispose()

"""Alembic migrations run for real on SQLite and PostgreSQL: up, down, up again, and match the models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import proxy.storage.tables  # noqa: F401 - registers the tables
from proxy.storage import migrate
from proxy.storage.engine import SQLITE_PAGE_CACHE_KIB, make_engine
from tests.storage.dbs import pg_url  # noqa: F401 - fixture

AUDIT = {"audit_pending", "audit_entries", "audit_nodes", "audit_tree", "audit_checkpoints"}
TABLES = {"api_keys", "data_keys", "consent_events", "memories", "transcripts", "handoff_outbox", "thread_states", *AUDIT}


def _round_trip(url: str) -> None:
    # 0001 with a key in it, then 0002: the existing key keeps what it could do (chat)
    migrate.upgrade(url, "0001")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO api_keys (tenant, key_sha256, prefix, created_at) VALUES ('acme', :h, 'bsk-x', :t)"),
            {"h": "a" * 64, "t": datetime.now(UTC)},
        )
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
            assert conn.execute(sa.text("SELECT scopes FROM api_keys")).scalar() == "chat"
        assert diff == [], f"models and migrations disagree: {diff}"
        assert TABLES <= set(sa.inspect(engine).get_table_names())
        # purposes are a CHECK on a plain string column (no native enum to trip a downgrade)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO consent_events (receipt_id, tenant, subject, purpose, granted, method, notice_version, notice_hash, created_at) "
                    "VALUES ('r', 't', 's', 'marketing', true, 'api', 'v1', 'h', :t)"
                ),
                {"t": datetime.now(UTC)},
            )
    finally:
        engine.dispose()
    # 0010 down and up: only the erasure fences go and come back, with their expiry index and one fence per user
    migrate.downgrade(url, "0009")
    engine = make_engine(url)
    assert "erasure_fences" not in sa.inspect(engine).get_table_names() and TABLES <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
    migrate.upgrade(url, "0010")
    engine = make_engine(url)
    assert "ix_erasure_fences_expires_at" in {i["name"] for i in sa.inspect(engine).get_indexes("erasure_fences")}
    fence = "INSERT INTO erasure_fences (tenant, subject_digest, erased_at, expires_at) VALUES ('t', 'd', :t, :t)"
    with engine.begin() as conn:
        conn.execute(sa.text(fence), {"t": datetime.now(UTC)})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(fence), {"t": datetime.now(UTC)})
    engine.dispose()
    # 0009 down and up: only the audit tables go and come back, with their indexes and unique ids
    migrate.downgrade(url, "0008")
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) & TABLES == TABLES - AUDIT
    engine.dispose()
    migrate.upgrade(url, "0009")
    engine = make_engine(url)
    assert {"ix_audit_entries_scope", "ix_audit_entries_created_at"} <= {i["name"] for i in sa.inspect(engine).get_indexes("audit_entries")}
    with engine.begin() as conn:
        row = {"b": b"x", "t": datetime.now(UTC)}
        conn.execute(sa.text("INSERT INTO audit_entries (idx, uid, kind, leaf_hash, payload, created_at) VALUES (0, 'u', 'admin', :b, :b, :t)"), row)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # an event is sequenced once
        conn.execute(sa.text("INSERT INTO audit_entries (idx, uid, kind, leaf_hash, payload, created_at) VALUES (1, 'u', 'admin', :b, :b, :t)"), row)
    engine.dispose()
    # 0007 down and up: only the thread states go and come back, with their indexes and unique ref
    migrate.downgrade(url, "0005")
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) & TABLES == TABLES - {"thread_states", *AUDIT}
    engine.dispose()
    migrate.upgrade(url, "0007")
    engine = make_engine(url)
    assert {"ix_thread_states_scope", "ix_thread_states_updated_at"} <= {i["name"] for i in sa.inspect(engine).get_indexes("thread_states")}
    row = "INSERT INTO thread_states (id, ref, tenant, subject, state, created_at, updated_at) VALUES (:i, 'r', 't', 's', :b, :t, :t)"
    with engine.begin() as conn:
        conn.execute(sa.text(row), {"i": "a", "b": b"x", "t": datetime.now(UTC)})
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text(row), {"i": "b", "b": b"x", "t": datetime.now(UTC)})
    engine.dispose()
    # 0005 down and up: only the handoff outbox goes and comes back, with its index
    migrate.downgrade(url, "0004")
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) & TABLES == TABLES - {"handoff_outbox", "thread_states", *AUDIT}
    engine.dispose()
    migrate.upgrade(url, "0005")
    engine = make_engine(url)
    assert "ix_handoff_outbox_next_attempt_at" in {i["name"] for i in sa.inspect(engine).get_indexes("handoff_outbox")}
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO handoff_outbox (id, event_id, tenant, policy, attempts, next_attempt_at, payload, created_at) VALUES ('o', 'hnd_1', 't', 'p', 0, :t, :b, :t)"),
            {"b": b"x", "t": datetime.now(UTC)},
        )
    engine.dispose()
    # 0003 down and up: only the memories table goes and comes back, the other tables keep their rows
    migrate.downgrade(url, "0002")
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) & TABLES == TABLES - {"memories", "transcripts", "handoff_outbox", "thread_states", *AUDIT}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM api_keys")).scalar() == 1
    engine.dispose()
    migrate.upgrade(url, "0003")
    engine = make_engine(url)
    assert "memories" in sa.inspect(engine).get_table_names()
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # kinds are a CHECK too
        conn.execute(
            sa.text("INSERT INTO memories (id, tenant, subject, kind, text, data, conversation, turn, created_at, updated_at) VALUES ('m', 't', 's', 'secret', :b, :b, 'c', 1, :t, :t)"),
            {"b": b"x", "t": datetime.now(UTC)},
        )
    engine.dispose()
    # down to 0001: the new tables go, the key survives without its scopes column
    migrate.downgrade(url, "0001")
    engine = make_engine(url)
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) & TABLES == {"api_keys"}
    assert "scopes" not in {c["name"] for c in inspector.get_columns("api_keys")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM api_keys")).scalar() == 1
    engine.dispose()
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    assert not set(sa.inspect(engine).get_table_names()) & TABLES
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url)
    assert TABLES <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_sqlite_round_trip_and_pragmas(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    _round_trip(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA secure_delete")).scalar() == 1
        assert conn.execute(sa.text("PRAGMA cache_size")).scalar() == -SQLITE_PAGE_CACHE_KIB  # negative: KiB, not pages
    engine.dispose()


@pytest.mark.postgres
def test_postgres_round_trip(pg_url: str) -> None:  # noqa: F811 - the imported fixture
    _round_trip(pg_url)

"""Alembic migrations run for real on SQLite and PostgreSQL: up, down, up again, and match the models."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import proxy.storage.tables  # noqa: F401 - registers the tables
from proxy.storage import migrate
from proxy.storage.engine import make_engine, ping

PG_ADMIN = os.environ.get("BEDSIDE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        engine = make_engine(PG_ADMIN)
        ping(engine)
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema-isolated database on the local PostgreSQL (CI must have it running)."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 in CI: `make pg` should have started it")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (start it with `make pg`)")
    name = f"bedside_test_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _round_trip(url: str) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        assert "api_keys" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    migrate.downgrade(url, "base")
    engine = make_engine(url)
    assert "api_keys" not in sa.inspect(engine).get_table_names()
    engine.dispose()
    migrate.upgrade(url)


def test_sqlite_round_trip_and_pragmas(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    _round_trip(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA secure_delete")).scalar() == 1
    engine.dispose()


@pytest.mark.postgres
def test_postgres_round_trip(pg_url: str) -> None:
    _round_trip(pg_url)

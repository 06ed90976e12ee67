"""Database fixtures shared by the storage, privacy and API tests: a throw-away SQLite file and a
throw-away PostgreSQL database (``BEDSIDE_TEST_PG``; tests using it are marked ``postgres``).

Import the fixtures you use: ``from tests.storage.dbs import db_url  # noqa: F401``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

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


def _fresh_pg_database() -> Iterator[str]:
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


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty database on the local PostgreSQL (CI must have it running)."""
    yield from _fresh_pg_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, once SQLite and once PostgreSQL (not migrated: call ``migrate.upgrade``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bedside.db'}"
    else:
        yield from _fresh_pg_database()

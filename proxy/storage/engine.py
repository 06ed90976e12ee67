"""The database engine: SQLite (one file, WAL, ``secure_delete=ON``, a small page cache) or PostgreSQL via psycopg 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import create_engine

#: SQLite's page cache per connection, in KiB (SQLite's default is 2,000). Each pooled connection
#: fills its own cache as the audit and outcome tables grow, so the default cost the pass-through
#: ~5 MiB of resident memory under load (issue 20: 117 -> 112 MiB after 9,000 requests at c16, three
#: runs each; no change of CPU per request). The hot pages of appends and lookups fit in 512 KiB;
#: the operating system's file cache holds the rest.
SQLITE_PAGE_CACHE_KIB = 512


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its directory created and its pragmas set per connection."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute(f"PRAGMA cache_size=-{SQLITE_PAGE_CACHE_KIB}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def ping(engine: Engine) -> None:
    """Raises when the database cannot answer ``SELECT 1``."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def database_unreachable(exc: BaseException) -> bool:
    """A failure of the connection (the database restarting, failing over, unreachable), not of the
    statement: worth a kind 503 and a retry once the database is back. SQLAlchemy's
    ``OperationalError``, ``InterfaceError`` or a connection it invalidated."""
    return isinstance(exc, OperationalError | InterfaceError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)

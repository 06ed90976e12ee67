"""Run alembic migrations programmatically (``bedside db upgrade`` and start-up auto-migrate).

alembic is imported only when there is something to migrate: :func:`upgrade` first compares the
database's ``alembic_version`` with the heads of ``migrations/versions`` (read from the files'
``revision`` / ``down_revision`` lines) and returns when they match, so a restart against a
migrated database never loads alembic (~10 MB resident for the life of the process). Anything it
cannot read for certain (another layout, a branch, no table yet) runs alembic as before.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

_REVISION = re.compile(r'^revision(?:\s*:\s*[^=]+)?\s*=\s*["\'](?P<rev>[^"\']+)["\']\s*$', re.M)
_DOWN = re.compile(r'^down_revision(?:\s*:\s*[^=]+)?\s*=\s*(?:None|["\'](?P<rev>[^"\']+)["\'])\s*$', re.M)


def migrations_dir() -> Path:
    """``migrations/`` beside the package (source checkout, Docker image) or BEDSIDE_MIGRATIONS_DIR."""
    env = os.environ.get("BEDSIDE_MIGRATIONS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def script_heads(directory: Path | None = None) -> set[str] | None:
    """The head revisions of the migration scripts, read from their text; None when any script
    does not have the plain one-line ``revision`` / ``down_revision`` form (alembic decides then)."""
    versions = (directory or migrations_dir()) / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        files = sorted(versions.glob("*.py"))
    except OSError:
        return None
    for path in files:
        text = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(text), _DOWN.search(text)
        if rev is None or down is None:
            return None
        revisions.add(rev["rev"])
        if down["rev"]:
            parents.add(down["rev"])
    heads = revisions - parents
    return heads if len(heads) == 1 else None


def database_revisions(url: str) -> set[str] | None:
    """The revisions recorded in the database's ``alembic_version`` table (None: no table, or unreadable)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return {str(r[0]) for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))}
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def at_head(url: str) -> bool:
    """Whether the database is certainly at the scripts' head (nothing to migrate)."""
    heads = script_heads()
    return heads is not None and database_revisions(url) == heads


def upgrade(url: str, revision: str = "head") -> None:
    if revision == "head" and at_head(url):
        return
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)

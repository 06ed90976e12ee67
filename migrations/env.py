"""Alembic environment for Bedside (SQLite and PostgreSQL).

The URL comes from the alembic config (set by ``proxy.storage.migrate``) or, when alembic is run by
hand, from Bedside's settings (``BEDSIDE_DATABASE__URL`` / ``BEDSIDE_DATA_DIR``).
"""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import proxy.storage.tables  # noqa: F401 - registers the tables on SQLModel.metadata
from proxy.storage.engine import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from proxy.settings import Settings

    return Settings().database_url()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

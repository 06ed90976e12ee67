"""Run alembic migrations programmatically (``bedside db upgrade`` and start-up auto-migrate)."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config


def migrations_dir() -> Path:
    """``migrations/`` beside the package (source checkout, Docker image) or BEDSIDE_MIGRATIONS_DIR."""
    env = os.environ.get("BEDSIDE_MIGRATIONS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)

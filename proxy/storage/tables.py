"""SQLModel tables. Every schema change comes with an alembic revision in ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class ApiKey(SQLModel, table=True):
    """A client (virtual) API key. Only its SHA-256 is stored; the key is shown once at creation."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(index=True, max_length=128)
    name: str | None = Field(default=None, max_length=200)
    key_sha256: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=16, description="The key's first characters, to recognise it in lists.")
    created_at: datetime = Field(default_factory=_now)
    revoked_at: datetime | None = Field(default=None)

"""The deletion receipt ``DELETE /v1/users/{user}`` answers: pydantic models, schema version, JSON Schema.

``bedside docs`` publishes :func:`render_json_schema` as ``docs/erasure-receipt.schema.json``.
``audit`` is the seam to the audit log (:class:`AuditProof`): the erasure's entry index, the signed
checkpoint that covers it and the inclusion proof, so the receipt can be checked offline; it is
null while no audit log is wired.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1
SCHEMA_NAME = "erasure-receipt.schema.json"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsentKept(_Model):
    kept: int = Field(description="Consent decisions kept as proof of consent, detached from the user.")
    detached_as: str = Field(description="The random value (not derived from the user) those decisions are now filed under.")
    holds: str = Field(description="What a kept decision holds.")


class DestroyedKey(_Model):
    version: int
    kek_id: str = Field(description="The key-encryption key that had wrapped it (its id, never a key).")
    created_at: datetime
    destroyed_at: datetime | None = Field(description="When an earlier shredding had already destroyed it (null: live until this erasure).")


class AuditProof(_Model):
    index: int = Field(description="The erasure's entry in the audit log.")
    checkpoint: str = Field(description="A signed checkpoint (C2SP signed note) whose tree includes the entry.")
    inclusion_proof: list[str] = Field(description="The RFC 6962 inclusion proof of the entry in that tree (hashes, base64).")
    entry: str = Field(
        description="The entry's exact bytes as logged (JSON, its index first): its facts repeat this receipt's, and its hash is the leaf the proof starts from. "
        "It names the user only by the audit log's subject HMAC."
    )


class ErasureReceipt(_Model):
    """What an erasure removed, proved without naming the user (``user`` is only in the HTTP answer)."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="Bedside deletion receipt", json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"})

    object: Literal["user.erasure_receipt"] = "user.erasure_receipt"
    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(description="The erasure's id.")
    tenant: str
    user: str | None = Field(default=None, description="The tenant's id for the user, in the HTTP answer only (never stored).")
    started_at: datetime
    completed_at: datetime
    attempts: int = Field(description="How many requests it took (more than 1: resumed after an interruption).")
    erased: dict[str, int] = Field(description="Rows deleted per table.")
    consent: ConsentKept
    data_keys_destroyed: list[DestroyedKey] = Field(description="The user's data keys, destroyed with their rows (crypto-shredding).")
    audit: AuditProof | None = Field(description="Where the audit log records the erasure; null when no audit log is wired.")


def render_json_schema() -> str:
    """``docs/erasure-receipt.schema.json``."""
    return json.dumps(ErasureReceipt.model_json_schema(mode="serialization"), indent=2, ensure_ascii=False) + "\n"

"""SQLModel tables. Every schema change comes with an alembic revision in ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

#: the purposes a user can consent to (stored as plain strings with a CHECK, never a native enum)
PURPOSES = ("memory", "transcripts")
#: the scope every API key has unless given others (existing keys got it in revision 0002)
DEFAULT_SCOPES = "chat"


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
    scopes: str = Field(
        default=DEFAULT_SCOPES,
        max_length=200,
        sa_column_kwargs={"server_default": DEFAULT_SCOPES},
        description="Space-separated scopes: `chat` (the OpenAI endpoints), `privacy` (the /v1/users/... consent API), `admin` (KPIs and the console), `metrics` (GET /metrics).",
    )


class DataKey(SQLModel, table=True):
    """One (tenant, user) data key: 32 random bytes, stored only wrapped by a key-encryption key.

    ``subject`` is the keyed HMAC of tenant and user id (never the raw id). ``kek_id`` names the
    KEK that wrapped it (the KEK itself never enters the database). Destroying the key
    (crypto-shredding) clears ``wrapped_key`` and sets ``destroyed_at``; the row stays so the
    version is never reused.
    """

    __tablename__ = "data_keys"
    __table_args__ = (sa.UniqueConstraint("tenant", "subject", "key_version", name="uq_data_keys_tenant_subject_version"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=128)
    subject: str = Field(max_length=64)
    key_version: int
    kek_id: str = Field(max_length=64)
    wrapped_key: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=_now)
    destroyed_at: datetime | None = Field(default=None)


class ConsentEvent(SQLModel, table=True):
    """One consent decision, appended and never updated: the latest per purpose is the state."""

    __tablename__ = "consent_events"
    __table_args__ = (
        sa.CheckConstraint("purpose IN ('memory', 'transcripts')", name="ck_consent_events_purpose"),
        sa.Index("ix_consent_events_scope", "tenant", "subject", "purpose", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    receipt_id: str = Field(unique=True, max_length=36, description="Random UUID shown to the client as the receipt's id.")
    tenant: str = Field(max_length=128)
    subject: str = Field(max_length=64)
    purpose: str = Field(max_length=16)
    granted: bool
    method: str = Field(max_length=32, description="How consent was collected, e.g. `api`.")
    notice_version: str = Field(max_length=64)
    notice_hash: str = Field(max_length=64, description="SHA-256 (hex) of the notice text shown to the user.")
    created_at: datetime = Field(default_factory=_now)


#: an erasure is ``running`` until every step is done and recorded, then ``done``
ERASURE_STATES = ("running", "done")


class ErasureRow(SQLModel, table=True):
    """One erasure of one user (``DELETE /v1/users/{user}``): its journal while it runs, its receipt after.

    While ``running``, ``subject`` names the user (keyed HMAC) so a retry after a crash resumes the
    same erasure, and ``counts`` (``{"deleted": {table: rows}, "detached": {table: rows}}``) and
    ``data_keys`` (version, KEK id, times) grow in the same transaction as each step's deletes,
    so they stay exact whatever step a crash interrupted. When ``done``, ``subject`` is cleared: the
    row keeps the receipt (counts per table, data key versions destroyed, times; no user id, no
    subject) as proof of the erasure. ``consent_tombstone`` is the random value the user's consent
    records were re-keyed to (proof of consent that no longer leads to the user).
    The unique (tenant, subject) index allows one running erasure per user; done rows have a NULL
    subject, which no unique index compares.
    """

    __tablename__ = "erasures"
    __table_args__ = (
        sa.CheckConstraint("state IN ('running', 'done')", name="ck_erasures_state"),
        sa.UniqueConstraint("tenant", "subject", name="uq_erasures_tenant_subject"),
    )

    id: str = Field(primary_key=True, max_length=36, description="Random UUID: the receipt's id.")
    tenant: str = Field(max_length=128)
    subject: str | None = Field(default=None, max_length=64, description="The user's subject while running; NULL once done.")
    state: str = Field(default="running", max_length=16)
    attempts: int = Field(default=1)
    consent_tombstone: str = Field(max_length=64)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    data_keys: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    receipt: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    started_at: datetime = Field(default_factory=_now)
    completed_at: datetime | None = Field(default=None)


class Transcript(SQLModel, table=True):
    """One recorded turn of a conversation, kept only under ``transcripts`` consent.

    ``subject`` and ``conversation`` are keyed HMACs (of the user and of the conversation id), never
    the ids. ``readings`` holds machine values only (emotion label and intensity, tone rule ids,
    rails verdicts), never text. ``content`` is the turn's user text and reply as one envelope
    ciphertext bound to tenant, subject, table, row id and column; the id is a random UUID known
    before the insert because it is part of that binding.
    """

    __tablename__ = "transcripts"
    __table_args__ = (
        sa.Index("ix_transcripts_scope", "tenant", "subject", "conversation", "turn"),
        sa.Index("ix_transcripts_created_at", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=36, description="Random UUID (part of the ciphertext's associated data).")
    tenant: str = Field(max_length=128)
    subject: str = Field(max_length=64)
    conversation: str = Field(max_length=64, description="Keyed HMAC of the conversation id.")
    turn: int
    policy_name: str = Field(max_length=128)
    policy_version: str = Field(max_length=64)
    readings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    content: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=_now)


#: what a memory is about (a CHECK on a plain string column)
MEMORY_KINDS = ("preference", "fact", "identifier")


class MemoryRow(SQLModel, table=True):
    """One thing a user said about themselves, remembered across conversations (only with consent).

    ``subject`` is the keyed HMAC of tenant and user id, ``conversation`` the keyed HMAC of the
    conversation it was said in. ``text`` (the user's words, with placeholders for personal values)
    and ``data`` (the values behind those placeholders and the topic) are envelope ciphertexts bound
    to this table, row id and column.
    """

    __tablename__ = "memories"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('preference', 'fact', 'identifier')", name="ck_memories_kind"),
        sa.Index("ix_memories_scope", "tenant", "subject"),
    )

    id: str = Field(primary_key=True, max_length=36, description="Random UUID, known before the insert (part of the ciphertexts' associated data).")
    tenant: str = Field(max_length=128)
    subject: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    text: bytes = Field(sa_type=sa.LargeBinary)
    data: bytes = Field(sa_type=sa.LargeBinary)
    conversation: str = Field(max_length=64)
    turn: int
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


class HandoffOutboxRow(SQLModel, table=True):
    """A handoff event waiting for delivery (deleted once the webhook accepted it), so a restart loses none.

    ``policy`` names the policy whose ``rails.handoff`` the event goes to; ``event_id`` is the id the
    webhook sees (the same on every attempt). ``payload`` is the event *and* its target (webhook URL,
    the name of the signing secret's variable, retries, timeout) as one envelope ciphertext bound to the
    tenant's outbox key, this table, row id and column: the context holds redacted user turns, and a
    webhook URL may carry a token. No secret is stored, only the variable's name.
    """

    __tablename__ = "handoff_outbox"
    __table_args__ = (sa.Index("ix_handoff_outbox_next_attempt_at", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=36, description="Random UUID (part of the ciphertext's associated data).")
    event_id: str = Field(max_length=64)
    tenant: str = Field(max_length=128)
    policy: str = Field(max_length=128)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=_now)
    payload: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=_now)


class ErasureFence(SQLModel, table=True):
    """For a few minutes after a user's erasure: conversation facts of theirs still on their way
    (another replica's outcome writer, waiting out a database outage) are not written afterwards
    (:mod:`proxy.storage.erasure_fences`).

    ``subject_digest`` is the SHA-256 of the user's subject (a keyed HMAC itself), never the subject:
    no row of any table names an erased user; only a writer holding the subject already can match
    it. Rows expire at ``expires_at`` and are purged with the outcome retention.
    """

    __tablename__ = "erasure_fences"

    tenant: str = Field(primary_key=True, max_length=128)
    subject_digest: str = Field(primary_key=True, max_length=64, description="SHA-256 of the erased user's subject.")
    erased_at: datetime = Field(default_factory=_now)
    expires_at: datetime = Field(index=True)


class ConversationOutcome(SQLModel, table=True):
    """The facts of one conversation, for the product KPIs (``docs/kpis.md``): never text, never PII.

    ``conversation`` is the keyed HMAC of tenant and conversation id, ``subject`` the keyed HMAC of
    tenant and user id (None when the client named no user). ``trajectory`` holds one list per user
    turn, oldest first: ``[top emotion label, intensity, frustration score, distress 0/1]``.
    ``tone_rules`` maps rule name to times applied, ``rails`` maps ``"input:<action>"`` /
    ``"output:<action>"`` to requests. ``policy_name`` / ``policy_version`` are those the
    conversation started under (a version comparison assigns each conversation once). Feedback
    (``rating``, ``resolved``) comes from ``POST /v1/feedback``. Rows of ``no-store`` conversations
    are never written; rows are purged by their policy's ``outcomes.retention_days``.
    """

    __tablename__ = "conversation_outcomes"
    __table_args__ = (
        sa.UniqueConstraint("tenant", "conversation", name="uq_conversation_outcomes_conversation"),
        sa.Index("ix_conversation_outcomes_started", "tenant", "started_at"),
        sa.Index("ix_conversation_outcomes_ended", "ended_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=128)
    conversation: str = Field(max_length=64, description="Keyed HMAC of tenant and conversation id.")
    subject: str | None = Field(default=None, max_length=64, description="Keyed HMAC of tenant and user id; None without a user.")
    policy_name: str = Field(max_length=128)
    policy_version: str = Field(max_length=64)
    started_at: datetime = Field(default_factory=_now)
    ended_at: datetime = Field(default_factory=_now)
    requests: int = Field(default=0)
    turns: int = Field(default=0)
    trajectory: list[Any] = Field(default_factory=list, sa_type=sa.JSON)
    sentiment_shift: float | None = Field(default=None)
    confusion_events: int = Field(default=0)
    distress_events: int = Field(default=0)
    tone_rules: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    escalations: int = Field(default=0)
    rails: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    handoff_at: datetime | None = Field(default=None)
    handoff_turn: int | None = Field(default=None)
    rating: int | None = Field(default=None)
    resolved: bool | None = Field(default=None)
    feedback_at: datetime | None = Field(default=None)


class ThreadStateRow(SQLModel, table=True):
    """Bedside's side of a conversation an upstream keeps (the Responses API's stored responses and
    conversations): the pseudonym vault and emotion readings of the turns the upstream holds, so a
    continued conversation keeps its placeholders and its trend.

    ``ref`` is a keyed HMAC of the response or conversation id (unique across tenants: an id belongs
    to the one user who created or first continued it). ``subject`` is the keyed HMAC of tenant and
    user. ``state`` is one envelope ciphertext (the vault's values, readings, the conversation id,
    the id the upstream continues from) bound to this table, row id and column; the id is a random
    UUID known before the insert.
    """

    __tablename__ = "thread_states"
    __table_args__ = (
        sa.Index("ix_thread_states_scope", "tenant", "subject"),
        sa.Index("ix_thread_states_updated_at", "updated_at"),
    )

    id: str = Field(primary_key=True, max_length=36, description="Random UUID (part of the ciphertext's associated data).")
    ref: str = Field(unique=True, max_length=64, description="Keyed HMAC of the response or conversation id.")
    tenant: str = Field(max_length=128)
    subject: str = Field(max_length=64)
    state: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)


# The audit log's tables live in their own module; importing them here registers them with the
# metadata that migrations and the model-vs-schema test compare.
from proxy.storage.audit_tables import AuditCheckpoint, AuditEntry, AuditNode, AuditPending, AuditTree  # noqa: E402

__all__ = [
    "MEMORY_KINDS", "PURPOSES", "ApiKey", "AuditCheckpoint", "AuditEntry", "AuditNode", "AuditPending", "AuditTree",
    "ConsentEvent", "ConversationOutcome", "DataKey", "ErasureRow", "HandoffOutboxRow", "MemoryRow", "ThreadStateRow", "Transcript",
]

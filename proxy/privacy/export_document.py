"""The export document (``GET /v1/users/{user}/export``): pydantic models, schema version, JSON Schema.

The exporter (:mod:`proxy.privacy.export`) writes every item through these models, and ``bedside
docs`` publishes :func:`render_json_schema` as ``docs/export.schema.json``, so the document and its
published schema cannot drift apart. A change that a reader of an older export would misread
raises :data:`SCHEMA_VERSION`.

One document holds, for one user of one tenant: what Bedside does with their data and who receives
it (:class:`ProcessingFacts`, GDPR Art. 15(1)), their consent decisions, memories (marked
*derived*: Bedside extracted them from what the user said), the values behind the placeholders in
those memories and in the pseudonym vaults of their Responses API threads, recorded transcript
turns, those thread states, the facts of their conversations (outcomes, marked *derived*: machine
values Bedside computed, no text), pending handoff events about them, and the metadata (never the
key) of their data keys. Values are decrypted: it is the user's own data.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1
SCHEMA_NAME = "export.schema.json"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- processing facts (Art. 15(1)) ---------------------------------------------------------------


class PurposeFact(_Model):
    name: str = Field(description="Short name of the purpose.")
    description: str = Field(description="What Bedside does with the data for it.")
    basis: str = Field(description="What it rests on: the user's consent, or the operator's service to the user.")
    active: bool = Field(description="Whether the purpose applies to this user now (a consent purpose: granted).")


class CategoryFact(_Model):
    name: str = Field(description="The export section holding this category, or a name for data not kept.")
    description: str
    stored: bool = Field(description="Whether Bedside keeps it beyond the request.")
    encrypted_at_rest: bool | None = Field(description="Whether it is stored encrypted under the user's own data key (null: not stored).")


class RecipientFact(_Model):
    kind: Literal["model_provider", "handoff_webhook", "none"] = Field(description="Who receives data: the upstream model server, a human-handoff webhook, or nobody outside Bedside.")
    name: str = Field(description="The configured upstream's name, or `handoff`.")
    host: str | None = Field(description="The host the data is sent to (null: it stays inside this Bedside).")
    policies: list[str] = Field(description="The policies (available to this tenant) that send data there.")
    receives: str = Field(description="What they receive.")


class RetentionFact(_Model):
    data: str = Field(description="Which data.")
    period: str = Field(description="How long it is kept, in words.")
    days: int | None = Field(description="The period in days where there is one.")


class ProcessingFacts(_Model):
    controller: str = Field(description="Who decides on the processing.")
    source: str = Field(description="Where the data comes from.")
    purposes: list[PurposeFact]
    categories: list[CategoryFact]
    recipients: list[RecipientFact]
    retention: list[RetentionFact]
    automated_decisions: str = Field(description="Automated decisions Bedside makes about requests, and their effect.")
    rights: list[str] = Field(description="What the user can ask for, and how.")


# ---- sections ------------------------------------------------------------------------------------


class PurposeState(_Model):
    granted: bool
    receipt_id: str | None = Field(description="The receipt of the decision in force (null: never decided, which means not granted).")


class ConsentReceipt(_Model):
    id: str = Field(description="The receipt's id (as answered when the decision was recorded).")
    created_at: datetime
    purpose: str
    granted: bool
    method: str = Field(description="How the decision was collected, e.g. `api`.")
    notice_version: str
    notice_hash: str = Field(description="SHA-256 (hex) of the notice the user was shown.")


class MemorySource(_Model):
    conversation: str = Field(description="The conversation it was said in (keyed HMAC of its id).")
    turn: int


class MemoryItem(_Model):
    id: str
    derived: Literal[True] = Field(default=True, description="Always true: Bedside extracted this from what the user said; it is not the user's verbatim message.")
    kind: str | None = Field(description="`preference`, `fact` or `identifier`.")
    topic: str | None
    text: str | None = Field(description="The memory with its values put back, as the user said it (null when unreadable).")
    text_with_placeholders: str | None = Field(description="The memory as stored, with placeholders standing for personal values.")
    values: dict[str, str] = Field(description="Placeholder -> value.")
    source: MemorySource
    created_at: datetime
    updated_at: datetime
    unreadable: str | None = Field(default=None, description="Why the content could not be decrypted (e.g. `key_destroyed`), else null.")


class PseudonymValue(_Model):
    placeholder: str = Field(description="The placeholder standing for the value, e.g. `<EMAIL_ADDRESS_1>`.")
    entity_type: str = Field(description="What kind of value it is, e.g. `EMAIL_ADDRESS`.")
    value: str = Field(description="The value itself.")
    table: str = Field(description="Where it is stored (encrypted).")
    row_id: str


class PolicyRef(_Model):
    name: str
    version: str


class TranscriptTurn(_Model):
    id: str
    conversation: str = Field(description="Keyed HMAC of the conversation id.")
    turn: int
    created_at: datetime
    policy: PolicyRef
    readings: dict[str, Any] = Field(description="Machine readings of the turn: emotion label and intensity, tone rules, rails verdicts.")
    user: str | None = Field(description="What the user said (null when unreadable).")
    reply: str | None = Field(description="The reply the user received (null when unreadable).")
    unreadable: str | None = None


class ThreadStateItem(_Model):
    id: str = Field(description="The row's id.")
    created_at: datetime
    updated_at: datetime
    conversation: str | None = Field(description="The conversation id the thread's turns are grouped under (null when unreadable).")
    user_turns: int | None = Field(description="How many user turns the conversation had when the state was kept.")
    resume_from: str | None = Field(description="The upstream's response id the conversation continues from.")
    upstream: str | None = Field(description="The configured upstream that keeps the conversation.")
    altered: bool | None = Field(description="Whether Bedside changed or stopped a reply on its way to the user (the upstream's copy differs).")
    values: dict[str, str] = Field(description="The conversation's pseudonym vault: placeholder -> the user's value it stands for.")
    emotion: dict[str, Any] | None = Field(description="The emotion readings of the user's turns (labels and numbers, no text).")
    unreadable: str | None = Field(default=None, description="Why the state could not be decrypted (e.g. `key_destroyed`), else null.")


class OutcomeFacts(_Model):
    id: int = Field(description="The row's id.")
    derived: Literal[True] = Field(default=True, description="Always true: machine values Bedside computed about the conversation (no text), for its product statistics.")
    conversation: str = Field(description="Keyed HMAC of the conversation id.")
    policy: PolicyRef = Field(description="The policy the conversation started under.")
    started_at: datetime
    ended_at: datetime
    requests: int
    turns: int = Field(description="User turns.")
    trajectory: list[list[Any]] = Field(description="One entry per user turn, oldest first: [emotion label, intensity, frustration score, distress 0/1].")
    sentiment_shift: float | None
    confusion_events: int
    distress_events: int
    tone_rules: dict[str, int] = Field(description="Tone rule -> times applied.")
    escalations: int
    rails: dict[str, int] = Field(description="Rail verdict (`input:<action>` / `output:<action>`) -> requests.")
    handoff_at: datetime | None = Field(description="When the conversation was handed to a human, if it was.")
    handoff_turn: int | None
    rating: int | None = Field(description="The rating from feedback (1-5), if any (a feedback comment is a transcript turn).")
    resolved: bool | None = Field(description="Whether feedback said the conversation resolved the matter, if it said.")
    feedback_at: datetime | None


class HandoffEvent(_Model):
    id: str = Field(description="The outbox row's id.")
    event_id: str
    policy: str
    created_at: datetime
    attempts: int = Field(description="Delivery attempts so far.")
    recipient_host: str | None = Field(description="The host of the webhook it goes to.")
    event: dict[str, Any] | None = Field(description="The event as the webhook will receive it (its context is already redacted).")
    unreadable: str | None = None


class DataKeyInfo(_Model):
    version: int
    kek_id: str = Field(description="The id of the key-encryption key that wraps it (never the key).")
    created_at: datetime
    destroyed_at: datetime | None
    state: Literal["live", "destroyed"]


class AuditLogEvent(_Model):
    """An entry of the tamper-evident audit log that names the user (by subject HMAC): what was done with their data."""

    audit_log_entry: Literal[True] = Field(default=True, description="Always true: an audit log entry about the user, not data the user gave (it is kept after an erasure).")
    index: int = Field(description="The entry's index in the audit log (its inclusion can be proved against a signed checkpoint).")
    kind: str = Field(description="The event's kind: request, consent, user_data, ... (docs/audit.md).")
    created_at: datetime
    event: dict[str, Any] = Field(description="The entry as logged: ids, counts and decisions (machine values; never message content).")


class ExportDocument(_Model):
    """Everything Bedside holds about one user of one tenant."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="Bedside user data export",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    object: Literal["user.export"] = "user.export"
    schema_version: Literal[1] = SCHEMA_VERSION
    generated_at: datetime
    tenant: str
    user: str = Field(description="The tenant's id for the user, as asked for.")
    subject: str = Field(description="How Bedside's tables name the user: a keyed HMAC of tenant and user id.")
    processing: ProcessingFacts
    consent: dict[str, PurposeState] = Field(description="The decision in force per purpose.")
    consent_receipts: list[ConsentReceipt] = Field(description="Every consent decision, oldest first.")
    memories: list[MemoryItem]
    pseudonym_values: list[PseudonymValue] = Field(description="The personal values stored behind placeholders (from memories and thread states).")
    transcripts: list[TranscriptTurn] = Field(description="Recorded turns, oldest first.")
    thread_states: list[ThreadStateItem] = Field(description="What Bedside keeps of conversations an upstream holds (Responses API), oldest first.")
    conversation_outcomes: list[OutcomeFacts] = Field(description="The facts of the user's conversations (derived machine values, no text).")
    handoff_events: list[HandoffEvent] = Field(description="Handoff events about the user still waiting for delivery.")
    data_keys: list[DataKeyInfo] = Field(description="The user's data keys (metadata only).")
    audit_events: list[AuditLogEvent] = Field(description="The audit log's entries about the user (matched by subject HMAC), oldest first; this export's own entry included.")
    counts: dict[str, int] = Field(description="Items per section, written after the sections (a reader can check it got them all).")
    complete: Literal[True] = Field(description="Written last: a document without it was cut off.")


#: the list sections, in the order the exporter writes them (each item is its model)
LIST_SECTIONS: dict[str, type[_Model]] = {
    "consent_receipts": ConsentReceipt,
    "memories": MemoryItem,
    "pseudonym_values": PseudonymValue,
    "transcripts": TranscriptTurn,
    "thread_states": ThreadStateItem,
    "conversation_outcomes": OutcomeFacts,
    "handoff_events": HandoffEvent,
    "data_keys": DataKeyInfo,
    "audit_events": AuditLogEvent,
}


def render_json_schema() -> str:
    """``docs/export.schema.json``."""
    schema = ExportDocument.model_json_schema(mode="serialization")
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"

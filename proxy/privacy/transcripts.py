"""Transcripts: a user's conversation turns, kept only under ``transcripts`` consent, encrypted.

:class:`TranscriptWriter` records one turn (user text and reply) as one envelope ciphertext bound
to tenant, user, table, row and column (:mod:`proxy.crypto.envelope`), next to machine-only
*readings* (emotion label and intensity, tone rule ids, rails verdicts: identifiers, numbers and
booleans, never text; :func:`clean_readings` refuses anything else). The user and the conversation
id are stored as keyed HMACs (:class:`~proxy.crypto.subjects.SubjectKey`). Reading back
(:meth:`TranscriptWriter.get_conversation`) decrypts; a shredded user's turns come back without
content. :func:`should_record` is the gate the consent/memory stages call before ``record``.
:func:`purge_expired` is the retention purge (``bedside retention purge`` and the periodic task
in ``serve``).
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import CryptoError, KeyDestroyed
from proxy.crypto.subjects import SubjectKey
from proxy.storage.repositories import UserScope
from proxy.storage.tables import Transcript
from proxy.storage.transcripts import ConversationSummary, TranscriptMaintenance, TranscriptRepository

TABLE = "transcripts"
COLUMN = "content"
#: the only sensitivity under which turns are recorded
RECORDED_SENSITIVITY = "standard"
_IDENT = re.compile(r"^[A-Za-z0-9_.:@/+-]{1,64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MAX_DEPTH = 4
_MAX_ITEMS = 64


class _Consent(Protocol):
    def granted(self, purpose: str) -> bool: ...


def should_record(consent: _Consent | Collection[str] | None, sensitivity: str | None) -> bool:
    """Record a turn only while ``transcripts`` is granted and the policy's sensitivity is ``standard``.

    ``consent`` is a :class:`~proxy.privacy.consent.ConsentState` (or anything with ``granted(purpose)``)
    or the collection of purposes granted; None (unknown) never records.
    """
    if consent is None or sensitivity != RECORDED_SENSITIVITY:
        return False
    granted = getattr(consent, "granted", None)
    if callable(granted):
        return bool(granted("transcripts"))
    return "transcripts" in consent  # type: ignore[operator]  # the collection branch


def clean_readings(readings: Mapping[str, Any] | None) -> dict[str, Any]:
    """``readings`` if it holds machine values only (identifier keys; identifiers, numbers, booleans, null,
    and lists or objects of them), else ValueError: free text never reaches the readings column."""
    if readings is None:
        return {}
    cleaned = _clean(dict(readings), 0, "readings")
    assert isinstance(cleaned, dict)
    return cleaned


def _clean(value: Any, depth: int, where: str) -> Any:
    if depth > _MAX_DEPTH:
        raise ValueError(f"{where}: nested too deep for a machine reading")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: not a finite number")
        return value
    if isinstance(value, str):
        if not _IDENT.match(value):
            raise ValueError(f"{where}: readings hold identifiers only (labels, rule ids, verdicts), not text")
        return value
    if isinstance(value, list | tuple):
        if len(value) > _MAX_ITEMS:
            raise ValueError(f"{where}: too many items")
        return [_clean(v, depth + 1, f"{where}[]") for v in value]
    if isinstance(value, Mapping):
        if len(value) > _MAX_ITEMS:
            raise ValueError(f"{where}: too many keys")
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not _IDENT.match(key):
                raise ValueError(f"{where}: keys are identifiers")
            out[key] = _clean(item, depth + 1, f"{where}.{key}")
        return out
    raise ValueError(f"{where}: {type(value).__name__} is not a machine value")


@dataclass(frozen=True, slots=True)
class PolicyTag:
    """Which policy applied to a turn: its name and version (``ResolvedPolicy.version_header``)."""

    name: str
    version: str

    @classmethod
    def of(cls, policy: Any) -> PolicyTag:
        """From a PolicyTag, a ``(name, version)`` pair, or a resolved policy (``name``, ``version_header``)."""
        if isinstance(policy, PolicyTag):
            return policy
        if isinstance(policy, tuple) and len(policy) == 2:
            return cls(str(policy[0]), str(policy[1]))
        return cls(str(policy.name), str(getattr(policy, "version_header", None) or getattr(policy, "content_hash", "")))


@dataclass(frozen=True, slots=True)
class Turn:
    """One recorded turn, decrypted. ``user_text`` and ``reply_text`` are None when unreadable (``unreadable`` says why)."""

    id: str
    conversation: str
    turn: int
    created_at: datetime
    policy_name: str
    policy_version: str
    readings: dict[str, Any]
    user_text: str | None
    reply_text: str | None
    unreadable: str | None = None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class TranscriptWriter:
    """Records and reads one user's transcripts; every call runs its database work off the event loop."""

    def __init__(self, repo: TranscriptRepository, envelope: Envelope, subjects: SubjectKey) -> None:
        self.repo = repo
        self.envelope = envelope
        self.subjects = subjects

    def conversation_hash(self, scope: UserScope, conversation: str) -> str:
        return self.subjects.conversation(scope, conversation)

    # ---- sync ---------------------------------------------------------------------------------

    def record_sync(self, scope: UserScope, conversation: str, turn: int, policy: Any, readings: Mapping[str, Any] | None, user_text: str, reply_text: str) -> str:
        """Store one turn; returns the row id. ``readings`` must hold machine values only (ValueError)."""
        tag = PolicyTag.of(policy)
        clean = clean_readings(readings)
        if isinstance(turn, bool) or not isinstance(turn, int) or turn < 0:
            raise ValueError("turn is a non-negative integer")
        row_id = str(uuid.uuid4())
        plaintext = json.dumps({"user": user_text, "reply": reply_text}, ensure_ascii=False).encode("utf-8", "surrogatepass")
        content = self.envelope.encrypt_sync(scope, FieldRef(TABLE, row_id, COLUMN), plaintext)
        self.repo.add(
            scope,
            row_id=row_id,
            conversation=self.conversation_hash(scope, conversation),
            turn=turn,
            policy_name=tag.name[:128],
            policy_version=tag.version[:64],
            readings=clean,
            content=content,
        )
        return row_id

    def list_conversations_sync(self, scope: UserScope) -> list[ConversationSummary]:
        return self.repo.conversations(scope)

    def get_conversation_sync(self, scope: UserScope, conversation: str) -> list[Turn]:
        """The turns of a conversation, given by its id or by the hash ``list_conversations`` shows."""
        candidates = [self.conversation_hash(scope, conversation)]
        if _HEX64.match(conversation):
            candidates.append(conversation)
        with self.envelope.batch():  # one data-key read for all the turns
            return [self._open(scope, row) for row in self.repo.turns(scope, candidates)]

    def delete_all_sync(self, scope: UserScope) -> int:
        """Erase the user's transcripts (erasure); returns rows deleted."""
        return self.repo.delete_all(scope)

    def _open(self, scope: UserScope, row: Transcript) -> Turn:
        user_text = reply_text = unreadable = None
        try:
            data = json.loads(self.envelope.decrypt_sync(scope, FieldRef(TABLE, row.id, COLUMN), row.content))
            user_text, reply_text = str(data["user"]), str(data["reply"])
        except KeyDestroyed:
            unreadable = "key_destroyed"
        except CryptoError:
            unreadable = "decryption_failed"
        return Turn(row.id, row.conversation, row.turn, _utc(row.created_at), row.policy_name, row.policy_version, dict(row.readings or {}), user_text, reply_text, unreadable)

    # ---- async --------------------------------------------------------------------------------

    async def record(self, scope: UserScope, conversation: str, turn: int, policy: Any, readings: Mapping[str, Any] | None, user_text: str, reply_text: str) -> str:
        return await self.envelope.repo.run(self.record_sync, scope, conversation, turn, policy, readings, user_text, reply_text)

    async def list_conversations(self, scope: UserScope) -> list[ConversationSummary]:
        return await self.envelope.repo.run(self.list_conversations_sync, scope)

    async def get_conversation(self, scope: UserScope, conversation: str) -> list[Turn]:
        return await self.envelope.repo.run(self.get_conversation_sync, scope, conversation)

    async def delete_all(self, scope: UserScope) -> int:
        return await self.envelope.repo.run(self.delete_all_sync, scope)


def retention_by_policy(policies: Iterable[Any]) -> dict[str, int]:
    """Policy name -> ``transcripts.retention_days`` for the policies that set one."""
    out: dict[str, int] = {}
    for policy in policies:
        days = getattr(getattr(policy, "transcripts", None), "retention_days", None)
        if days is not None:
            out[str(policy.name)] = int(days)
    return out


def purge_expired(
    engine: Engine, retention_days: int, *, by_policy: Mapping[str, int] | None = None, dry_run: bool = False, now: datetime | None = None
) -> dict[str, int]:
    """Delete transcripts past their retention (or only count them); returns rows per tenant.

    A turn is kept for its policy's days (``by_policy``, from :func:`retention_by_policy`), or for
    ``retention_days`` when its policy sets none or no longer exists."""
    at = now or datetime.now(UTC)
    cutoff = at - timedelta(days=retention_days)
    own = {name: at - timedelta(days=days) for name, days in (by_policy or {}).items()}
    maintenance = TranscriptMaintenance(engine)
    return maintenance.older_than(cutoff, own) if dry_run else maintenance.purge_older_than(cutoff, own)

"""Bedside's side of conversations an upstream keeps (the Responses API's stored responses).

When a client continues with ``previous_response_id`` (or a ``conversation``), the earlier turns are
not in the request: the upstream holds them, with the placeholders Bedside put there. To keep those
placeholders (and the emotion trend), Bedside keeps per reply id a :class:`ThreadState`: the
pseudonym vault of the conversation so far, the emotion readings of its user turns, the
conversation id, and which upstream id to continue from.

Each state is one envelope ciphertext (AES-GCM under the user's data key, bound to tenant, user,
table, row and column: :mod:`proxy.crypto.envelope`) in ``thread_states``; the reply id is stored
only as a keyed HMAC, unique across tenants, so an id belongs to the user who created it (or, for
a conversation, who first continued it through Bedside): for anyone else it is "not found".
Crypto-shredding the user makes their states unreadable, which also reads as "not found".
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import DecryptionFailed, KeyDestroyed
from proxy.crypto.subjects import SubjectKey
from proxy.storage.repositories import UserScope
from proxy.storage.tables import ThreadStateRow
from proxy.storage.threads import ThreadMaintenance, ThreadRepository

__all__ = ["ThreadState", "ThreadStore", "purge_expired_threads", "vault_values"]

TABLE = "thread_states"
COLUMN = "state"


@dataclass(frozen=True, slots=True)
class ThreadState:
    """What Bedside keeps for one reply (or conversation) an upstream holds."""

    #: the conversation's pseudonym vault (``PseudonymVault.export_state()``; values included)
    vault: dict[str, Any] | None = None
    #: the emotion readings of its user turns (``emotion_conversation.prior_state()``: numbers only)
    emotion: dict[str, Any] | None = None
    #: the conversation id its turns are grouped under (logs, transcripts, handoffs)
    conversation_id: str | None = None
    #: how many user turns the conversation has had
    user_turns: int = 0
    #: the id the upstream continues from (None: from the start; differs from the reply's own id
    #: when Bedside wrote the reply itself, which the upstream never saw)
    resume_from: str | None = None
    #: the upstream that keeps it (``GET`` and ``DELETE /v1/responses/{id}`` go there)
    upstream: str | None = None
    #: Bedside changed or stopped the reply on its way to the client (a rail, masked PII), so the
    #: upstream's stored copy is not what the client received
    altered: bool = False

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")

    @classmethod
    def from_bytes(cls, raw: bytes) -> ThreadState:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("a thread state is a JSON object")
        fields: dict[str, Any] = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**fields)


class ThreadStore:
    """Loads and saves thread states; every async call runs its database work off the event loop."""

    def __init__(self, repo: ThreadRepository, envelope: Envelope, subjects: SubjectKey) -> None:
        self.repo = repo
        self.envelope = envelope
        self.subjects = subjects

    def scope(self, tenant: str, user: str) -> UserScope:
        return self.subjects.scope(tenant, user)

    # ---- sync (worker threads) -----------------------------------------------------------------

    def load_sync(self, scope: UserScope, thread_id: str) -> ThreadState | None:
        """The user's state for ``thread_id``; None when there is none for them, or it cannot be read
        (their data key was shredded)."""
        row = self.repo.get(scope, self.subjects.thread(thread_id))
        return None if row is None else self._read(scope, row)

    def _read(self, scope: UserScope, row: ThreadStateRow) -> ThreadState | None:
        """The state in one of the user's rows; None when it cannot be read (their data key was shredded)."""
        try:
            return ThreadState.from_bytes(self.envelope.decrypt_sync(scope, FieldRef(TABLE, row.id, COLUMN), row.state))
        except (KeyDestroyed, DecryptionFailed, ValueError, TypeError):
            return None

    def save_sync(self, scope: UserScope, thread_id: str, state: ThreadState) -> bool:
        """Keep ``state`` for ``thread_id`` (replacing the user's own earlier one); False when the id
        belongs to someone else."""
        ref = self.subjects.thread(thread_id)
        plaintext = state.to_bytes()
        with self.envelope.batch():
            row_id = str(uuid.uuid4())  # a reply's id is new: insert first, look up only when it is taken
            if self.repo.add(scope, row_id=row_id, ref=ref, state=self.envelope.encrypt_sync(scope, FieldRef(TABLE, row_id, COLUMN), plaintext)):
                return True
            row = self.repo.get(scope, ref)
            if row is None:
                return False  # someone else's
            sealed = self.envelope.encrypt_sync(scope, FieldRef(TABLE, row.id, COLUMN), plaintext)
            return self.repo.replace(scope, row_id=row.id, state=sealed)

    def claim_sync(self, scope: UserScope, thread_id: str) -> ThreadState | None:
        """The user's state for ``thread_id``, binding the id to them with an empty state when nobody
        has it yet (a conversation first continued through Bedside); None when it is someone else's, or
        theirs but unreadable (shredded).

        One read of the row, then (none yet) an insert that only succeeds for the first claimer: a
        claim that loses the insert to another replica reads the winner's row (the user's own, as it
        is now: perhaps with a turn saved already), and never writes over it."""
        ref = self.subjects.thread(thread_id)
        row = self.repo.get(scope, ref)
        if row is None:
            empty = ThreadState(resume_from=thread_id)
            with self.envelope.batch():
                row_id = str(uuid.uuid4())
                if self.repo.add(scope, row_id=row_id, ref=ref, state=self.envelope.encrypt_sync(scope, FieldRef(TABLE, row_id, COLUMN), empty.to_bytes())):
                    return empty
            row = self.repo.get(scope, ref)  # claimed meanwhile: by this user through another request, or by someone else
            if row is None:
                return None
        return self._read(scope, row)

    def open(self, scope: UserScope, row: ThreadStateRow) -> ThreadState:
        """Decrypt one stored row of the user (the export reads them this way); raises
        :class:`~proxy.crypto.keys.CryptoError` when it cannot be decrypted, ValueError or TypeError
        when the plaintext is not a state."""
        return ThreadState.from_bytes(self.envelope.decrypt_sync(scope, FieldRef(TABLE, row.id, COLUMN), row.state))

    def delete_sync(self, scope: UserScope, thread_id: str) -> bool:
        return self.repo.delete(scope, self.subjects.thread(thread_id))

    # ---- async ---------------------------------------------------------------------------------

    async def load(self, scope: UserScope, thread_id: str) -> ThreadState | None:
        return await self.envelope.repo.run(self.load_sync, scope, thread_id)

    async def save(self, scope: UserScope, thread_id: str, state: ThreadState) -> bool:
        return await self.envelope.repo.run(self.save_sync, scope, thread_id, state)

    async def claim(self, scope: UserScope, thread_id: str) -> ThreadState | None:
        return await self.envelope.repo.run(self.claim_sync, scope, thread_id)

    async def delete(self, scope: UserScope, thread_id: str) -> bool:
        return await self.envelope.repo.run(self.delete_sync, scope, thread_id)


def vault_values(state: ThreadState) -> list[tuple[str, str, str]]:
    """The personal values in a state's pseudonym vault: (placeholder, entity type, value), by placeholder."""
    entries = (state.vault or {}).get("entries") or []
    out = {str(e[2]): (str(e[0]), str(e[3])) for e in entries if isinstance(e, list | tuple) and len(e) == 4}
    return [(placeholder, entity, value) for placeholder, (entity, value) in sorted(out.items())]


def purge_expired_threads(engine: Engine, retention_days: int, *, now: datetime | None = None) -> int:
    """Delete thread states not updated for ``retention_days``; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    return ThreadMaintenance(engine).purge_older_than(cutoff)

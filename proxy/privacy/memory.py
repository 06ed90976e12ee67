"""Remembered facts of one user: encrypted at rest, read and written only in the user's scope.

A memory row holds two envelope ciphertexts bound to ``memories``, its row id and column:
``text`` (the sentence as the user said it, with the placeholders its request gave personal values)
and ``data`` (JSON: the topic and the values behind those placeholders). :meth:`Memory.plain_text`
puts the values back (what the user sees through the API); the memory stage instead maps each value
to the *current* request's placeholder, so the model never sees a remembered value.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cachetools import LRUCache

from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import CryptoError
from proxy.crypto.subjects import SubjectKey, conversation_subject
from proxy.privacy.memory_rules import Extracted
from proxy.privacy.pseudonyms import PLACEHOLDER_RE
from proxy.storage.repositories import PrivacyRepository, UserScope
from proxy.storage.tables import MemoryRow

TABLE = "memories"


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return _utc(value).astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Memory:
    """One decrypted memory. ``repr`` shows no content."""

    id: str
    kind: str
    topic: str
    text: str
    values: Mapping[str, str]
    conversation: str
    turn: int
    created: datetime
    updated: datetime

    def __repr__(self) -> str:
        return f"Memory(id={self.id}, kind={self.kind}, values={len(self.values)})"

    def plain_text(self) -> str:
        """The sentence with its values put back, as the user said it."""
        return PLACEHOLDER_RE.sub(lambda m: self.values.get(m.group(0), m.group(0)), self.text)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.plain_text(),
            "kind": self.kind,
            "provenance": {"conversation": self.conversation, "turn": self.turn, "time": _iso(self.created)},
            "created": _iso(self.created),
            "updated": _iso(self.updated),
        }


class MemoryStore:
    """Load, remember and forget one user's memories (sync core, async wrappers on the repository's threads)."""

    def __init__(self, repo: PrivacyRepository, envelope: Envelope, subjects: SubjectKey, *, cache_size: int = 1024) -> None:
        self.repo = repo
        self.envelope = envelope
        self.subjects = subjects
        #: (tenant, subject) -> (version, memories): a user's memories, decrypted, in process memory
        #: only, reused while ``repo.memory_version`` is unchanged (any write, deletion or shredding,
        #: by any process, changes it)
        self._opened: LRUCache[tuple[str, str], tuple[tuple[Any, ...], tuple[Memory, ...]]] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()

    def scope(self, tenant: str, user: str) -> UserScope:
        return self.subjects.scope(tenant, user)

    # ---- sync ---------------------------------------------------------------------------------

    def _seal(self, scope: UserScope, row_id: str, item: Extracted, values: Mapping[str, str]) -> tuple[bytes, bytes]:
        text = self.envelope.encrypt_sync(scope, FieldRef(TABLE, row_id, "text"), item.text.encode("utf-8"))
        data = json.dumps({"topic": item.topic, "values": dict(values)}, ensure_ascii=False).encode("utf-8")
        return text, self.envelope.encrypt_sync(scope, FieldRef(TABLE, row_id, "data"), data)

    def _open(self, scope: UserScope, row: MemoryRow) -> Memory:
        text = self.envelope.decrypt_sync(scope, FieldRef(TABLE, row.id, "text"), row.text).decode("utf-8")
        data = json.loads(self.envelope.decrypt_sync(scope, FieldRef(TABLE, row.id, "data"), row.data))
        values = {str(k): str(v) for k, v in dict(data.get("values") or {}).items()}
        return Memory(row.id, row.kind, str(data.get("topic") or ""), text, values, row.conversation, row.turn, _utc(row.created_at), _utc(row.updated_at))

    def load_sync(self, scope: UserScope) -> list[Memory]:
        """The user's memories, oldest first; a row that no longer decrypts (shredded key) is left out.
        Decrypted once per version of the user's memories (one cheap query checks it)."""
        version = self.repo.memory_version(scope)
        key = (scope.tenant, scope.subject)
        with self._lock:
            hit = self._opened.get(key)
        if hit is not None and hit[0] == version:
            return list(hit[1])
        out = self._open_all(scope)
        with self._lock:
            self._opened[key] = (version, tuple(out))
        return out

    def _open_all(self, scope: UserScope) -> list[Memory]:
        out: list[Memory] = []
        with self.envelope.batch():  # one data-key read for all the rows
            for row in self.repo.memories(scope):
                try:
                    out.append(self._open(scope, row))
                except (CryptoError, ValueError):
                    continue
        return out

    def remember_sync(self, scope: UserScope, items: Iterable[Extracted], values: Mapping[str, str], *, tenant: str, conversation: str, turn: int) -> tuple[int, int]:
        """Store ``items`` (text with placeholders; ``values`` maps placeholders to values). A memory of
        the same kind and topic is replaced, not added. Returns (added, replaced)."""
        items = list(items)
        if not items:
            return 0, 0
        with self.envelope.batch():  # one data-key read for the load and every seal
            return self._remember(scope, items, values, conversation_subject(self.subjects, tenant, conversation), turn)

    def _remember(self, scope: UserScope, items: list[Extracted], values: Mapping[str, str], conv: str, turn: int) -> tuple[int, int]:
        existing = {(m.kind, m.topic): m for m in self.load_sync(scope)}
        added = replaced = 0
        for item in items:
            placeholders = {m.group(0) for m in PLACEHOLDER_RE.finditer(item.text)}
            if not placeholders <= set(values):
                continue  # a placeholder whose value this request does not hold: nothing to remember it by
            mine = {p: values[p] for p in placeholders}
            old = existing.get((item.kind, item.topic))
            if old is not None:
                if old.plain_text() == Memory(old.id, item.kind, item.topic, item.text, mine, conv, turn, old.created, old.updated).plain_text():
                    continue  # said again: keep the first provenance
                text, data = self._seal(scope, old.id, item, mine)
                if self.repo.replace_memory(scope, old.id, text=text, data=data, conversation=conv, turn=turn):
                    replaced += 1
                    continue
            row_id = str(uuid.uuid4())
            text, data = self._seal(scope, row_id, item, mine)
            self.repo.add_memory(scope, MemoryRow(id=row_id, tenant=scope.tenant, subject=scope.subject, kind=item.kind, text=text, data=data, conversation=conv, turn=turn))
            added += 1
        return added, replaced

    # ---- async --------------------------------------------------------------------------------

    async def load(self, scope: UserScope) -> list[Memory]:
        return await self.repo.run(self.load_sync, scope)

    async def remember(self, scope: UserScope, items: Iterable[Extracted], values: Mapping[str, str], *, tenant: str, conversation: str, turn: int) -> tuple[int, int]:
        def work() -> tuple[int, int]:
            return self.remember_sync(scope, items, values, tenant=tenant, conversation=conversation, turn=turn)

        return await self.repo.run(work)

    async def forget(self, scope: UserScope, memory_id: str) -> bool:
        return await self.repo.run(self.repo.delete_memory, scope, memory_id)

    async def forget_all(self, scope: UserScope) -> int:
        return await self.repo.run(self.repo.delete_memories, scope)

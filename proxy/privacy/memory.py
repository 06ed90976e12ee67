"""Remembered facts of one user: encrypted at rest, read and written only in the user's scope.

A memory row holds two envelope ciphertexts bound to ``memories``, its row id and column:
``text`` (the sentence as the user said it, with the placeholders its request gave personal values)
and ``data`` (JSON: the topic and the values behind those placeholders). :meth:`Memory.plain_text`
puts the values back (what the user sees through the API); the memory stage instead maps each value
to the *current* request's placeholder, so the model never sees a remembered value.

A user's memories are decrypted once per *version* of them (:meth:`PrivacyRepository.memory_version`,
one cheap query that any write, deletion or shredding by any replica changes) and kept in process
memory only, as a :class:`~proxy.privacy.memory_relevance.MemoryIndex`: the memories with their
content words, budget costs and embedding vectors, so a request ranks them without re-reading,
re-decrypting or re-embedding anything.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cachetools import LRUCache

from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import CryptoError
from proxy.crypto.subjects import SubjectKey, conversation_subject
from proxy.marks import is_bedside_text
from proxy.privacy.memory_relevance import MemoryIndex, Relevance
from proxy.privacy.memory_rules import Extracted
from proxy.privacy.pseudonyms import PLACEHOLDER_RE, PseudonymVault
from proxy.storage.repositories import PrivacyRepository, UserScope
from proxy.storage.tables import MemoryRow
from proxy.storage.user_lock import user_lock

TABLE = "memories"


def _after(times: Iterable[datetime]) -> datetime:
    """The time a revision writes: now, or just after the latest of the user's memories when that is
    later (another replica's clock ran ahead). Replicas compare the latest time, with the count, to
    see a change, so a write must never be dated at or below it whatever this replica's clock says."""
    now = datetime.now(UTC)
    latest = max((_utc(t) for t in times), default=None)
    return now if latest is None or now > latest else latest + timedelta(microseconds=1)


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


def with_placeholders(memory: Memory, vault: PseudonymVault) -> str | None:
    """The memory's text with each value replaced by ``vault``'s placeholder for it (created when new),
    so it can reach a model; None when a value is missing or the text carries Bedside's mark."""
    missing = False

    def swap(match: Any) -> str:
        nonlocal missing
        value = memory.values.get(match.group(0))
        if value is None:
            missing = True
            return ""
        return vault.placeholder_for(match.group("type"), value)

    text = PLACEHOLDER_RE.sub(swap, memory.text)
    return None if missing or is_bedside_text(text) else text


@dataclass(frozen=True, slots=True)
class Revision:
    """What one write did to a user's memories."""

    added: int = 0
    replaced: int = 0
    updated: int = 0
    forgotten: int = 0


def _placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER_RE.finditer(text)}


class MemoryStore:
    """Load, remember and forget one user's memories (sync core, async wrappers on the repository's threads)."""

    def __init__(self, repo: PrivacyRepository, envelope: Envelope, subjects: SubjectKey, *, relevance: Relevance | None = None, cache_size: int = 1024) -> None:
        self.repo = repo
        self.envelope = envelope
        self.subjects = subjects
        self.relevance = relevance if relevance is not None else Relevance()
        #: (tenant, subject) -> (version, index): a user's memories, decrypted and indexed, in process
        #: memory only, reused while ``repo.memory_version`` is unchanged (any write, deletion or
        #: shredding, by any process, changes it)
        self._opened: LRUCache[tuple[str, str], tuple[tuple[Any, ...], MemoryIndex]] = LRUCache(maxsize=cache_size)
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

    def index_sync(self, scope: UserScope) -> MemoryIndex:
        """The user's memories (oldest first) with their ranking features; a row that no longer decrypts
        (shredded key) is left out. Decrypted and embedded once per version of the user's memories."""
        version = self.repo.memory_version(scope)
        key = (scope.tenant, scope.subject)
        with self._lock:
            hit = self._opened.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        # rows unchanged since the last version, under the same live keys, are not decrypted or embedded again
        before = hit[1] if hit is not None and hit[0][2:] == version[2:] else None
        index = self.relevance.index(self._open_all(scope, before), before)
        with self._lock:
            self._opened[key] = (version, index)
        return index

    def load_sync(self, scope: UserScope) -> list[Memory]:
        """The user's memories, oldest first (see :meth:`index_sync`)."""
        return list(self.index_sync(scope).memories)

    def ranked_sync(self, scope: UserScope, turn: str, *, since: float = float("-inf")) -> list[Memory]:
        """The user's memories updated at or after ``since`` (a timestamp), most relevant to ``turn`` first."""
        index = self.index_sync(scope)
        return [index.memories[i] for i in index.ranked(self.relevance.query(turn), since=since)]

    def _open_all(self, scope: UserScope, before: MemoryIndex | None = None) -> list[Memory]:
        known = {m.id: m for m in before.memories} if before is not None else {}
        out: list[Memory] = []
        with self.envelope.batch():  # one data-key read for all the rows
            for row in self.repo.memories(scope):
                same = known.get(row.id)
                if same is not None and same.updated == _utc(row.updated_at):
                    out.append(same)
                    continue
                try:
                    out.append(self._open(scope, row))
                except (CryptoError, ValueError):
                    continue
        return out

    def remember_sync(self, scope: UserScope, items: Iterable[Extracted], values: Mapping[str, str], *, tenant: str, conversation: str, turn: int) -> tuple[int, int]:
        """Store ``items`` (text with placeholders; ``values`` maps placeholders to values). A memory of
        the same kind and topic is replaced, not added. Returns (added, replaced)."""
        done = self.revise_sync(scope, add=items, values=values, tenant=tenant, conversation=conversation, turn=turn)
        return done.added, done.replaced

    def revise_sync(
        self,
        scope: UserScope,
        *,
        add: Iterable[Extracted] = (),
        update: Mapping[str, str] | None = None,
        forget: Iterable[str] = (),
        values: Mapping[str, str],
        tenant: str,
        conversation: str,
        turn: int,
    ) -> Revision:
        """One write: ``forget`` these memory ids, ``update`` these (id -> new text, same kind and
        topic), ``add`` these items (a memory of the same kind and topic is replaced). Texts hold
        placeholders that ``values`` must all resolve, else that item is skipped; ids that are not
        the user's are skipped too. Holds the user's lock (:func:`~proxy.storage.user_lock.user_lock`)
        from the read to the last write, so two replicas revising one user take turns."""
        add, forget, update = list(add), list(forget), dict(update or {})
        if not (add or forget or update):
            return Revision()
        conv = conversation_subject(self.subjects, tenant, conversation)
        # one revision of the user's memories at a time, across replicas: the load below sees the
        # previous one's rows, so a memory of the same kind and topic is replaced, never added twice
        with user_lock(self.repo.engine, scope, "memories"), self.envelope.batch():  # one data-key read for the load and every seal
            mine = {m.id: m for m in self.load_sync(scope)}
            at = _after(m.updated for m in mine.values())
            forgotten = sum(1 for memory_id in dict.fromkeys(forget) if memory_id in mine and self.repo.delete_memory(scope, memory_id))
            updated = 0
            for memory_id, text in update.items():
                old = mine.get(memory_id)
                if old is None or memory_id in forget or not _placeholders(text) <= set(values):
                    continue
                item = Extracted(old.kind, old.topic, text)
                if self._replace(scope, old, item, values, conv, turn, at):
                    updated += 1
            live = {(m.kind, m.topic): m for m in mine.values() if m.id not in forget}
            added, replaced = self._remember(scope, add, values, live, conv, turn, at)
        return Revision(added, replaced, updated, forgotten)

    def _replace(self, scope: UserScope, old: Memory, item: Extracted, values: Mapping[str, str], conv: str, turn: int, at: datetime) -> bool | None:
        """Overwrite ``old`` with ``item``: True when replaced, False when gone meanwhile, None when
        it says the same again (the first provenance is kept)."""
        mine = {p: values[p] for p in _placeholders(item.text)}
        if old.plain_text() == Memory(old.id, item.kind, item.topic, item.text, mine, conv, turn, old.created, old.updated).plain_text():
            return None
        text, data = self._seal(scope, old.id, item, mine)
        return self.repo.replace_memory(scope, old.id, text=text, data=data, conversation=conv, turn=turn, at=at)

    def _remember(self, scope: UserScope, items: list[Extracted], values: Mapping[str, str], existing: dict[tuple[str, str], Memory], conv: str, turn: int, at: datetime) -> tuple[int, int]:
        added = replaced = 0
        for item in items:
            if not _placeholders(item.text) <= set(values):
                continue  # a placeholder whose value this request does not hold: nothing to remember it by
            old = existing.get((item.kind, item.topic))
            if old is not None:
                done = self._replace(scope, old, item, values, conv, turn, at)
                if done is None:
                    continue  # said again
                if done:
                    replaced += 1
                    continue
            row_id = str(uuid.uuid4())
            mine = {p: values[p] for p in _placeholders(item.text)}
            text, data = self._seal(scope, row_id, item, mine)
            self.repo.add_memory(scope, MemoryRow(id=row_id, tenant=scope.tenant, subject=scope.subject, kind=item.kind, text=text, data=data, conversation=conv, turn=turn, updated_at=at))
            added += 1
        return added, replaced

    # ---- async --------------------------------------------------------------------------------

    async def load(self, scope: UserScope) -> list[Memory]:
        return await self.repo.run(self.load_sync, scope)

    async def ranked(self, scope: UserScope, turn: str, *, since: float = float("-inf")) -> list[Memory]:
        def work() -> list[Memory]:
            return self.ranked_sync(scope, turn, since=since)

        return await self.repo.run(work)

    async def remember(self, scope: UserScope, items: Iterable[Extracted], values: Mapping[str, str], *, tenant: str, conversation: str, turn: int) -> tuple[int, int]:
        def work() -> tuple[int, int]:
            return self.remember_sync(scope, items, values, tenant=tenant, conversation=conversation, turn=turn)

        return await self.repo.run(work)

    async def revise(
        self,
        scope: UserScope,
        *,
        add: Iterable[Extracted] = (),
        update: Mapping[str, str] | None = None,
        forget: Iterable[str] = (),
        values: Mapping[str, str],
        tenant: str,
        conversation: str,
        turn: int,
    ) -> Revision:
        def work() -> Revision:
            return self.revise_sync(scope, add=add, update=update, forget=forget, values=values, tenant=tenant, conversation=conversation, turn=turn)

        return await self.repo.run(work)

    async def forget(self, scope: UserScope, memory_id: str) -> bool:
        return await self.repo.run(self.repo.delete_memory, scope, memory_id)

    async def forget_all(self, scope: UserScope) -> int:
        return await self.repo.run(self.repo.delete_memories, scope)

"""The consent ledger: a user's decisions per purpose, appended and never overwritten.

Purposes are ``memory`` (Bedside may remember facts across conversations) and ``transcripts``
(Bedside may keep conversation transcripts). **Off by default**: a purpose with no recorded
decision is not granted. Each decision is a new ``consent_events`` row and comes back as a
:class:`Receipt`: its id, time, purpose, decision, how it was collected, and the version and
SHA-256 of the notice the user was shown. The current state is the latest decision per purpose;
the history is every decision, oldest first. Users appear in the ledger only as subjects (keyed
HMACs of tenant and user id, :class:`~proxy.crypto.subjects.SubjectKey`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from proxy.crypto.subjects import SubjectKey
from proxy.storage.repositories import PrivacyRepository, UserScope
from proxy.storage.tables import PURPOSES, ConsentEvent

Purpose = Literal["memory", "transcripts"]

#: the notice used when the operator configured none (settings ``privacy.notice_file``)
BUILTIN_NOTICE = (
    "Bedside can remember things you tell it across conversations (memory) and keep transcripts "
    "of your conversations (transcripts), only if you agree, separately for each. Both are off "
    "until you turn them on, you can turn either off at any time, and what was kept is encrypted "
    "with a key only for you."
)
BUILTIN_NOTICE_VERSION = "builtin-1"


@dataclass(frozen=True, slots=True)
class Notice:
    """The text shown to users when asking for consent, and its version; receipts carry its hash."""

    version: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


BUILTIN = Notice(BUILTIN_NOTICE_VERSION, BUILTIN_NOTICE)


def _utc(value: datetime) -> datetime:
    # SQLite returns naive datetimes for the UTC values stored
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Receipt:
    """Proof of one decision, as returned to the client."""

    id: str
    created_at: datetime
    purpose: str
    granted: bool
    method: str
    notice_version: str
    notice_hash: str

    @classmethod
    def of(cls, row: ConsentEvent) -> Receipt:
        return cls(row.receipt_id, _utc(row.created_at), row.purpose, row.granted, row.method, row.notice_version, row.notice_hash)

    def to_json(self) -> dict[str, Any]:
        return {
            "object": "consent.receipt",
            "id": self.id,
            "created_at": self.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "purpose": self.purpose,
            "granted": self.granted,
            "method": self.method,
            "notice_version": self.notice_version,
            "notice_hash": self.notice_hash,
        }


@dataclass(frozen=True, slots=True)
class ConsentState:
    """The latest decision per purpose (None: never asked, which means not granted) and the history."""

    latest: dict[str, Receipt | None]
    history: list[Receipt]

    def granted(self, purpose: str) -> bool:
        receipt = self.latest.get(purpose)
        return receipt is not None and receipt.granted

    def to_json(self) -> dict[str, Any]:
        return {
            "object": "consent",
            "purposes": {p: {"granted": self.granted(p), "receipt": r.to_json() if r is not None else None} for p, r in self.latest.items()},
            "history": [r.to_json() for r in self.history],
        }


class ConsentLedger:
    """Grant, withdraw and read consent for one tenant's user at a time."""

    def __init__(self, repo: PrivacyRepository, subjects: SubjectKey, notice: Notice = BUILTIN) -> None:
        self.repo = repo
        self.subjects = subjects
        self.notice = notice
        #: called with (tenant, user) after every recorded decision (the consent stage drops its cached state)
        self._listeners: list[Callable[[str, str], None]] = []

    def on_change(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(tenant, user)`` after each decision this process records."""
        self._listeners.append(listener)

    def scope(self, tenant: str, user: str) -> UserScope:
        return self.subjects.scope(tenant, user)

    def notify_changed(self, tenant: str, user: str) -> None:
        """Tell the listeners the user's decisions changed other than by :meth:`record` (an erasure)."""
        for listener in self._listeners:
            listener(tenant, user)

    # ---- sync ---------------------------------------------------------------------------------

    def record_sync(self, tenant: str, user: str, purpose: str, granted: bool, method: str = "api") -> Receipt:
        """Append a decision; returns its receipt. Recording the same decision twice appends twice."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown purpose {purpose!r}: one of {list(PURPOSES)}")
        row = self.repo.append_consent(
            self.scope(tenant, user),
            receipt_id=str(uuid.uuid4()),
            purpose=purpose,
            granted=bool(granted),
            method=method,
            notice_version=self.notice.version,
            notice_hash=self.notice.sha256,
        )
        for listener in self._listeners:
            listener(tenant, user)
        return Receipt.of(row)

    def state_sync(self, tenant: str, user: str) -> ConsentState:
        scope = self.scope(tenant, user)
        history = [Receipt.of(r) for r in self.repo.consent_history(scope)]
        latest: dict[str, Receipt | None] = dict.fromkeys(PURPOSES)
        for receipt in history:  # oldest first: the last one per purpose wins
            latest[receipt.purpose] = receipt
        return ConsentState(latest, history)

    def granted_sync(self, tenant: str, user: str, purpose: Purpose) -> bool:
        """Whether ``purpose`` is granted now (no decision: not granted). One indexed query."""
        row = self.repo.latest_consent(self.scope(tenant, user)).get(purpose)
        return row is not None and row.granted

    def granted_purposes_sync(self, tenant: str, user: str) -> frozenset[str]:
        """Every purpose granted now, in one indexed query (what the consent stage reads per request)."""
        return frozenset(p for p, row in self.repo.latest_consent(self.scope(tenant, user)).items() if row.granted)

    def known_sync(self, tenant: str, user: str) -> bool:
        return self.repo.known(self.scope(tenant, user))

    # ---- async --------------------------------------------------------------------------------

    async def record(self, tenant: str, user: str, purpose: str, granted: bool, method: str = "api") -> Receipt:
        return await self.repo.run(self.record_sync, tenant, user, purpose, granted, method)

    async def state(self, tenant: str, user: str) -> ConsentState:
        return await self.repo.run(self.state_sync, tenant, user)

    async def granted(self, tenant: str, user: str, purpose: Purpose) -> bool:
        return await self.repo.run(self.granted_sync, tenant, user, purpose)

    async def granted_purposes(self, tenant: str, user: str) -> frozenset[str]:
        return await self.repo.run(self.granted_purposes_sync, tenant, user)

    async def known(self, tenant: str, user: str) -> bool:
        return await self.repo.run(self.known_sync, tenant, user)

"""Erasure (GDPR Art. 17): every row of one user removed, their data key destroyed, a receipt answered.

:meth:`Eraser.erase` runs, in a worker thread:

0. **drain the writers** (``before``): the outcome writer batches conversation facts for a moment
   before it writes them, so a request that finished just before the erasure is written first (and
   deleted with the rest); a writer that does not drain in time fails the erasure before it
   deletes anything (:class:`ErasureWritersBusy`: retry). The same happens before the second pass;
1. **begin** the user's erasure in the journal (``erasures``), or resume the one a crash left
   running (its ``attempts`` counted up), with a random *tombstone* chosen once;
2. **each step** (:class:`~proxy.privacy.user_data.ErasureStep`, in order: consent records, memories,
   transcripts, pending handoff events, ..., data keys last) in its own transaction, together with the
   journal's count of what it did, so a kill at any point leaves the journal exact and a retry
   finishes the rest. Consent records are *detached* (re-keyed to the tombstone: kept as proof of
   consent, no longer leading to the user); every other row is deleted; deleting the data key rows
   (wrapped keys included) is the crypto-shredding;
3. **a second pass** of every step: rows a request already in flight wrote meanwhile (it had read
   the user's consent before step 1) go too. Outcome facts another replica's writer still holds
   are not written at all: the outcome step raises a fence (:mod:`proxy.storage.erasure_fences`);
4. **the audit seam** (:class:`ErasureAudit`, when one is wired): the erasure's facts (ids, counts,
   the user as subject only) go to the audit log, which answers the entry's index, a signed
   checkpoint and the inclusion proof. If it fails, the erasure stays ``running`` (the data is gone
   already) and the caller is told to retry, which finishes it and issues the receipt;
5. **finish**: the journal row becomes the receipt (no user id, subject cleared).

After it, listeners drop cached state of the user (the consent stage's cache, the memory store's
decrypted copy). Erasure is idempotent: a second run finds nothing and deletes nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from proxy.privacy.erasure_receipt import AuditProof, ConsentKept, DestroyedKey, ErasureReceipt
from proxy.privacy.user_data import ErasureStep, Who
from proxy.storage.tables import ErasureRow
from proxy.storage.user_rows import ErasureJournal

#: the test hook: after the step of this table commits (first pass), pause so a test can kill the process
PAUSE_AFTER_ENV = "BEDSIDE_TEST_ERASURE_PAUSE_AFTER"
#: the file the hook writes when it pauses (the test waits for it)
PAUSE_FILE_ENV = "BEDSIDE_TEST_ERASURE_PAUSE_FILE"
PAUSE_SECONDS = 600.0

CONSENT_KEPT_HOLDS = "purpose, decision, time, collection method, notice version and SHA-256, receipt id; no user id or subject"


@dataclass(frozen=True, slots=True)
class ErasureFacts:
    """What the audit log may record about an erasure: ids, counts and times; the user only as subject."""

    erasure_id: str
    tenant: str
    subject: str
    erased: Mapping[str, int]
    consent_detached: int
    data_keys_destroyed: int
    attempts: int


class ErasureAudit(Protocol):
    """The seam to the audit log: record the erasure, answer where (index, checkpoint, inclusion proof)."""

    async def __call__(self, facts: ErasureFacts) -> AuditProof | None: ...


class ErasureAuditFailed(Exception):
    """The data is erased but the audit log did not record it: no receipt yet, a retry finishes it."""


class ErasureWritersBusy(Exception):
    """A writer that batches user rows (the outcome writer) did not drain in time: a retry finishes the erasure."""


def pause_hook(environ: Mapping[str, str] | None = None) -> Callable[[str], None] | None:
    """The test hook from the environment (:data:`PAUSE_AFTER_ENV`), or None (always, in production)."""
    env = os.environ if environ is None else environ
    step = env.get(PAUSE_AFTER_ENV)
    if not step:
        return None
    signal = env.get(PAUSE_FILE_ENV)

    def pause(table: str) -> None:
        if table != step:
            return
        if signal:
            Path(signal).write_text(table, encoding="utf-8")
        time.sleep(PAUSE_SECONDS)

    return pause


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Eraser:
    """Runs erasures over ``steps`` (data keys last) with a journal in ``engine``."""

    def __init__(
        self,
        engine: Engine,
        steps: Sequence[ErasureStep],
        *,
        run: Callable[..., Any],
        audit: ErasureAudit | None = None,
        pause: Callable[[str], None] | None = None,
        after: Sequence[Callable[[Who], None]] = (),
        before: Sequence[Callable[[], bool]] = (),
    ) -> None:
        if not steps or steps[-1].table != "data_keys":
            raise ValueError("the data keys step must be the last: content rows go first, then the key that could read them")
        self.engine = engine
        self.steps = list(steps)
        self.journal = ErasureJournal(engine)
        self._run = run
        self.audit = audit
        self._pause = pause
        self._after = list(after)
        self._before = list(before)

    # ---- sync (in a worker thread) -------------------------------------------------------------

    def holds_sync(self, who: Who) -> bool:
        """Whether anything of the user is left to erase (any step's rows, or a running erasure)."""
        return self.journal.running(who.scope) is not None or any(step.holds(who) for step in self.steps)

    def _drain(self) -> None:
        if not all([drain() for drain in self._before]):
            raise ErasureWritersBusy("a batching writer did not drain in time")

    def run_steps_sync(self, who: Who) -> ErasureRow:
        self._drain()
        row = self.journal.begin(who.scope, os.urandom(32).hex())
        for first_pass in (True, False):
            if not first_pass:
                self._drain()
            for step in self.steps:
                with self.engine.begin() as conn:
                    result = step.erase(who, conn, row.consent_tombstone)
                    self.journal.record(conn, row.id, result.action, step.table, result.count, result.keys)
                if first_pass and self._pause is not None:
                    self._pause(step.table)
        for listener in self._after:
            listener(who)
        found = self.journal.get(row.id)
        if found is None:
            raise LookupError("the erasure's journal row is gone")
        return found

    def finish_sync(self, row: ErasureRow, audit: AuditProof | None) -> ErasureReceipt:
        completed = datetime.now(UTC)
        receipt = receipt_of(row, completed, audit)
        self.journal.finish(row.id, receipt.model_dump(mode="json", exclude={"user"}), completed)
        return receipt

    # ---- async ---------------------------------------------------------------------------------

    async def holds(self, who: Who) -> bool:
        result: bool = await self._run(self.holds_sync, who)
        return result

    async def erase(self, who: Who) -> ErasureReceipt:
        """Erase the user (see the module docstring); ErasureAuditFailed when the audit log did not take it."""
        row: ErasureRow = await self._run(self.run_steps_sync, who)
        proof: AuditProof | None = None
        if self.audit is not None:
            try:
                proof = await self.audit(facts_of(row, who))
            except Exception as exc:
                raise ErasureAuditFailed(type(exc).__name__) from exc
        receipt: ErasureReceipt = await self._run(self.finish_sync, row, proof)
        return receipt.model_copy(update={"user": who.user})


def _counts(row: ErasureRow, action: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in dict((row.counts or {}).get(action) or {}).items()}


def facts_of(row: ErasureRow, who: Who) -> ErasureFacts:
    detached = _counts(row, "detached")
    return ErasureFacts(row.id, row.tenant, who.scope.subject, _counts(row, "deleted"), sum(detached.values()), len(row.data_keys or []), row.attempts)


def receipt_of(row: ErasureRow, completed: datetime, audit: AuditProof | None) -> ErasureReceipt:
    return ErasureReceipt(
        id=row.id,
        tenant=row.tenant,
        started_at=_utc(row.started_at),
        completed_at=completed,
        attempts=row.attempts,
        erased=_counts(row, "deleted"),
        consent=ConsentKept(kept=sum(_counts(row, "detached").values()), detached_as=row.consent_tombstone, holds=CONSENT_KEPT_HOLDS),
        data_keys_destroyed=[DestroyedKey.model_validate(k) for k in row.data_keys or []],
        audit=audit,
    )

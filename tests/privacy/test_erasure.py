"""Erasure on SQLite and PostgreSQL: no row anywhere names the user, every old ciphertext is unreadable,
other users (same tenant, same id in another tenant) are untouched, the receipt is exact, the old id
starts fresh, and an interrupted or repeated erasure finishes without leaving anything."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa

from proxy.crypto.keys import CryptoError
from proxy.crypto.subjects import conversation_subject
from proxy.outcomes.recorder import OutcomeRecorder
from proxy.privacy.erasure import Eraser, ErasureAuditFailed, ErasureFacts, ErasureWritersBusy
from proxy.privacy.erasure_receipt import AuditProof, ErasureReceipt
from proxy.privacy.export import collect
from proxy.privacy.memory_rules import Extracted
from proxy.privacy.user_data import Who
from proxy.storage.outcomes import OutcomeRepository, OutcomeUpdate
from proxy.storage.tables import ErasureRow
from tests.privacy.rights_world import ERASED, TURNS, World
from tests.storage.dbs import db_url  # noqa: F401 - fixture

RECEIPT_SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "erasure-receipt.schema.json").read_text())


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:  # noqa: F811
    w = World.build(db_url, tmp_path / "data")
    yield w
    w.close()


async def _doc(world: World, who: Who) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(await collect(world.rights.export(who)))
    doc.pop("generated_at")
    return doc


def _journal(world: World, erasure_id: str) -> ErasureRow:
    row = world.rights.eraser.journal.get(erasure_id)
    assert row is not None
    return row


async def test_erasure_leaves_no_row_no_readable_ciphertext_and_others_untouched(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    world.seed("acme", "bob", "CANARYBOB")
    world.seed("globex", "alice", "CANARYGLOBEX")
    alice, bob, other_alice = world.who("acme", "alice"), world.who("acme", "bob"), world.who("globex", "alice")
    # a conversation without a named user: its facts name nobody, so erasing alice keeps them (the counts below check it)
    OutcomeRepository(world.engine).apply([OutcomeUpdate("acme", conversation_subject(world.privacy.subjects, "acme", "anonymous"), None, "support", "v1", datetime.now(UTC), 1)])
    before = {w: await _doc(world, w) for w in (bob, other_alice)}
    counts_before = world.table_counts()
    old = world.ciphertexts(alice)
    assert len(old) == 2 * 2 + TURNS + 1

    receipt = await world.rights.erase(alice)

    assert receipt.erased == ERASED and receipt.consent.kept == 2 and receipt.attempts == 1 and receipt.audit is None and receipt.user == "alice"
    assert [k.version for k in receipt.data_keys_destroyed] == [1] and receipt.data_keys_destroyed[0].destroyed_at is None
    jsonschema.validate(receipt.model_dump(mode="json"), RECEIPT_SCHEMA)
    # no row of any table names her any more (subject, or her values in clear)
    assert world.rows_naming(alice.scope.subject, "CANARYALICE") == {}
    assert not await world.rights.known(alice)
    # her consent decisions stay as proof, filed under a random tombstone
    with world.engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT tenant, purpose FROM consent_events WHERE subject = :s ORDER BY id"), {"s": receipt.consent.detached_as}).all()
    assert [tuple(r) for r in kept] == [("acme", "memory"), ("acme", "transcripts")]
    # every ciphertext she had, wherever a copy of it is, no longer opens
    for ref, blob in old:
        with pytest.raises(CryptoError):
            world.privacy.envelope.decrypt_sync(alice.scope, ref, blob)
    # nobody else lost anything
    assert {w: await _doc(world, w) for w in (bob, other_alice)} == before
    counts_after = world.table_counts()
    for table, n in counts_before.items():
        assert counts_after[table] == n - ERASED.get(table, 0) + (1 if table in ("erasures", "erasure_fences") else 0), table
    # the journal keeps the receipt, without her id or subject
    stored = _journal(world, receipt.id)
    assert (stored.state, stored.subject) == ("done", None)
    assert stored.receipt == receipt.model_dump(mode="json", exclude={"user"}) and "alice" not in json.dumps(stored.receipt)


async def test_the_old_id_starts_fresh_and_old_ciphertexts_stay_unreadable(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")
    old = world.ciphertexts(alice)
    assert world.privacy.memories.load_sync(alice.scope)  # decrypted and cached in this process
    await world.rights.erase(alice)
    assert world.privacy.ledger.granted_purposes_sync("acme", "alice") == frozenset()  # memory off
    assert world.privacy.memories.load_sync(alice.scope) == []  # nothing left in the store's cache either
    # she comes back: a new decision, a new memory under a new data key
    world.privacy.ledger.record_sync("acme", "alice", "memory", True)
    world.privacy.memories.remember_sync(alice.scope, [Extracted("fact", "diet", "I'm vegan.")], {}, tenant="acme", conversation="c-9", turn=1)
    doc = await _doc(world, alice)
    assert [m["text"] for m in doc["memories"]] == ["I'm vegan."] and len(doc["consent_receipts"]) == 1 and doc["transcripts"] == []
    assert [k["version"] for k in doc["data_keys"]] == [1]  # a new key: it cannot open what the old one sealed
    for ref, blob in old:
        with pytest.raises(CryptoError):
            world.privacy.envelope.decrypt_sync(alice.scope, ref, blob)


async def test_a_second_erasure_deletes_nothing(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")
    first = await world.rights.erase(alice)
    again = await world.rights.erase(alice)
    assert first.erased == ERASED
    assert again.id != first.id and sum(again.erased.values()) == 0 and again.consent.kept == 0 and again.data_keys_destroyed == []


async def test_two_erasures_of_one_user_at_once_share_one_journal(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")

    def linger(table: str) -> None:  # keeps the first erasure running while the second begins
        if table == "consent_events":
            time.sleep(2)

    eraser = Eraser(world.engine, world.rights.steps, run=world.privacy.repo.run, pause=linger)
    one, two = await asyncio.gather(eraser.erase(alice), eraser.erase(alice))
    final = _journal(world, one.id)
    assert one.id == two.id and final.state == "done" and final.attempts == 2
    assert ErasureReceipt.model_validate(final.receipt).erased == ERASED  # each row counted once
    assert world.rows_naming(alice.scope.subject) == {}


class _Crash(Exception):
    pass


async def test_an_erasure_interrupted_midway_is_finished_by_the_retry(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")

    def crash_after(table: str) -> None:
        if table == "transcripts":
            raise _Crash

    interrupted = Eraser(world.engine, world.rights.steps, run=world.privacy.repo.run, pause=crash_after)
    with pytest.raises(_Crash):
        await interrupted.erase(alice)
    running = world.rights.eraser.journal.running(alice.scope)
    assert running is not None and running.counts == {"detached": {"consent_events": 2}, "deleted": {"memories": 2, "transcripts": TURNS}}
    assert await world.rights.known(alice)  # the data key and the handoff event are still there
    receipt = await world.rights.erase(alice)
    assert (receipt.id, receipt.attempts, receipt.erased, receipt.consent.kept) == (running.id, 2, ERASED, 2)
    assert world.rows_naming(alice.scope.subject) == {}


class _AuditLog:
    """Stands in for the audit log (issue 14's other half) behind the erasure's seam."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.recorded: list[ErasureFacts] = []

    async def __call__(self, facts: ErasureFacts) -> AuditProof | None:
        if self.fail:
            raise ConnectionError("audit store down")
        self.recorded.append(facts)
        return AuditProof(index=41 + len(self.recorded), checkpoint="bedside.test/log\n42\nroot\n", inclusion_proof=["aGFzaA=="], entry="{\"index\":42}")


async def test_the_receipt_carries_the_audit_proof_and_waits_for_it(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")
    down = _AuditLog(fail=True)
    eraser = Eraser(world.engine, world.rights.steps, run=world.privacy.repo.run, audit=down)
    with pytest.raises(ErasureAuditFailed):
        await eraser.erase(alice)
    assert world.rows_naming(alice.scope.subject) == {"erasures": 1}  # erased; only the running journal names her
    assert await world.rights.known(alice)  # so a retry is answered, and finishes
    up = _AuditLog()
    receipt = await Eraser(world.engine, world.rights.steps, run=world.privacy.repo.run, audit=up).erase(alice)
    assert receipt.audit == AuditProof(index=42, checkpoint="bedside.test/log\n42\nroot\n", inclusion_proof=["aGFzaA=="], entry="{\"index\":42}")
    (facts,) = up.recorded
    assert (facts.erasure_id, facts.tenant, facts.subject, dict(facts.erased), facts.consent_detached, facts.data_keys_destroyed, facts.attempts) == (
        receipt.id,
        "acme",
        alice.scope.subject,
        ERASED,
        2,
        1,
        2,
    )
    assert "alice" not in repr(facts)
    assert world.rows_naming(alice.scope.subject) == {}


def _late_outcome(world: World, who: Who, conversation: str) -> OutcomeUpdate:
    return OutcomeUpdate(who.tenant, conversation_subject(world.privacy.subjects, who.tenant, conversation), who.scope.subject, "support", "v1", datetime.now(UTC), 1)


async def test_outcome_facts_still_in_the_writer_are_written_then_erased(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")
    recorder = OutcomeRecorder(OutcomeRepository(world.engine), linger=1.0)  # batches for a second: longer than the erasure takes
    recorder.start()

    def request_finishes(table: str) -> None:  # a request of hers finishes midway through the erasure's first pass
        if table == "conversation_outcomes":
            assert recorder.submit(_late_outcome(world, alice, "c-late"))

    try:
        eraser = Eraser(world.engine, world.rights.steps, run=world.privacy.repo.run, pause=request_finishes, before=[recorder.flush])
        receipt = await eraser.erase(alice)
    finally:
        recorder.stop()  # writes anything still waiting: nothing of hers may be
    assert receipt.erased["conversation_outcomes"] == 2  # the seeded one, and the late one the second pass found
    assert world.rows_naming(alice.scope.subject) == {}


async def test_a_writer_that_does_not_drain_fails_the_erasure_before_it_deletes(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")
    counts = world.table_counts()
    with pytest.raises(ErasureWritersBusy):
        await Eraser(world.engine, world.rights.steps, run=world.privacy.repo.run, before=[lambda: False]).erase(alice)
    assert world.table_counts() == counts and world.rights.eraser.journal.running(alice.scope) is None
    assert (await world.rights.erase(alice)).erased == ERASED  # the retry does it all


def test_the_data_key_step_must_come_last(world: World) -> None:
    steps = list(world.rights.steps)
    with pytest.raises(ValueError, match="last"):
        Eraser(world.engine, [steps[-1], *steps[:-1]], run=world.privacy.repo.run)


def test_journal_records_of_two_transactions_add_up(world: World) -> None:
    """Two erasures of one user record their steps in their own transactions. A step that deleted
    nothing has begun no write on SQLite, so the journal must take its lock before it reads the
    counts, or a record committed in between is overwritten (a receipt once showed no data key)."""
    import threading

    alice = world.who("acme", "alice")
    row = world.rights.eraser.journal.begin(alice.scope, "t" * 64)
    journal = world.rights.eraser.journal
    first = world.engine.connect()
    tx = first.begin()
    journal.record(first, row.id, "deleted", "memories", 2)  # holds the lock, not committed yet

    def second() -> None:
        with world.engine.begin() as conn:
            journal.record(conn, row.id, "deleted", "data_keys", 1, [{"version": 1}])

    other = threading.Thread(target=second)
    other.start()
    other.join(timeout=0.5)  # the second waits for the first's lock, or (without it) has read the counts already
    tx.commit()
    first.close()
    other.join(timeout=30)
    assert not other.is_alive()
    counts = _journal(world, row.id).counts or {}
    assert counts.get("deleted") == {"memories": 2, "data_keys": 1}

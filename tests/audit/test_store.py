"""The audit store on SQLite and PostgreSQL: sequencing, proofs checked by an independent RFC 6962
transcription, checkpoints, and every kind of tampering detected and named by ``verify_log``."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from proxy.audit import merkle
from proxy.audit.checkpoint import open_checkpoint
from proxy.audit.store import leaf_bytes
from proxy.audit.verify import VerificationError, verify_consistency, verify_entry, verify_log
from tests.audit import rfc6962 as ref
from tests.audit.helpers import fill, fresh_log, payloads
from tests.storage.dbs import db_url  # noqa: F401 - fixture


def test_sequenced_entries_carry_their_index_and_proofs_match_the_rfc(db_url: str) -> None:  # noqa: F811
    engine, log = fresh_log(db_url)
    try:
        fill(log, 21)
        data = payloads(engine)
        assert [json.loads(p)["index"] for p in data] == list(range(21))
        state = log.store.state()
        assert state.size == 21 and state.root == ref.mth(data)
        for m in (0, 7, 20):
            assert log.store.inclusion_proof(m, 21) == ref.path(m, data)
            assert log.store.inclusion_proof(m, 13 if m < 13 else 21) == ref.path(m, data[: 13 if m < 13 else 21])
        for m in (1, 8, 13, 20):
            assert log.store.consistency_proof(m, 21) == ref.proof(m, data)
        assert log.store.root_at(13) == ref.mth(data[:13])
        with pytest.raises(ValueError, match="21 entries"):
            log.store.inclusion_proof(3, 22)
    finally:
        engine.dispose()


def test_checkpoint_receipt_and_consistency_verify_offline(db_url: str) -> None:  # noqa: F811
    engine, log = fresh_log(db_url)
    try:
        fill(log, 6)
        old = log.checkpoint_sync()
        assert log.checkpoint_sync() == old  # nothing new: the same checkpoint, not another one
        fill(log, 5)
        new = log.checkpoint_sync()
        assert (old.size, new.size) == (6, 11)
        payload, _ = log.store.entry(4) or (b"", b"")
        proof = log.store.inclusion_proof(4, new.size)
        verified = verify_entry(payload, 4, proof, new.note, log.verifiers)
        assert verified.size == 11
        with pytest.raises(VerificationError, match="inclusion"):
            verify_entry(payload.replace(b'"r', b'"x'), 4, proof, new.note, log.verifiers)
        with pytest.raises(VerificationError, match="entry"):
            verify_entry(payload, 5, proof, new.note, log.verifiers)
        verify_consistency(old.note, new.note, log.store.consistency_proof(6, 11), log.verifiers)
        with pytest.raises(VerificationError, match="consistency"):
            verify_consistency(old.note, new.note, log.store.consistency_proof(5, 11), log.verifiers)
        assert verify_log(log.store, log.verifiers, origin=log.origin).ok
    finally:
        engine.dispose()


# ---- tampering ------------------------------------------------------------------------------


def _tampered(url: str, sql: list[str], params: dict[str, object] | None = None) -> list[tuple[str, int | None]]:
    engine, log = fresh_log(url)
    try:
        fill(log, 12, checkpoint_every=4)  # checkpoints of 4, 8 and 12 entries
        assert verify_log(log.store, log.verifiers, origin=log.origin).ok
        with engine.begin() as conn:
            for statement in sql:
                conn.execute(sa.text(statement), params or {})
        report = verify_log(log.store, log.verifiers, origin=log.origin)
        assert not report.ok
        return [(p.check, p.index) for p in report.problems]
    finally:
        engine.dispose()


def test_an_edited_entry_is_named(db_url: str) -> None:  # noqa: F811
    found = _tampered(db_url, ["UPDATE audit_entries SET payload = :p WHERE idx = 5"], {"p": leaf_bytes(5, b'{"v":1,"kind":"admin","action":"x","reason":"forged"}')})
    assert ("leaf_hash", 5) in found
    assert ("checkpoint_root", 4) in found  # the checkpoint of 8 entries: the change is in [4, 8)


def test_an_entry_edited_with_its_leaf_hash_is_caught_by_the_stored_subtrees_and_checkpoints(db_url: str) -> None:  # noqa: F811
    forged = leaf_bytes(5, b'{"v":1,"kind":"admin","action":"x","reason":"forged"}')
    found = _tampered(db_url, ["UPDATE audit_entries SET payload = :p, leaf_hash = :h WHERE idx = 5"], {"p": forged, "h": merkle.leaf_hash(forged)})
    assert ("leaf_hash", 5) not in found
    assert ("node", 4) in found  # the stored hash of entries 4 to 5
    assert ("checkpoint_root", 4) in found


def test_a_deleted_entry_is_named(db_url: str) -> None:  # noqa: F811
    found = _tampered(db_url, ["DELETE FROM audit_entries WHERE idx = 6"])
    assert found[0] == ("missing", 6)
    assert ("checkpoint_root", 4) in found


def test_an_inserted_entry_is_named(db_url: str) -> None:  # noqa: F811
    # shift entries 3.. up by one and put a forged entry (that claims index 3) in the gap
    forged = leaf_bytes(3, b'{"v":1,"kind":"admin","action":"x","reason":"inserted"}')
    found = _tampered(
        db_url,
        [
            "UPDATE audit_entries SET idx = idx + 1000 WHERE idx >= 3",
            "UPDATE audit_entries SET idx = idx - 999 WHERE idx >= 1000",
            "INSERT INTO audit_entries (idx, uid, kind, leaf_hash, payload, created_at) VALUES (3, 'forged', 'admin', :h, :p, CURRENT_TIMESTAMP)",
        ],
        {"p": forged, "h": merkle.leaf_hash(forged)},
    )
    assert ("index", 4) in found  # the entry now at 4 says it is 3
    assert ("tree_size", 12) in found  # one entry more than the sequencer made
    assert ("checkpoint_root", 0) in found


def test_an_entry_appended_outside_the_sequencer_is_named(db_url: str) -> None:  # noqa: F811
    forged = leaf_bytes(12, b'{"v":1,"kind":"admin","action":"x","reason":"appended"}')
    found = _tampered(
        db_url, ["INSERT INTO audit_entries (idx, uid, kind, leaf_hash, payload, created_at) VALUES (12, 'forged', 'admin', :h, :p, CURRENT_TIMESTAMP)"], {"p": forged, "h": merkle.leaf_hash(forged)}
    )
    assert found == [("tree_size", 12)]


def test_reordered_entries_are_named(db_url: str) -> None:  # noqa: F811
    found = _tampered(
        db_url,
        [
            "UPDATE audit_entries SET idx = 1002 WHERE idx = 2",
            "UPDATE audit_entries SET idx = 2 WHERE idx = 9",
            "UPDATE audit_entries SET idx = 9 WHERE idx = 1002",
        ],
    )
    assert ("index", 2) in found and ("index", 9) in found
    assert ("checkpoint_root", 0) in found


def test_a_checkpoint_of_the_empty_log_does_not_hide_the_later_ones(db_url: str) -> None:  # noqa: F811
    # a replica that signs before any request (its checkpoint timer came first) signs size 0; found by bench/scale.py
    engine, log = fresh_log(db_url)
    try:
        assert log.checkpoint_sync().size == 0
        fill(log, 5)
        assert log.checkpoint_sync().size == 5
        fill(log, 3)
        report = verify_log(log.store, log.verifiers, origin=log.origin)
        assert report.ok, report.problems
        assert (report.checkpoints, report.checkpoints_verified, report.entries) == (2, 2, 8)
    finally:
        engine.dispose()


def test_a_truncated_log_is_named(db_url: str) -> None:  # noqa: F811
    found = _tampered(db_url, ["DELETE FROM audit_entries WHERE idx >= 10"])
    assert ("tree_size", 10) in found
    assert ("truncated", 10) in found  # the checkpoint of 12 entries


def test_truncation_that_also_rewrote_the_tree_and_checkpoints_is_caught_by_a_kept_checkpoint(db_url: str) -> None:  # noqa: F811
    engine, log = fresh_log(db_url)
    try:
        fill(log, 12, checkpoint_every=4)
        kept = log.checkpoint_sync().note  # an operator or a witness keeps this one outside the database
        with engine.begin() as conn:
            edge = merkle.CompactRange()
            for p in payloads(engine)[:8]:
                edge.append(merkle.leaf_hash(p))
            conn.execute(sa.text("DELETE FROM audit_entries WHERE idx >= 8"))
            conn.execute(sa.text("DELETE FROM audit_checkpoints WHERE size > 8"))
            conn.execute(sa.text("UPDATE audit_tree SET size = 8, root = :r, edge = :e"), {"r": edge.root(), "e": edge.to_bytes()})
        assert verify_log(log.store, log.verifiers, origin=log.origin).ok  # inside the database it looks whole
        report = verify_log(log.store, log.verifiers, origin=log.origin, external=[("kept checkpoint", kept)])
        assert [(p.check, p.index) for p in report.problems] == [("truncated", 8)]
        assert open_checkpoint(kept, log.verifiers).size == 12
    finally:
        engine.dispose()


def test_a_forged_checkpoint_is_named(db_url: str) -> None:  # noqa: F811
    found = _tampered(db_url, ["UPDATE audit_checkpoints SET note = REPLACE(note, CHR(10) || '8' || CHR(10), CHR(10) || '7' || CHR(10)) WHERE size = 8"] if "postgres" in db_url else ["UPDATE audit_checkpoints SET note = REPLACE(note, char(10) || '8' || char(10), char(10) || '7' || char(10)) WHERE size = 8"])
    assert found == [("checkpoint_signature", None)]

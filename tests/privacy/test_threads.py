"""The thread store: Bedside's side of conversations an upstream keeps, on SQLite and PostgreSQL.

One user's state per response id, encrypted and bound to its row and user; an id belongs to one
user only (across tenants too); shredding makes it unreadable; the retention purge deletes old
rows; a raw scan of the SQLite file and its -wal finds no value a vault holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import LocalKeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.privacy.pseudonyms import PseudonymVault
from proxy.privacy.threads import ThreadState, ThreadStore, purge_expired_threads
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository
from proxy.storage.threads import ThreadRepository
from tests.storage.dbs import db_url, pg_url  # noqa: F401 - fixtures

SUBJECTS = SubjectKey(b"t" * 32)
CANARY = "canary.threads.4417@example.com"


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.engine.Engine]:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def store_for(engine: sa.engine.Engine) -> ThreadStore:
    return ThreadStore(ThreadRepository(engine), Envelope(PrivacyRepository(engine), LocalKeyProvider([b"K" * 32])), SUBJECTS)


def _state(value: str = CANARY) -> ThreadState:
    vault = PseudonymVault()
    vault.placeholder_for("EMAIL_ADDRESS", value)
    return ThreadState(vault=vault.export_state(), emotion={"first_compound": -0.5, "readings": []}, conversation_id="conv-1", user_turns=2, resume_from="resp_1", upstream="up")


def test_a_state_comes_back_only_to_its_user(engine: sa.engine.Engine) -> None:
    store = store_for(engine)
    ann, bob, other_tenant = SUBJECTS.scope("acme", "ann"), SUBJECTS.scope("acme", "bob"), SUBJECTS.scope("globex", "ann")
    assert store.save_sync(ann, "resp_1", _state())
    loaded = store.load_sync(ann, "resp_1")
    assert loaded == _state()
    assert PseudonymVault.from_state(loaded.vault or {}).value_for("<EMAIL_ADDRESS_1>") == CANARY
    assert store.load_sync(bob, "resp_1") is None and store.load_sync(other_tenant, "resp_1") is None
    assert not store.save_sync(bob, "resp_1", _state("bob@example.com")), "an id belongs to the user who created it"
    assert not store.save_sync(other_tenant, "resp_1", _state("x@example.com")), "in every tenant"
    assert store.load_sync(ann, "resp_1") == _state()
    assert store.save_sync(ann, "resp_1", ThreadState(resume_from="resp_1")), "the owner may replace it"
    assert store.load_sync(ann, "resp_1") == ThreadState(resume_from="resp_1")
    assert not store.delete_sync(bob, "resp_1") and store.delete_sync(ann, "resp_1")
    assert store.load_sync(ann, "resp_1") is None


def test_a_conversation_is_bound_to_the_first_user_who_continues_it(engine: sa.engine.Engine) -> None:
    store = store_for(engine)
    ann, bob = SUBJECTS.scope("acme", "ann"), SUBJECTS.scope("acme", "bob")
    assert store.claim_sync(ann, "conv_9") == ThreadState(resume_from="conv_9")
    assert store.claim_sync(bob, "conv_9") is None
    store.save_sync(ann, "conv_9", _state())
    assert store.claim_sync(ann, "conv_9") == _state()


def test_ciphertexts_are_bound_to_their_row_and_shredding_makes_them_unreadable(engine: sa.engine.Engine) -> None:
    store = store_for(engine)
    ann = SUBJECTS.scope("acme", "ann")
    store.save_sync(ann, "resp_a", _state())
    store.save_sync(ann, "resp_b", _state("second@example.com"))
    with engine.begin() as conn:  # row a's ciphertext copied over row b's
        blob = conn.execute(sa.text("SELECT state FROM thread_states WHERE ref = :r"), {"r": SUBJECTS.thread("resp_a")}).scalar_one()
        conn.execute(sa.text("UPDATE thread_states SET state = :b WHERE ref = :r"), {"b": blob, "r": SUBJECTS.thread("resp_b")})
    assert store.load_sync(ann, "resp_b") is None
    assert store.load_sync(ann, "resp_a") == _state()
    store.envelope.shred_sync(ann)
    assert store.load_sync(ann, "resp_a") is None
    assert store.claim_sync(ann, "resp_a") is None, "shredded is unreadable, not free to claim again"


def test_the_purge_deletes_states_not_used_for_the_retention_period(engine: sa.engine.Engine) -> None:
    store = store_for(engine)
    ann = SUBJECTS.scope("acme", "ann")
    store.save_sync(ann, "resp_old", _state())
    store.save_sync(ann, "resp_new", _state())
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE thread_states SET updated_at = :t WHERE ref = :r"), {"t": datetime.now(UTC) - timedelta(days=40), "r": SUBJECTS.thread("resp_old")})
    assert purge_expired_threads(engine, 30) == 1
    assert store.load_sync(ann, "resp_old") is None and store.load_sync(ann, "resp_new") is not None


def test_no_value_or_id_is_readable_at_rest(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    store = store_for(engine)
    store.save_sync(SUBJECTS.scope("acme", "ann-canary-user"), "resp_canary_id_77", _state())
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("b.db"))
    engine.dispose()
    assert b"acme" in raw, "the scan sees the rows (the tenant is stored in clear)"
    for secret in (CANARY.encode(), b"ann-canary-user", b"resp_canary_id_77", b"conv-1"):
        assert secret not in raw


@pytest.mark.postgres
def test_a_conversation_claimed_on_two_replicas_at_once_is_the_users_and_keeps_its_saved_state(pg_url: str) -> None:  # noqa: F811 - the imported fixture
    """Two replicas (two engines) take up one conversation of the same user at the same time: one
    claims it and saves its first turn's state, the other claims it. A claim read the row (none), then
    read it again: when the other replica's claim landed in between, the user's own conversation read
    as someone else's (404); and a claim that lost the insert wrote an empty state over the row,
    losing a saved turn's vault and turn count."""
    migrate.upgrade(pg_url)
    engines = [make_engine(pg_url) for _ in range(2)]
    first, second = (store_for(e) for e in engines)
    rounds, start = 60, threading.Barrier(2)
    refused: list[int] = []
    errors: list[BaseException] = []
    scope = first.scope("acme", "ann")

    def replica(store: ThreadStore, saves: bool) -> None:
        try:
            for i in range(rounds):
                start.wait(10)
                if store.claim_sync(scope, f"conv_{i}") is None:
                    refused.append(i)
                elif saves:
                    assert store.save_sync(scope, f"conv_{i}", _state())
        except BaseException as exc:  # reported below (a thread cannot fail the test)
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(first, True)), threading.Thread(target=replica, args=(second, False))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    states = [first.load_sync(scope, f"conv_{i}") for i in range(rounds)]
    for e in engines:
        e.dispose()
    assert not errors
    lost = [i for i, s in enumerate(states) if i not in refused and (s is None or s.user_turns != 2)]
    assert (refused, lost) == ([], []), f"{len(refused)} claims of the user's own conversation refused, {len(lost)} saved states overwritten, of {rounds}"

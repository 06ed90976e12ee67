"""MemoryStore on SQLite and PostgreSQL: ciphertexts bound to their row and user, scoped deletes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col

from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import LocalKeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.privacy.memory import MemoryStore
from proxy.privacy.memory_rules import Extracted
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository, ScopeError
from proxy.storage.tables import MemoryRow
from tests.storage.dbs import db_url, pg_url  # noqa: F401 - fixtures


def test_bound_rows_scoped_reads_and_deletes(db_url: str) -> None:  # noqa: F811
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    repo = PrivacyRepository(engine)
    store = MemoryStore(repo, Envelope(repo, LocalKeyProvider([b"K" * 32])), SubjectKey(b"s" * 32))
    ann, bob = store.scope("acme", "ann"), store.scope("acme", "bob")
    assert store.remember_sync(ann, [Extracted("identifier", "e-mail", "My e-mail is <EMAIL_ADDRESS_1>.")], {"<EMAIL_ADDRESS_1>": "a@x.org"}, tenant="acme", conversation="c", turn=2) == (1, 0)
    store.remember_sync(ann, [Extracted("fact", "diet", "I'm vegan.")], {}, tenant="acme", conversation="c", turn=3)
    store.remember_sync(bob, [Extracted("fact", "diet", "I'm vegetarian.")], {}, tenant="acme", conversation="c", turn=1)
    # a placeholder without its value is not remembered
    assert store.remember_sync(bob, [Extracted("identifier", "phone", "My phone is <PHONE_NUMBER_1>.")], {}, tenant="acme", conversation="c", turn=1) == (0, 0)
    mine = store.load_sync(ann)
    assert sorted(m.plain_text() for m in mine) == ["I'm vegan.", "My e-mail is a@x.org."]
    assert "a@x.org" not in repr(mine)
    # a ciphertext copied onto another row (even the same user's) does not open: that row is left out
    # (read by a fresh store: another process, nothing decrypted before)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE memories SET text = (SELECT text FROM memories WHERE id = :a) WHERE id = :b"), {"a": mine[0].id, "b": mine[1].id})
    fresh = MemoryStore(repo, store.envelope, store.subjects)
    assert [m.id for m in fresh.load_sync(ann)] == [mine[0].id]
    assert not repo.delete_memory(bob, mine[0].id)  # not bob's
    assert repo.delete_memories(ann) == 2
    assert [m.plain_text() for m in store.load_sync(bob)] == ["I'm vegetarian."]
    with pytest.raises(ScopeError):
        store.scope("acme", "")
    engine.dispose()


def test_memories_are_decrypted_once_per_version_and_any_change_is_seen(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    repo = PrivacyRepository(engine)
    envelope = Envelope(repo, LocalKeyProvider([b"K" * 32]))
    subjects = SubjectKey(b"s" * 32)
    store, other = MemoryStore(repo, envelope, subjects), MemoryStore(repo, envelope, subjects)  # two processes
    ann = store.scope("acme", "ann")
    store.remember_sync(ann, [Extracted("fact", "diet", "I'm vegan.")], {}, tenant="acme", conversation="c", turn=1)
    opened: list[str] = []
    real = envelope.decrypt_sync

    def counted(*args: object) -> bytes:
        opened.append("x")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(envelope, "decrypt_sync", counted)
    assert [m.plain_text() for m in store.load_sync(ann)] == ["I'm vegan."]
    first = len(opened)
    assert [m.plain_text() for m in store.load_sync(ann)] == ["I'm vegan."]
    assert len(opened) == first  # nothing changed: nothing decrypted again
    other.remember_sync(ann, [Extracted("fact", "diet", "I'm vegetarian now.")], {}, tenant="acme", conversation="c", turn=2)  # replaced elsewhere
    assert [m.plain_text() for m in store.load_sync(ann)] == ["I'm vegetarian now."]
    assert other.repo.delete_memories(ann) == 1  # forgotten elsewhere
    assert store.load_sync(ann) == []
    store.remember_sync(ann, [Extracted("fact", "pets", "I have a cat.")], {}, tenant="acme", conversation="c", turn=3)
    assert len(store.load_sync(ann)) == 1
    envelope.shred_sync(ann)  # crypto-shredded: the cached plaintext is not served again
    assert store.load_sync(ann) == []
    engine.dispose()


def test_revise_updates_and_forgets_only_the_users_own_memories(db_url: str) -> None:  # noqa: F811
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    repo = PrivacyRepository(engine)
    store = MemoryStore(repo, Envelope(repo, LocalKeyProvider([b"K" * 32])), SubjectKey(b"s" * 32))
    ann, bob = store.scope("acme", "ann"), store.scope("acme", "bob")
    store.remember_sync(ann, [Extracted("preference", "contact", "I prefer e-mail."), Extracted("fact", "diet", "I'm vegan.")], {}, tenant="acme", conversation="c", turn=1)
    store.remember_sync(bob, [Extracted("fact", "diet", "I'm vegetarian.")], {}, tenant="acme", conversation="c", turn=1)
    contact, diet = (m.id for m in store.load_sync(ann))
    [bobs] = (m.id for m in store.load_sync(bob))
    done = store.revise_sync(
        ann,
        add=[Extracted("identifier", "e-mail", "My e-mail is <EMAIL_ADDRESS_3>.")],
        update={contact: "I prefer calls at <PHONE_NUMBER_1>.", bobs: "I eat meat."},
        forget=[diet, bobs, "nope"],
        values={"<EMAIL_ADDRESS_3>": "ann@example.org", "<PHONE_NUMBER_1>": "+44 20 7946 0000"},
        tenant="acme",
        conversation="c2",
        turn=2,
    )
    assert (done.added, done.replaced, done.updated, done.forgotten) == (1, 0, 1, 1)
    assert sorted(m.plain_text() for m in store.load_sync(ann)) == ["I prefer calls at +44 20 7946 0000.", "My e-mail is ann@example.org."]
    assert [m.plain_text() for m in store.load_sync(bob)] == ["I'm vegetarian."]  # bob's id through ann's scope: untouched
    # an update whose placeholder has no value is skipped; saying the same again changes nothing
    assert store.revise_sync(ann, update={contact: "I prefer <EMAIL_ADDRESS_9>."}, values={}, tenant="acme", conversation="c", turn=3).updated == 0
    same = store.revise_sync(ann, update={contact: "I prefer calls at <PHONE_NUMBER_2>."}, values={"<PHONE_NUMBER_2>": "+44 20 7946 0000"}, tenant="acme", conversation="c", turn=3)
    assert same.updated == 0
    engine.dispose()


@pytest.mark.postgres
def test_replicas_remembering_one_topic_at_once_keep_one_memory(pg_url: str) -> None:  # noqa: F811 - the imported fixture
    """Two replicas (two engines) remember the same user's preference of one topic at the same time
    (a client's retry, or two conversations of the user, answered by different replicas). Each reads
    the user's memories, finds none of that topic and inserts one: without a lock per user both rows
    stay, and a later change of that preference replaces only one of them."""
    migrate.upgrade(pg_url)
    engines = [make_engine(pg_url) for _ in range(2)]
    stores = []
    for engine in engines:
        repo = PrivacyRepository(engine)
        stores.append(MemoryStore(repo, Envelope(repo, LocalKeyProvider([b"K" * 32])), SubjectKey(b"s" * 32)))
    rounds, start = 40, threading.Barrier(2)
    errors: list[BaseException] = []

    def replica(store: MemoryStore, colour: str) -> None:
        try:
            for i in range(rounds):
                start.wait(10)
                store.remember_sync(store.scope("acme", f"user-{i}"), [Extracted("preference", "colour", f"I like {colour}.")], {}, tenant="acme", conversation="c", turn=1)
        except BaseException as exc:  # reported below (a thread cannot fail the test)
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(s, colour)) for s, colour in zip(stores, ("red", "blue"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    kept = [len(stores[0].load_sync(stores[0].scope("acme", f"user-{i}"))) for i in range(rounds)]
    for e in engines:
        e.dispose()
    assert not errors
    assert kept == [1] * rounds, f"{sum(n > 1 for n in kept)} of {rounds} users have the same topic remembered twice"


def test_a_memory_forgotten_through_a_replica_whose_clock_lags_is_not_served_from_another_cache(db_url: str) -> None:  # noqa: F811
    """Replicas check a user's memories by a version (how many, the latest update time, the keys),
    not by re-reading them. A replica whose clock is ahead wrote one memory (its update time lies in
    the future of the others' clocks); another forgets a second memory and adds a third in one
    revision: the count is the same, and the new row's time (its own clock) is below that future
    latest, so the version did not move and a third replica kept serving the forgotten memory from
    its cache. Times of a user's memories now only go forward (each write is later than the latest)."""
    migrate.upgrade(db_url)
    engines = [make_engine(db_url) for _ in range(2)]
    reader, writer = (MemoryStore(PrivacyRepository(e), Envelope(PrivacyRepository(e), LocalKeyProvider([b"K" * 32])), SubjectKey(b"s" * 32)) for e in engines)
    ann = writer.scope("acme", "ann")
    writer.remember_sync(ann, [Extracted("fact", "diet", "I'm vegan."), Extracted("preference", "contact", "I prefer e-mail.")], {}, tenant="acme", conversation="c", turn=1)
    diet, contact = (m.id for m in writer.load_sync(ann))
    # the diet memory, as a replica with a clock a minute ahead wrote it (a typed update: guardrails-ai
    # registers a process-wide sqlite3 adapter that binds a raw datetime as an integer)
    with engines[0].begin() as conn:
        conn.execute(sa.update(MemoryRow).where(col(MemoryRow.id) == diet).values(updated_at=datetime.now(UTC) + timedelta(minutes=1)))
    assert {m.id for m in reader.load_sync(ann)} == {diet, contact}  # the reader caches both
    writer.revise_sync(ann, forget=[contact], add=[Extracted("preference", "drink", "I prefer tea.")], values={}, tenant="acme", conversation="c", turn=2)
    served = reader.load_sync(ann)
    for e in engines:
        e.dispose()
    assert contact not in {m.id for m in served}, "a forgotten memory was still served from another replica's cache"
    assert sorted(m.plain_text() for m in served) == ["I prefer tea.", "I'm vegan."]

"""Envelope encryption against a real database (SQLite and PostgreSQL): round trip, associated data
binding, nonce uniqueness, KEK rotation, crypto-shredding, wrong KEK, and scoped queries."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from proxy.crypto.envelope import Envelope, FieldRef, data_key_aad, rotate_kek
from proxy.crypto.keys import (
    DecryptionFailed,
    EnvKeyProvider,
    FileKeyProvider,
    KeyDestroyed,
    KeyProvider,
    KeyUnavailable,
    LocalKeyProvider,
    generate_kek,
    kek_id_for,
    parse_kek,
)
from proxy.crypto.subjects import SubjectKey
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import DataKeyMaintenance, PrivacyRepository, ScopeError, UserScope
from tests.storage.dbs import db_url  # noqa: F401 - fixture

KEK_A = b"A" * 32
KEK_B = b"B" * 32
SUBJECTS = SubjectKey(b"s" * 32)
ALICE = SUBJECTS.scope("acme", "alice@example.com")
BOB = SUBJECTS.scope("acme", "bob@example.com")
ALICE_GLOBEX = SUBJECTS.scope("globex", "alice@example.com")
NOTE = FieldRef("memories", "5b0c2f6e-row-1", "body")


@pytest.fixture
def repo(db_url: str) -> Iterator[PrivacyRepository]:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    yield PrivacyRepository(engine)
    engine.dispose()


def envelope(repo: PrivacyRepository, *keks: bytes) -> Envelope:
    return Envelope(repo, LocalKeyProvider(keks or (KEK_A,)))


def test_round_trip_and_key_created_once(repo: PrivacyRepository) -> None:
    env = envelope(repo)
    blob = env.encrypt_sync(ALICE, NOTE, b"prefers tea, allergic to penicillin")
    assert b"penicillin" not in blob
    assert env.decrypt_sync(ALICE, NOTE, blob) == b"prefers tea, allergic to penicillin"
    assert env.decrypt_sync(ALICE, NOTE, env.encrypt_sync(ALICE, NOTE, b"")) == b""
    key = repo.current_data_key(ALICE)
    assert key is not None and key.key_version == 1 and key.kek_id == kek_id_for(KEK_A)
    assert key.wrapped_key is not None and len(key.wrapped_key) == 1 + 12 + 32 + 16
    # the raw data key is nowhere in the row (it is wrapped), the user id nowhere in the table
    with repo.engine.connect() as conn:
        dump = repr(conn.execute(sa.text("SELECT * FROM data_keys")).all())
    assert "alice" not in dump
    assert len({(k.tenant, k.subject) for k in [key]}) == 1


def test_associated_data_binds_row_column_user_tenant_and_version(repo: PrivacyRepository) -> None:
    env = envelope(repo)
    blob = env.encrypt_sync(ALICE, NOTE, b"secret")
    env.encrypt_sync(BOB, NOTE, b"bob's")  # bob has a key too: the failure is the binding, not a missing key
    env.encrypt_sync(ALICE_GLOBEX, NOTE, b"other tenant")
    for scope, ref in [
        (ALICE, FieldRef("memories", "5b0c2f6e-row-2", "body")),  # another row
        (ALICE, FieldRef("memories", "5b0c2f6e-row-1", "title")),  # another column
        (ALICE, FieldRef("transcripts", "5b0c2f6e-row-1", "body")),  # another table
        (BOB, NOTE),  # another user
        (ALICE_GLOBEX, NOTE),  # the same user id in another tenant
    ]:
        with pytest.raises(DecryptionFailed):
            env.decrypt_sync(scope, ref, blob)
    # tampering with any byte, or claiming another key version, fails too
    for i in (0, 4, 10, len(blob) - 1):
        bad = bytearray(blob)
        bad[i] ^= 1
        with pytest.raises(DecryptionFailed):
            env.decrypt_sync(ALICE, NOTE, bytes(bad))
    with pytest.raises(DecryptionFailed):
        env.decrypt_sync(ALICE, NOTE, b"\x01short")


def test_wrapped_key_copied_to_another_user_does_not_unwrap(repo: PrivacyRepository) -> None:
    env = envelope(repo)
    alice_blob = env.encrypt_sync(ALICE, NOTE, b"secret")
    env.encrypt_sync(BOB, NOTE, b"x")
    alice_key = repo.current_data_key(ALICE)
    assert alice_key is not None
    with repo.engine.begin() as conn:  # an attacker with write access swaps bob's wrapped key for alice's
        conn.execute(sa.text("UPDATE data_keys SET wrapped_key = :w WHERE subject = :s"), {"w": alice_key.wrapped_key, "s": BOB.subject})
    with pytest.raises(DecryptionFailed):
        env.decrypt_sync(BOB, NOTE, alice_blob)


def test_nonces_are_unique_over_many_encryptions(repo: PrivacyRepository) -> None:
    env = envelope(repo)
    blobs = [env.encrypt_sync(ALICE, NOTE, b"same plaintext") for _ in range(2000)]
    nonces = {b[5:17] for b in blobs}
    assert len(nonces) == len(blobs)
    assert len(set(blobs)) == len(blobs)


def test_kek_rotation_rewraps_every_key_and_old_data_stays_readable(repo: PrivacyRepository) -> None:
    old, new = LocalKeyProvider([KEK_A]), LocalKeyProvider([KEK_B])
    env_old = Envelope(repo, old)
    users = [SUBJECTS.scope("acme", f"user-{i}") for i in range(7)]
    blobs = {u: env_old.encrypt_sync(u, NOTE, f"data of {u.subject}".encode()) for u in users}
    env_old.shred_sync(users[0])  # a shredded key is not resurrected by rotation
    maint = DataKeyMaintenance(repo.engine)
    assert maint.count_by_kek() == {kek_id_for(KEK_A): 6}

    result = rotate_kek(maint, old, new, batch=2)
    assert (result.rewrapped, result.skipped, result.new_kek_id) == (6, 0, kek_id_for(KEK_B))
    assert maint.count_by_kek() == {kek_id_for(KEK_B): 6}
    env_new = Envelope(repo, new)
    for u in users[1:]:
        assert env_new.decrypt_sync(u, NOTE, blobs[u]) == f"data of {u.subject}".encode()
    with pytest.raises(KeyDestroyed):
        env_new.decrypt_sync(users[0], NOTE, blobs[users[0]])
    # the old KEK alone no longer opens anything: it can be retired
    with pytest.raises(KeyUnavailable, match=kek_id_for(KEK_B)):
        env_old.decrypt_sync(users[1], NOTE, blobs[users[1]])
    # re-running is a no-op
    assert rotate_kek(maint, old, new).rewrapped == 0


def test_rotation_with_a_provider_holding_both_keks_and_new_users_mid_rotation(repo: PrivacyRepository) -> None:
    both = LocalKeyProvider([KEK_B, KEK_A])  # the transition: new current, old still accepted
    blob = Envelope(repo, LocalKeyProvider([KEK_A])).encrypt_sync(ALICE, NOTE, b"before")
    env = Envelope(repo, both)
    assert env.decrypt_sync(ALICE, NOTE, blob) == b"before"
    later = env.encrypt_sync(BOB, NOTE, b"after")  # wrapped under B already
    assert rotate_kek(DataKeyMaintenance(repo.engine), both, both).rewrapped == 1
    only_b = Envelope(repo, LocalKeyProvider([KEK_B]))
    assert only_b.decrypt_sync(ALICE, NOTE, blob) == b"before"
    assert only_b.decrypt_sync(BOB, NOTE, later) == b"after"


def test_rotation_with_the_wrong_old_kek_fails_loudly_and_changes_nothing(repo: PrivacyRepository) -> None:
    envelope(repo, KEK_A).encrypt_sync(ALICE, NOTE, b"x")
    maint = DataKeyMaintenance(repo.engine)
    with pytest.raises(KeyUnavailable):
        rotate_kek(maint, LocalKeyProvider([b"C" * 32]), LocalKeyProvider([KEK_B]))
    assert maint.count_by_kek() == {kek_id_for(KEK_A): 1}


def test_shredding_makes_ciphertexts_unreadable_and_a_new_key_is_a_new_version(repo: PrivacyRepository) -> None:
    env = envelope(repo)
    blob = env.encrypt_sync(ALICE, NOTE, b"forget me")
    bob_blob = env.encrypt_sync(BOB, NOTE, b"keep me")
    assert env.shred_sync(ALICE) == 1
    assert env.shred_sync(ALICE) == 0
    with pytest.raises(KeyDestroyed):
        env.decrypt_sync(ALICE, NOTE, blob)
    assert env.decrypt_sync(BOB, NOTE, bob_blob) == b"keep me"  # only alice's key went
    with repo.engine.connect() as conn:
        wrapped = conn.execute(sa.text("SELECT wrapped_key FROM data_keys WHERE subject = :s"), {"s": ALICE.subject}).scalar()
    assert wrapped is None
    fresh = env.encrypt_sync(ALICE, NOTE, b"new start")
    assert fresh[1:5] == (2).to_bytes(4, "big")
    assert env.decrypt_sync(ALICE, NOTE, fresh) == b"new start"
    with pytest.raises(KeyDestroyed):
        env.decrypt_sync(ALICE, NOTE, blob)


def test_a_batch_reads_each_users_key_once_and_keeps_nothing_after_it(repo: PrivacyRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    env = envelope(repo)
    blobs = [env.encrypt_sync(ALICE, FieldRef("notes", f"row-{i}", "body"), f"note {i}".encode()) for i in range(50)]
    reads: list[int] = []
    real = repo.data_key

    def counted(scope: UserScope, version: int) -> object:
        reads.append(version)
        return real(scope, version)

    monkeypatch.setattr(repo, "data_key", counted)
    with env.batch():
        opened = [env.decrypt_sync(ALICE, FieldRef("notes", f"row-{i}", "body"), b) for i, b in enumerate(blobs)]
    assert opened == [f"note {i}".encode() for i in range(50)]
    assert reads == [1]  # one key read for fifty fields
    env.shred_sync(ALICE)
    with pytest.raises(KeyDestroyed), env.batch():  # the next operation sees the shredding
        env.decrypt_sync(ALICE, FieldRef("notes", "row-0", "body"), blobs[0])


def test_wrong_kek_fails_loudly(repo: PrivacyRepository) -> None:
    blob = envelope(repo, KEK_A).encrypt_sync(ALICE, NOTE, b"x")
    with pytest.raises(KeyUnavailable, match=kek_id_for(KEK_A)):
        envelope(repo, b"C" * 32).decrypt_sync(ALICE, NOTE, blob)

    class Impostor(LocalKeyProvider):
        """Claims A's id but holds another key: authentication fails rather than returning garbage."""

        def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
            return super().unwrap(self.current_kek_id, wrapped, aad)

    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        Envelope(repo, Impostor([b"C" * 32])).decrypt_sync(ALICE, NOTE, blob)


async def test_async_methods_run_off_the_loop(repo: PrivacyRepository) -> None:
    env = envelope(repo)
    blob = await env.encrypt(ALICE, NOTE, b"async")
    assert await env.decrypt(ALICE, NOTE, blob) == b"async"
    assert await env.shred(ALICE) == 1
    with pytest.raises(KeyDestroyed):
        await env.decrypt(ALICE, NOTE, blob)


def test_scope_is_required_never_all_rows(repo: PrivacyRepository) -> None:
    for bad in [("", "a" * 64), ("acme", ""), ("acme", "alice"), ("acme", "Z" * 64)]:
        with pytest.raises(ScopeError):
            UserScope(*bad)
    with pytest.raises(ScopeError):
        SUBJECTS.scope("acme", "")
    with pytest.raises(ScopeError):
        SUBJECTS.scope("acme", "   ")
    with pytest.raises(ScopeError):
        SUBJECTS.scope(None, "alice")
    with pytest.raises(ScopeError):
        SUBJECTS.scope("acme", None)
    for call in (repo.current_data_key, repo.consent_history, repo.latest_consent, repo.known, repo.destroy_data_keys):
        with pytest.raises(ScopeError):
            call(None)  # type: ignore[operator]
        with pytest.raises(ScopeError):
            call(("acme", ALICE.subject))  # type: ignore[operator]
    assert SUBJECTS.scope("acme", " alice ") == SUBJECTS.scope("acme", "alice")
    assert SUBJECTS.scope("acme", "alice") != SUBJECTS.scope("globex", "alice")
    assert SubjectKey(b"t" * 32).scope("acme", "alice") != SUBJECTS.scope("acme", "alice")


def test_key_providers_from_file_and_environment(tmp_path: Path) -> None:
    a, b = generate_kek(), base64.urlsafe_b64encode(KEK_B).decode().rstrip("=")
    path = tmp_path / "kek.key"
    path.write_text(f"# current first\n{a}\n{b}  # previous\n")
    from_file = FileKeyProvider(path)
    assert from_file.current_kek_id == kek_id_for(parse_kek(a))
    assert from_file.kek_ids() == {kek_id_for(parse_kek(a)), kek_id_for(KEK_B)}
    from_env = EnvKeyProvider("MY_KEK", environ={"MY_KEK": f"{b},{a}"})
    assert from_env.current_kek_id == kek_id_for(KEK_B)
    aad = data_key_aad("acme", ALICE.subject, 1)
    kek_id, wrapped = from_env.wrap(b"k" * 32, aad)
    assert from_file.unwrap(kek_id, wrapped, aad) == b"k" * 32  # the file also holds B
    assert isinstance(from_file, KeyProvider)
    assert KEK_B.hex() not in repr(from_env) and "kek" not in repr(SUBJECTS).lower().replace("subjectkey", "")

    created = FileKeyProvider.load_or_create(tmp_path / "sub" / "kek.key")
    assert (tmp_path / "sub" / "kek.key").stat().st_mode & 0o777 == 0o600
    assert FileKeyProvider(tmp_path / "sub" / "kek.key").current_kek_id == created.current_kek_id
    with pytest.raises(KeyUnavailable):
        FileKeyProvider(tmp_path / "missing.key")
    with pytest.raises(KeyUnavailable):
        EnvKeyProvider("NOPE", environ={})
    (tmp_path / "bad.key").write_text("not-a-key\n")
    with pytest.raises(ValueError, match="32 bytes"):
        FileKeyProvider(tmp_path / "bad.key")

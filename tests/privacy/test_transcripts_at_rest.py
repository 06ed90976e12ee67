"""Evidence that transcripts are unreadable at rest, on SQLite and PostgreSQL.

* associated data binds each ciphertext to its row and user: a ciphertext copied to another row,
  another user's row, or a row moved to another user does not decrypt;
* a raw byte scan of the SQLite file **and its -wal file** after recording turns that carry a
  canary finds the canary nowhere (not the text, not the user id, not the conversation id), while
  a control value stored in clear (the policy name) is found, so the scan does see the rows;
* the same for a ``pg_dump`` of the PostgreSQL database.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import DecryptionFailed, LocalKeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.privacy.transcripts import COLUMN, TABLE, TranscriptWriter
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository
from proxy.storage.transcripts import TranscriptRepository
from tests.storage.dbs import db_url, pg_url  # noqa: F401 - fixtures

SUBJECTS = SubjectKey(b"s" * 32)
CONTROL_POLICY = "control-policy-visible-in-clear"


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.engine.Engine]:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def writer_for(engine: sa.engine.Engine) -> TranscriptWriter:
    return TranscriptWriter(TranscriptRepository(engine), Envelope(PrivacyRepository(engine), LocalKeyProvider([b"K" * 32])), SUBJECTS)


def _content(engine: sa.engine.Engine, row_id: str) -> bytes:
    with engine.connect() as conn:
        return bytes(conn.execute(sa.text("SELECT content FROM transcripts WHERE id = :i"), {"i": row_id}).scalar_one())


def _set(engine: sa.engine.Engine, row_id: str, column: str, value: object) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE transcripts SET {column} = :v WHERE id = :i"), {"v": value, "i": row_id})


def test_ciphertexts_are_bound_to_their_row_and_user(engine: sa.engine.Engine) -> None:
    w = writer_for(engine)
    alice, bob = SUBJECTS.scope("acme", "alice"), SUBJECTS.scope("acme", "bob")
    a1 = w.record_sync(alice, "c", 1, ("p", "v"), {}, "alice one", "r1")
    a2 = w.record_sync(alice, "c", 2, ("p", "v"), {}, "alice two", "r2")
    b1 = w.record_sync(bob, "c", 1, ("p", "v"), {}, "bob one", "r3")
    blob = _content(engine, a1)
    assert w.envelope.decrypt_sync(alice, FieldRef(TABLE, a1, COLUMN), blob)
    # the same bytes read as another row, another column, or another user: refused
    for scope, ref in ((alice, FieldRef(TABLE, a2, COLUMN)), (alice, FieldRef(TABLE, a1, "readings")), (bob, FieldRef(TABLE, a1, COLUMN))):
        with pytest.raises(DecryptionFailed):
            w.envelope.decrypt_sync(scope, ref, blob)
    # copied into alice's other row and into bob's row in the database: those turns do not open
    _set(engine, a2, "content", blob)
    _set(engine, b1, "content", blob)
    assert [(t.user_text, t.unreadable) for t in w.get_conversation_sync(alice, "c")] == [("alice one", None), (None, "decryption_failed")]
    assert [(t.user_text, t.unreadable) for t in w.get_conversation_sync(bob, "c")] == [(None, "decryption_failed")]
    # a row moved to another user (subject and conversation rewritten) does not open for them either
    a3 = w.record_sync(alice, "c", 3, ("p", "v"), {}, "alice three", "r")
    _set(engine, a3, "subject", bob.subject)
    _set(engine, a3, "conversation", w.conversation_hash(bob, "c"))
    moved = [t for t in w.get_conversation_sync(bob, "c") if t.id == a3]
    assert [(t.user_text, t.unreadable) for t in moved] == [(None, "decryption_failed")]
    assert [t.id for t in w.get_conversation_sync(alice, "c")] == [a1, a2]


def _record_canaries(engine: sa.engine.Engine) -> str:
    canary = "CANARY-" + uuid.uuid4().hex
    w = writer_for(engine)
    for i in range(3):
        scope = SUBJECTS.scope("acme", f"{canary}-user-{i}")
        for turn in range(1, 4):
            w.record_sync(
                scope, f"{canary}-conversation-{i}", turn, (CONTROL_POLICY, "v1"), {"emotion": {"label": "sadness", "intensity": 0.5}}, f"my secret is {canary} ({turn})", f"reply mentioning {canary}"
            )
    # and read back, so the decrypt path leaves nothing behind either
    assert w.get_conversation_sync(SUBJECTS.scope("acme", f"{canary}-user-0"), f"{canary}-conversation-0")[0].user_text == f"my secret is {canary} (1)"
    return canary


def _assert_no_canary(raw: bytes, canary: str, where: str) -> None:
    for needle in (canary.encode(), canary.encode("utf-16-le"), canary.lower().encode(), canary[7:].encode()):
        assert needle not in raw, f"plaintext canary found in {where}"


def test_sqlite_file_and_wal_hold_no_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "bedside.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:  # keep the WAL from being checkpointed away while we look at it
            canary = _record_canaries(engine)
            wal = Path(f"{path}-wal")
            assert wal.exists() and wal.stat().st_size > 0, "the test needs the rows in the WAL file"
            raw_wal = wal.read_bytes()
            assert CONTROL_POLICY.encode() in raw_wal, "the scan does not see the rows"
            _assert_no_canary(raw_wal, canary, "bedside.db-wal")
            _assert_no_canary(path.read_bytes(), canary, "bedside.db")
            conn.execute(sa.text("SELECT 1"))
        with engine.connect() as conn:
            conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        raw_db = path.read_bytes()
        assert CONTROL_POLICY.encode() in raw_db
        _assert_no_canary(raw_db, canary, "bedside.db after checkpoint")
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_pg_dump_holds_no_plaintext(pg_url: str) -> None:  # noqa: F811 - the imported fixture
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed (apt-get install postgresql-client): the dump scan cannot run")
    migrate.upgrade(pg_url)
    engine = make_engine(pg_url)
    try:
        canary = _record_canaries(engine)
    finally:
        engine.dispose()
    url = make_url(pg_url)
    argv = [pg_dump, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres", "--no-password", str(url.database)]
    done = subprocess.run(argv, capture_output=True, timeout=120)
    if done.returncode != 0 and b"version mismatch" in done.stderr:
        pytest.skip(f"pg_dump cannot dump this server: {done.stderr.decode(errors='replace').strip()[:200]}")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    dump = done.stdout
    assert b"COPY public.transcripts" in dump and CONTROL_POLICY.encode() in dump, "the dump does not hold the rows"
    _assert_no_canary(dump, canary, "pg_dump output")

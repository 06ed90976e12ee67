"""TranscriptWriter on SQLite and PostgreSQL: record, list, read back decrypted, machine-only
readings, scoping, the should_record gate, shredded users, erasure and the retention purge."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import col

from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import LocalKeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.privacy.consent import ConsentState, Receipt
from proxy.privacy.transcripts import PolicyTag, TranscriptWriter, clean_readings, purge_expired, should_record
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository, ScopeError
from proxy.storage.tables import Transcript
from proxy.storage.transcripts import TranscriptRepository
from tests.storage.dbs import db_url  # noqa: F401 - fixture

SUBJECTS = SubjectKey(b"s" * 32)
ALICE = SUBJECTS.scope("acme", "alice")
BOB = SUBJECTS.scope("acme", "bob")
ALICE_GLOBEX = SUBJECTS.scope("globex", "alice")
POLICY = PolicyTag("customer-service", "abc123def456")
READINGS = {"emotion": {"label": "sadness", "intensity": 0.72}, "tone": ["no-toxic-positivity"], "rails": {"jailbreak": "pass", "crisis": "flag"}}


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.engine.Engine]:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def age(engine: sa.engine.Engine, row_ids: list[str], days: int) -> None:
    """Make rows ``days`` old (through the column's type, so SQLite stores it in the ORM's format)."""
    with engine.begin() as conn:
        conn.execute(sa.update(Transcript).where(col(Transcript.id).in_(row_ids)).values(created_at=datetime.now(UTC) - timedelta(days=days)))


def writer_for(engine: sa.engine.Engine) -> TranscriptWriter:
    return TranscriptWriter(TranscriptRepository(engine), Envelope(PrivacyRepository(engine), LocalKeyProvider([b"K" * 32])), SUBJECTS)


def test_record_list_and_read_back(engine: sa.engine.Engine) -> None:
    w = writer_for(engine)

    async def go() -> None:
        await w.record(ALICE, "conv-1", 1, POLICY, READINGS, "I feel low today", "I'm sorry to hear that.")
        await w.record(ALICE, "conv-1", 2, POLICY, {}, "thanks", "Any time.")
        await w.record(ALICE, "conv-2", 1, ("other", "v2"), None, "hello", "hi")
        convs = await w.list_conversations(ALICE)
        assert [c.turns for c in convs] == [1, 2]  # most recent first
        assert convs[1].conversation == w.conversation_hash(ALICE, "conv-1") and "conv-1" not in convs[1].conversation
        assert (convs[0].policy_name, convs[0].policy_version) == ("other", "v2")
        assert convs[1].first_at <= convs[1].last_at
        by_id = await w.get_conversation(ALICE, "conv-1")
        by_hash = await w.get_conversation(ALICE, convs[1].conversation)
        assert by_id == by_hash
        assert [(t.turn, t.user_text, t.reply_text) for t in by_id] == [(1, "I feel low today", "I'm sorry to hear that."), (2, "thanks", "Any time.")]
        assert by_id[0].readings == READINGS and by_id[0].policy_name == "customer-service" and by_id[0].unreadable is None
        # scoped: bob and alice in another tenant see nothing of alice's
        assert await w.list_conversations(BOB) == [] and await w.list_conversations(ALICE_GLOBEX) == []
        assert await w.get_conversation(BOB, "conv-1") == [] and await w.get_conversation(ALICE_GLOBEX, convs[1].conversation) == []

    asyncio.run(go())


def test_conversation_hash_is_per_user_and_keyed() -> None:
    assert SUBJECTS.conversation(ALICE, "c") != SUBJECTS.conversation(BOB, "c") != SUBJECTS.conversation(ALICE_GLOBEX, "c")
    assert SUBJECTS.conversation(ALICE, "c") != SubjectKey(b"t" * 32).conversation(ALICE, "c")
    with pytest.raises(ValueError):
        SUBJECTS.conversation(ALICE, " ")


def test_readings_are_machine_values_only(engine: sa.engine.Engine) -> None:
    assert clean_readings(READINGS) == READINGS
    for bad in ({"note": "she said her name is Ann"}, {"x": {"y": b"raw"}}, {"bad key": 1}, {"f": float("nan")}, {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}):
        with pytest.raises(ValueError):
            clean_readings(bad)
    w = writer_for(engine)
    with pytest.raises(ValueError):
        w.record_sync(ALICE, "c", 1, POLICY, {"note": "free text here"}, "u", "r")
    assert TranscriptRepository(engine).count(ALICE) == 0


def test_missing_scope_raises(engine: sa.engine.Engine) -> None:
    repo = TranscriptRepository(engine)
    for call in (lambda: repo.conversations(None), lambda: repo.delete_all("acme"), lambda: repo.turns(None, ["x"])):  # type: ignore[arg-type]
        with pytest.raises(ScopeError):
            call()
    with pytest.raises(ScopeError):
        SUBJECTS.scope("acme", "")


def test_should_record_only_with_transcripts_consent_and_standard_sensitivity() -> None:
    now = datetime.now(UTC)
    granted = ConsentState({"memory": None, "transcripts": Receipt("r", now, "transcripts", True, "api", "v", "h")}, [])
    withdrawn = ConsentState({"memory": Receipt("m", now, "memory", True, "api", "v", "h"), "transcripts": Receipt("r", now, "transcripts", False, "api", "v", "h")}, [])
    assert should_record(granted, "standard")
    assert not should_record(granted, "sensitive") and not should_record(granted, None)
    assert not should_record(withdrawn, "standard") and not should_record(None, "standard")
    assert should_record({"transcripts", "memory"}, "standard") and not should_record({"memory"}, "standard")


def test_shredded_user_reads_back_without_content(engine: sa.engine.Engine) -> None:
    w = writer_for(engine)
    w.record_sync(ALICE, "c", 1, POLICY, {}, "u", "r")
    w.envelope.shred_sync(ALICE)
    [turn] = w.get_conversation_sync(ALICE, "c")
    assert (turn.user_text, turn.reply_text, turn.unreadable) == (None, None, "key_destroyed")


def test_erasure_of_one_user_leaves_the_others(engine: sa.engine.Engine) -> None:
    w = writer_for(engine)
    for scope in (ALICE, BOB, ALICE_GLOBEX):
        w.record_sync(scope, "c", 1, POLICY, {}, "u", "r")
        w.record_sync(scope, "c", 2, POLICY, {}, "u2", "r2")
    assert w.delete_all_sync(ALICE) == 2
    assert w.get_conversation_sync(ALICE, "c") == []
    assert [t.user_text for t in w.get_conversation_sync(BOB, "c")] == ["u", "u2"]
    assert [t.user_text for t in w.get_conversation_sync(ALICE_GLOBEX, "c")] == ["u", "u2"]


def test_purge_deletes_only_old_rows(engine: sa.engine.Engine) -> None:
    w = writer_for(engine)
    old = [w.record_sync(ALICE, "c", i, POLICY, {}, "old", "old") for i in range(2)] + [w.record_sync(ALICE_GLOBEX, "c", 1, POLICY, {}, "old", "old")]
    fresh = [w.record_sync(ALICE, "c", 9, POLICY, {}, "new", "new"), w.record_sync(BOB, "c", 1, POLICY, {}, "new", "new")]
    age(engine, old, 91)
    age(engine, fresh[:1], 89)
    assert purge_expired(engine, 90, dry_run=True) == {"acme": 2, "globex": 1}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM transcripts")).scalar() == 5
    assert purge_expired(engine, 90) == {"acme": 2, "globex": 1}
    with engine.connect() as conn:
        assert sorted(r[0] for r in conn.execute(sa.text("SELECT id FROM transcripts"))) == sorted(fresh)
    assert purge_expired(engine, 90) == {}

"""`bedside retention purge [--dry-run]` (via main(), SQLite and PostgreSQL) and the periodic purge in
serve's services: transcripts past ``privacy.transcript_retention_days`` and memories past the
longest ``memory.retention_days`` of the policies that enable memory."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col

from proxy.cli import main
from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import LocalKeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.privacy.memory import MemoryStore
from proxy.privacy.memory_rules import Extracted
from proxy.privacy.transcripts import TranscriptWriter
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository
from proxy.storage.tables import MemoryRow, Transcript
from proxy.storage.transcripts import TranscriptRepository
from tests.storage.dbs import db_url  # noqa: F401 - fixture

SUBJECTS = SubjectKey(b"s" * 32)


def _seed(url: str) -> dict[str, str]:
    """acme: 2 old + 1 new rows, globex: 1 old; returns row id -> label."""
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        w = TranscriptWriter(TranscriptRepository(engine), Envelope(PrivacyRepository(engine), LocalKeyProvider([b"K" * 32])), SUBJECTS)
        rows = {
            w.record_sync(SUBJECTS.scope("acme", "alice"), "c", 1, ("p", "v"), {}, "u", "r"): "old",
            w.record_sync(SUBJECTS.scope("acme", "bob"), "c", 1, ("p", "v"), {}, "u", "r"): "old",
            w.record_sync(SUBJECTS.scope("acme", "alice"), "c", 2, ("p", "v"), {}, "u", "r"): "new",
            w.record_sync(SUBJECTS.scope("globex", "carol"), "c", 1, ("p", "v"), {}, "u", "r"): "old",
        }
        old = [i for i, label in rows.items() if label == "old"]
        with engine.begin() as conn:
            conn.execute(sa.update(Transcript).where(col(Transcript.id).in_(old)).values(created_at=datetime.now(UTC) - timedelta(days=31)))
        return rows
    finally:
        engine.dispose()


def _seed_memories(url: str, old_days: int) -> None:
    """acme/alice: one memory updated ``old_days`` ago and one new; globex/carol: one old."""
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        repo = PrivacyRepository(engine)
        store = MemoryStore(repo, Envelope(repo, LocalKeyProvider([b"K" * 32])), SUBJECTS)
        for tenant, user, topic in (("acme", "alice", "old"), ("acme", "alice", "new"), ("globex", "carol", "old")):
            store.remember_sync(SUBJECTS.scope(tenant, user), [Extracted("fact", topic, f"I have a {topic} bike.")], {}, tenant=tenant, conversation="c", turn=1)
        old = [m.id for s in (SUBJECTS.scope("acme", "alice"), SUBJECTS.scope("globex", "carol")) for m in store.load_sync(s) if m.topic == "old"]
        with engine.begin() as conn:
            conn.execute(sa.update(MemoryRow).where(col(MemoryRow.id).in_(old)).values(updated_at=datetime.now(UTC) - timedelta(days=old_days)))
    finally:
        engine.dispose()


def _memories(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM memories")).scalar() or 0)
    finally:
        engine.dispose()


def _remaining(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.text("SELECT id FROM transcripts"))}
    finally:
        engine.dispose()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> str:  # noqa: F811 - the imported fixture
    for name in list(os.environ):
        if name.startswith("BEDSIDE_"):
            monkeypatch.delenv(name)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text("description: d\nowner: t\nmemory: {enabled: true, retention_days: 60}\n")
    (policies / "short.yaml").write_text("description: d\nowner: t\nrouting: {aliases: [short]}\nmemory: {enabled: true, retention_days: 7}\n")
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEDSIDE_DATABASE__URL", db_url)
    monkeypatch.setenv("BEDSIDE_POLICY__DIRECTORY", str(policies))
    monkeypatch.setenv("BEDSIDE_PRIVACY__TRANSCRIPT_RETENTION_DAYS", "30")
    return db_url


def test_purge_dry_run_then_for_real(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _seed(env)
    _seed_memories(env, old_days=61)
    assert main(["retention", "purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "transcripts\tacme\t2\ntranscripts\tglobex\t1\n" in out and "would delete 3 transcript turn(s) past their retention (30 days) in 2 tenant(s)" in out
    # memories: the longest retention among the policies with memory on (60 days, not 7)
    assert "memories\tacme\t1\nmemories\tglobex\t1\n" in out and "would delete 2 memories not updated for over 60 days in 2 tenant(s)" in out
    assert _remaining(env) == set(rows) and _memories(env) == 3
    assert main(["retention", "purge"]) == 0
    out = capsys.readouterr().out
    assert "deleted 3 transcript turn(s)" in out and "deleted 2 memories not updated for over 60 days" in out
    assert _remaining(env) == {i for i, label in rows.items() if label == "new"} and _memories(env) == 1
    engine = make_engine(env)
    try:  # the purge is in the audit log: one admin entry per kind and tenant, with the count
        with engine.connect() as conn:
            entries = [json.loads(p) for (p,) in conn.execute(sa.text("SELECT payload FROM audit_entries ORDER BY idx"))]
    finally:
        engine.dispose()
    assert [(e["action"], e["tenant"], e["details"]) for e in entries if "transcripts" in e["details"]] == [
        ("retention_purge", "acme", {"transcripts": 2}),
        ("retention_purge", "globex", {"transcripts": 1}),
    ]
    assert sum(e["details"]["memories"] for e in entries if "memories" in e["details"]) == 2
    assert main(["retention", "purge"]) == 0
    out = capsys.readouterr().out
    assert "deleted 0 transcript turn(s) past their retention (30 days) in 0 tenant(s)" in out and "deleted 0 memories" in out


def test_nothing_is_purged_when_the_policies_do_not_load(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _seed(env)
    _seed_memories(env, old_days=400)
    (tmp_path / "policies" / "broken.yaml").write_text("description: d\nowner: t\nmemory: {enabled: maybe}\n")
    assert main(["retention", "purge"]) == 1
    captured = capsys.readouterr()
    assert "nothing purged" in captured.err and "bedside policy check" in captured.err
    assert _memories(env) == 3 and _remaining(env) == set(rows)


def test_each_turn_follows_its_own_policys_retention(env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    policies = tmp_path / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "default.yaml").write_text("description: d\nowner: o\n")
    (policies / "intake.yaml").write_text("description: i\nowner: o\nrouting: {aliases: [intake]}\ntranscripts: {retention_days: 7}\n")
    monkeypatch.setenv("BEDSIDE_POLICY__DIRECTORY", str(policies))
    migrate.upgrade(env)
    engine = make_engine(env)
    try:
        w = TranscriptWriter(TranscriptRepository(engine), Envelope(PrivacyRepository(engine), LocalKeyProvider([b"K" * 32])), SUBJECTS)
        scope = SUBJECTS.scope("acme", "alice")
        rows = {
            w.record_sync(scope, "c", 1, ("intake", "v"), {}, "u", "r"): ("intake", 10),  # past intake's 7 days
            w.record_sync(scope, "c", 2, ("intake", "v"), {}, "u", "r"): ("intake", 3),
            w.record_sync(scope, "c", 3, ("default", "v"), {}, "u", "r"): ("default", 10),  # within the global 30
            w.record_sync(scope, "c", 4, ("default", "v"), {}, "u", "r"): ("default", 31),
            w.record_sync(scope, "c", 5, ("retired", "v"), {}, "u", "r"): ("retired", 31),  # a policy no longer loaded: global
        }
        with engine.begin() as conn:
            for row_id, (_, age) in rows.items():
                conn.execute(sa.update(Transcript).where(col(Transcript.id) == row_id).values(created_at=datetime.now(UTC) - timedelta(days=age)))
    finally:
        engine.dispose()
    assert main(["retention", "purge"]) == 0
    assert "deleted 3 transcript turn(s) past their retention (30 days, intake: 7 days) in 1 tenant(s)" in capsys.readouterr().out
    assert _remaining(env) == {i for i, (policy, age) in rows.items() if (policy, age) in {("intake", 3), ("default", 10)}}


def test_serve_purges_periodically(tmp_path: Path) -> None:
    from proxy.services import build_services
    from proxy.settings import Settings

    url = f"sqlite:///{tmp_path / 'data' / 'bedside.db'}"
    rows = _seed(url)
    _seed_memories(url, old_days=181)  # no policy: the default retention (180 days)
    settings = Settings(data_dir=tmp_path / "data", policy={"enabled": False}, privacy={"transcript_retention_days": 30, "purge_interval_seconds": 1})

    async def go() -> None:
        services = build_services(settings)
        await services.start()
        try:
            for _ in range(100):
                if len(_remaining(url)) == 1 and _memories(url) == 1:
                    break
                await asyncio.sleep(0.05)
            assert _remaining(url) == {i for i, label in rows.items() if label == "new"}
            assert _memories(url) == 1
            assert any(t.get_coro().__qualname__.endswith("_purge_forever") for t in services._tasks if not t.done())
        finally:
            await services.stop()
        assert not services._tasks

    asyncio.run(go())

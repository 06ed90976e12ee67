"""The consent ledger on SQLite and PostgreSQL: off by default, append-only, receipts, history, scoping."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from proxy.crypto.subjects import SubjectKey
from proxy.privacy.consent import BUILTIN, ConsentLedger, Notice
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository, ScopeError
from tests.storage.dbs import db_url  # noqa: F401 - fixture

NOTICE = Notice("2026-12", "We remember what you ask us to, nothing else.")


@pytest.fixture
def ledger(db_url: str) -> Iterator[ConsentLedger]:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    yield ConsentLedger(PrivacyRepository(engine), SubjectKey(b"s" * 32), NOTICE)
    engine.dispose()


def test_off_by_default(ledger: ConsentLedger) -> None:
    state = ledger.state_sync("acme", "alice")
    assert state.latest == {"memory": None, "transcripts": None}
    assert state.history == []
    assert not state.granted("memory") and not state.granted("transcripts")
    assert not ledger.granted_sync("acme", "alice", "memory")
    assert not ledger.known_sync("acme", "alice")


def test_grant_withdraw_appends_and_returns_receipts(ledger: ConsentLedger) -> None:
    r1 = ledger.record_sync("acme", "alice", "memory", True)
    r2 = ledger.record_sync("acme", "alice", "transcripts", True)
    r3 = ledger.record_sync("acme", "alice", "memory", False)
    assert (r1.purpose, r1.granted, r1.method, r1.notice_version, r1.notice_hash) == ("memory", True, "api", "2026-12", NOTICE.sha256)
    assert len({r1.id, r2.id, r3.id}) == 3
    assert r1.created_at.tzinfo is not None
    state = ledger.state_sync("acme", "alice")
    assert not state.granted("memory") and state.granted("transcripts")
    assert [r.id for r in state.history] == [r1.id, r2.id, r3.id]
    assert state.latest["memory"] == r3
    assert ledger.granted_sync("acme", "alice", "transcripts")
    assert not ledger.granted_sync("acme", "alice", "memory")
    body = state.to_json()
    assert body["purposes"]["memory"] == {"granted": False, "receipt": r3.to_json()}
    assert body["history"][0]["created_at"].endswith("Z")
    # nothing was overwritten: three rows, and no raw user id anywhere in the table
    with ledger.repo.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM consent_events")).all()
    assert len(rows) == 3
    assert "alice" not in repr(rows)


def test_users_and_tenants_are_separate(ledger: ConsentLedger) -> None:
    ledger.record_sync("acme", "alice", "memory", True)
    assert not ledger.granted_sync("acme", "bob", "memory")
    assert not ledger.granted_sync("globex", "alice", "memory")  # the same id in another tenant is another person
    assert not ledger.known_sync("globex", "alice")
    assert ledger.state_sync("globex", "alice").history == []
    assert ledger.known_sync("acme", "alice")


def test_a_new_notice_shows_in_later_receipts_only(ledger: ConsentLedger) -> None:
    first = ledger.record_sync("acme", "alice", "memory", True)
    ledger.notice = BUILTIN
    second = ledger.record_sync("acme", "alice", "memory", True)
    assert (first.notice_version, second.notice_version) == ("2026-12", BUILTIN.version)
    assert first.notice_hash != second.notice_hash
    assert [r.notice_version for r in ledger.state_sync("acme", "alice").history] == ["2026-12", BUILTIN.version]


def test_refuses_unknown_purposes_and_missing_users(ledger: ConsentLedger) -> None:
    with pytest.raises(ValueError, match="purpose"):
        ledger.record_sync("acme", "alice", "marketing", True)
    with pytest.raises(ScopeError):
        ledger.record_sync("acme", "", "memory", True)
    with pytest.raises(ScopeError):
        ledger.state_sync("", "alice")


async def test_async_api_and_concurrent_decisions(ledger: ConsentLedger) -> None:
    receipts = await asyncio.gather(*(ledger.record("acme", "alice", "memory", i % 2 == 0) for i in range(20)))
    state = await ledger.state("acme", "alice")
    assert len(state.history) == 20
    assert {r.id for r in state.history} == {r.id for r in receipts}
    assert await ledger.granted("acme", "alice", "memory") == state.history[-1].granted
    assert await ledger.known("acme", "alice")

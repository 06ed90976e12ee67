"""Late conversation facts of an erased user are not written after the erasure (SQLite and PostgreSQL).

The case: another replica's outcome writer held a batch through a database outage and writes it
after this replica answered the erasure. Here the late batch is applied straight to the repository,
as that writer would, after a real erasure through the rights API.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from proxy.crypto.subjects import conversation_subject
from proxy.outcomes.recorder import OutcomeRecorder
from proxy.privacy.user_data import Who
from proxy.storage.erasure_fences import FENCE_SECONDS, digest, fenced, purge_expired_fences
from proxy.storage.outcomes import OutcomeRepository, OutcomeUpdate
from tests.privacy.rights_world import World
from tests.storage.dbs import db_url  # noqa: F401 - fixture


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:  # noqa: F811
    w = World.build(db_url, tmp_path / "data")
    yield w
    w.close()


def _facts(world: World, who: Who, conversation: str, *, began: datetime, user: bool = True) -> OutcomeUpdate:
    conv = conversation_subject(world.privacy.subjects, who.tenant, conversation)
    return OutcomeUpdate(who.tenant, conv, who.scope.subject if user else None, "support", "v1", began + timedelta(seconds=2), 3, began=began)


def _outcome_rows(world: World) -> list[tuple[str, str | None]]:
    with world.engine.connect() as conn:
        return [(r.tenant, r.subject) for r in conn.execute(sa.text("SELECT tenant, subject FROM conversation_outcomes ORDER BY id"))]


async def test_facts_of_requests_that_began_before_the_erasure_are_not_written_after_it(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    world.seed("acme", "bob", "CANARYBOB")
    alice, bob, elsewhere = world.who("acme", "alice"), world.who("acme", "bob"), world.who("globex", "alice")
    began = datetime.now(UTC) - timedelta(seconds=3)  # in flight on another replica when the erasure ran
    await world.rights.erase(alice)
    repo = OutcomeRepository(world.engine)

    written = repo.apply([
        _facts(world, alice, "c-late", began=began),  # hers, begun before: fenced
        _facts(world, bob, "c-bob", began=began),  # another user of the tenant: written
        _facts(world, elsewhere, "c-other", began=began),  # the same user id in another tenant: written
        _facts(world, alice, "c-anon", began=began, user=False),  # no user named: names nobody, written
    ])  # fmt: skip

    assert written == 3 and repo.fenced == 1
    assert world.rows_naming(alice.scope.subject, "CANARYALICE") == {}
    assert (elsewhere.tenant, elsewhere.scope.subject) in _outcome_rows(world)


async def test_a_request_that_began_after_the_erasure_is_the_user_starting_afresh(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")
    await world.rights.erase(alice)
    repo = OutcomeRepository(world.engine)
    assert repo.apply([_facts(world, alice, "c-new", began=datetime.now(UTC) + timedelta(milliseconds=1))]) == 1
    assert repo.fenced == 0 and ("acme", alice.scope.subject) in _outcome_rows(world)


async def test_the_writer_counts_fenced_facts_apart_from_recorded_ones(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")
    began = datetime.now(UTC) - timedelta(seconds=1)
    await world.rights.erase(alice)
    results: list[tuple[str, int]] = []
    recorder = OutcomeRecorder(OutcomeRepository(world.engine), on_result=lambda result, n: results.append((result, n)))
    recorder.start()
    try:
        assert recorder.submit(_facts(world, alice, "c-late", began=began))
        assert recorder.submit(_facts(world, alice, "c-anon", began=began, user=False))
        assert recorder.flush(10.0)
    finally:
        recorder.stop()
    assert sorted(results) == [("fenced", 1), ("recorded", 1)]
    assert world.rows_naming(alice.scope.subject) == {}


async def test_a_fence_stands_for_its_time_then_is_purged(world: World) -> None:
    world.seed("acme", "alice", "CANARYALICE")
    alice = world.who("acme", "alice")
    await world.rights.erase(alice)
    key = ("acme", alice.scope.subject)
    with world.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT subject_digest FROM erasure_fences")).scalars().all()
        assert stored == [digest(alice.scope.subject)] and alice.scope.subject not in stored
        assert key in fenced(conn, [key])
        later = datetime.now(UTC) + timedelta(seconds=FENCE_SECONDS + 1)
        assert fenced(conn, [key], now=later) == {}  # expired: no longer consulted
    assert purge_expired_fences(world.engine) == 0  # still standing now
    assert purge_expired_fences(world.engine, now=later) == 1
    with world.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM erasure_fences")).scalar_one() == 0

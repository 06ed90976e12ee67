"""The outcome repository and writer on real SQLite and PostgreSQL: merging, feedback, retention, the bounded queue."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from proxy.outcomes.recorder import OutcomeRecorder
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.outcomes import OutcomeRepository, OutcomeUpdate
from tests.storage.dbs import db_url, pg_url  # noqa: F401 - fixtures

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
C1, C2, S1 = "c" * 64, "d" * 64, "a" * 64


def _update(conversation: str = C1, *, turns: int = 1, at: datetime = T0, **kw: Any) -> OutcomeUpdate:
    trajectory = tuple(("frustration" if i else "neutral", 0.5, 0.1 * (i + 1), 0) for i in range(turns))
    base: dict[str, Any] = {"tenant": "acme", "conversation": conversation, "subject": S1, "policy_name": "support", "policy_version": "v1", "at": at, "turns": turns, "trajectory": trajectory}
    base.update(kw)
    return OutcomeUpdate(**base)


@pytest.fixture
def repo(db_url: str) -> Any:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    yield OutcomeRepository(engine)
    engine.dispose()


def test_requests_of_one_conversation_merge_into_one_row(repo: OutcomeRepository) -> None:
    repo.apply([_update(turns=1, tone_rules=("warmth",), rails=("input:pass",))])
    repo.apply(
        [
            _update(turns=2, at=T0 + timedelta(minutes=1), tone_rules=("frustration",), rails=("input:pass", "output:pass"), policy_version="v2"),
            _update(turns=3, at=T0 + timedelta(minutes=2), tone_rules=("frustration",), escalated=True, rails=("input:handoff",), handoff=True, sentiment_shift=-0.8),
            _update(C2, turns=1),
        ]
    )
    row = repo.get("acme", C1)
    assert row is not None
    assert (row.requests, row.turns, len(row.trajectory)) == (3, 3, 3)
    assert row.policy_version == "v1"  # a conversation belongs to the version it started under
    assert row.tone_rules == {"warmth": 1, "frustration": 2} and row.escalations == 1
    assert row.rails == {"input:pass": 2, "output:pass": 1, "input:handoff": 1}
    assert row.handoff_at == T0 + timedelta(minutes=2) and row.handoff_turn == 3
    assert row.started_at == T0 and row.ended_at == T0 + timedelta(minutes=2) and row.sentiment_shift == -0.8
    assert repo.get("acme", C2) is not None and repo.get("globex", C1) is None


def test_a_resent_shorter_history_does_not_shrink_the_trajectory(repo: OutcomeRepository) -> None:
    repo.apply([_update(turns=3, sentiment_shift=-0.5), _update(turns=1, sentiment_shift=0.9)])
    row = repo.get("acme", C1)
    assert row is not None and row.turns == 3 and len(row.trajectory) == 3 and row.sentiment_shift == -0.5 and row.requests == 2


def test_perception_events_come_from_the_trajectory(repo: OutcomeRepository) -> None:
    repo.apply([_update(turns=3, trajectory=(("confusion", 0.4, 0.0, 0), ("anxiety", 0.7, 0.1, 1), ("confusion", 0.5, 0.0, 1)))])
    row = repo.get("acme", C1)
    assert row is not None and (row.confusion_events, row.distress_events) == (2, 2)


def test_feedback_and_tenant_scope(repo: OutcomeRepository) -> None:
    repo.apply([_update()])
    assert repo.set_feedback("globex", C1, rating=5, resolved=True) is None  # another tenant's conversation does not exist for it
    row = repo.set_feedback("acme", C1, rating=2, resolved=None)
    assert row is not None and (row.rating, row.resolved) == (2, None)
    row = repo.set_feedback("acme", C1, rating=None, resolved=True)
    assert row is not None and (row.rating, row.resolved) == (2, True)


def test_retention_per_policy(repo: OutcomeRepository) -> None:
    now = T0 + timedelta(days=40)
    repo.apply([_update(C1, at=T0), _update(C2, at=T0, policy_name="brief")])
    assert repo.purge_older_than(now - timedelta(days=60), {"brief": now - timedelta(days=30)}) == 1
    assert repo.get("acme", C1) is not None and repo.get("acme", C2) is None
    assert repo.purge_older_than(now - timedelta(days=30)) == 1


def test_between_and_first_seen(repo: OutcomeRepository) -> None:
    repo.apply([_update(C1, at=T0), _update(C2, at=T0 + timedelta(days=2), subject=S1)])
    assert [r.conversation for r in repo.between("acme", T0 + timedelta(days=1), T0 + timedelta(days=3))] == [C2]
    assert repo.between("acme", T0, T0 + timedelta(days=3), policy="other") == []
    assert repo.first_seen("acme", [S1]) == {S1: T0}


def test_the_writer_drops_what_does_not_fit_and_flush_waits(repo: OutcomeRepository) -> None:
    results: dict[str, int] = {}
    gate = threading.Event()
    real_apply = repo.apply

    def slow_apply(updates: Any) -> int:
        gate.wait(5)
        return real_apply(updates)

    repo.apply = slow_apply  # type: ignore[method-assign]  # hold the writer so the queue fills
    recorder = OutcomeRecorder(repo, queue_size=16, batch=4, on_result=lambda r, n: results.__setitem__(r, results.get(r, 0) + n))
    accepted = sum(recorder.submit(_update(f"{i:064x}", at=datetime.now(UTC))) for i in range(40))
    assert accepted < 40 and results["dropped"] == 40 - accepted
    gate.set()
    assert recorder.flush(10)
    assert results["recorded"] == accepted
    recorder.stop()


def test_a_failed_write_is_counted_and_the_writer_carries_on(repo: OutcomeRepository) -> None:
    results: dict[str, int] = {}
    recorder = OutcomeRecorder(repo, on_result=lambda r, n: results.__setitem__(r, results.get(r, 0) + n))
    now = datetime.now(UTC)
    recorder.submit(_update(tenant="x" * 500, at=now))  # too long for the column on PostgreSQL; SQLite stores it
    recorder.submit(_update(C2, at=now))
    assert recorder.flush(10)
    assert results.get("recorded", 0) + results.get("failed", 0) == 2 and results["recorded"] >= 1 and repo.get("acme", C2) is not None
    recorder.stop()


def test_later_turns_keep_the_feedback(repo: OutcomeRepository) -> None:
    repo.apply([_update(turns=1)])
    repo.set_feedback("acme", C1, rating=4, resolved=True)
    repo.apply([_update(turns=2, at=T0 + timedelta(minutes=1))])
    row = repo.get("acme", C1)
    assert row is not None and (row.rating, row.resolved, row.turns, row.requests) == (4, True, 2, 2)


@pytest.mark.postgres
def test_replicas_merging_one_conversation_at_once_lose_no_request(pg_url: str) -> None:  # noqa: F811 - the imported fixture
    """Two replicas' writers (two engines) merge facts into the same conversation at the same time
    (turns of one conversation land on different replicas; after a database restart both writers
    retry their held batches together). Each merge reads the row and writes it back; without a row
    lock the later write overwrites the earlier one and a request goes uncounted."""
    migrate.upgrade(pg_url)
    engines = [make_engine(pg_url) for _ in range(2)]
    repos = [OutcomeRepository(e) for e in engines]
    repos[0].apply([_update(C1, turns=1)])
    per_replica, start = 60, threading.Barrier(2)
    errors: list[BaseException] = []

    def replica(repo: OutcomeRepository) -> None:
        start.wait()
        try:
            for i in range(per_replica):
                repo.apply([_update(C1, turns=2, at=T0 + timedelta(seconds=i), rails=("input:pass",))])
        except BaseException as exc:  # reported below (a thread cannot fail the test)
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(r,)) for r in repos]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    row = repos[0].get("acme", C1)
    for e in engines:
        e.dispose()
    assert not errors
    assert row is not None and row.requests == 1 + 2 * per_replica and row.rails == {"input:pass": 2 * per_replica}


def test_facts_merged_while_their_user_is_erased_are_never_left_behind(db_url: str) -> None:  # noqa: F811 - the imported fixture
    """A writer merging facts of a request that began before the erasure, at the very moment the
    erasure (another replica) raises its fence and deletes the user's rows: whichever commits
    first, no row of the erased user may be left."""
    from proxy.storage import user_rows
    from proxy.storage.erasure_fences import raise_fence
    from proxy.storage.repositories import UserScope

    migrate.upgrade(db_url)
    engines = [make_engine(db_url) for _ in range(2)]
    writer = OutcomeRepository(engines[0])
    rounds, start = 150, threading.Barrier(2)
    errors: list[BaseException] = []
    subjects = [f"{i:064x}" for i in range(1, rounds + 1)]

    def write() -> None:
        try:
            for i, s in enumerate(subjects):
                start.wait()
                writer.apply([_update(f"{i + 1:064x}", subject=s, began=T0 - timedelta(days=1))])
        except BaseException as exc:  # reported below (a thread cannot fail the test)
            errors.append(exc)

    def erase() -> None:
        try:
            for s in subjects:
                start.wait()
                with engines[1].begin() as conn:
                    raise_fence(conn, "acme", s)
                    user_rows.delete_scoped(conn, "conversation_outcomes", UserScope("acme", s))
        except BaseException as exc:  # reported below (a thread cannot fail the test)
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=erase)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    left = [i for i in range(rounds) if writer.get("acme", f"{i + 1:064x}") is not None]
    for e in engines:
        e.dispose()
    assert not errors
    assert left == []


def test_facts_held_longer_than_a_fence_stands_are_given_up_not_written() -> None:
    """The database is unreachable (a real address nothing answers on) while facts wait in the
    writer. Written once it answered, facts of requests that began before an erasure whose fence
    has meanwhile expired would name the erased user again: past ``stale_seconds`` (a fence's 15
    minutes less one, here half a second) the writer gives them up (``expired``) and stops retrying."""
    from proxy.testing import free_port

    results: dict[str, int] = {}
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none?connect_timeout=1")
    recorder = OutcomeRecorder(OutcomeRepository(engine), stale_seconds=0.5, on_result=lambda r, n: results.__setitem__(r, results.get(r, 0) + n))
    now = datetime.now(UTC)
    assert recorder.submit(_update(C1, at=now, began=now))
    assert recorder.submit(_update(C2, at=now - timedelta(hours=1), began=now - timedelta(hours=1)))  # queued long ago
    assert recorder.flush(15)
    recorder.stop(1)
    engine.dispose()
    assert results == {"expired": 2}

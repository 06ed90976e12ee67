"""The writer thread: batches, never blocks the caller, keeps every event while the store is down,
and refuses (counting) only when the bounded queue is full; reserved slots are always honoured."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from proxy.audit.events import AdminAction
from proxy.audit.log import AuditLog
from proxy.audit.verify import verify_log
from proxy.errors import AuditUnavailable
from tests.audit.helpers import fresh_log, payloads


def _break(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE audit_pending RENAME TO audit_pending_away"))


def _mend(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE audit_pending_away RENAME TO audit_pending"))


def _wait(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


async def test_append_returns_the_index_without_blocking_the_loop(tmp_path: Path) -> None:
    engine, log = fresh_log(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        for i in range(200):
            assert log.submit(AdminAction(action=f"a{i}", reason="writer test"))
        index = await log.append(AdminAction(action="last", reason="writer test"))
        task.cancel()
        assert index == 200
        assert ticks > 3  # the loop kept running while the thread wrote
        assert log.health()["written"] == 201
    finally:
        log.stop()
        engine.dispose()


async def test_store_down_keeps_every_event_and_recovers(tmp_path: Path) -> None:
    engine, log = fresh_log(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        log.append_sync(AdminAction(action="before", reason="writer test"))
        _break(engine)
        for i in range(50):
            assert log.submit(AdminAction(action=f"during{i}", reason="writer test"))
        _wait(lambda: not log.writer.healthy)
        assert log.health()["last_error"] == "OperationalError"
        assert not log.available
        with pytest.raises(AuditUnavailable, match="did not confirm"):
            await log.append(AdminAction(action="waiting", reason="writer test"), timeout=0.3)
        _mend(engine)
        assert log.writer.flush(30)
        assert log.writer.healthy and log.health()["dropped"] == 0
        actions = [p for p in payloads(engine)]
        assert len(actions) == 52  # before, 50 during, and the one whose caller timed out
        assert verify_log(log.store, []).ok
    finally:
        log.stop()
        engine.dispose()


def test_a_full_queue_drops_and_counts_but_honours_reservations(tmp_path: Path) -> None:
    engine, _ = fresh_log(f"sqlite:///{tmp_path / 'a.db'}")
    dropped: list[int] = []
    log = AuditLog(engine, capacity=10, on_drop=lambda: dropped.append(1))
    try:
        _break(engine)
        assert log.reserve()
        accepted = sum(log.submit(AdminAction(action=f"e{i}", reason="writer test")) for i in range(20))
        assert accepted == 9  # one slot is held for the reserved event
        assert len(dropped) == 11 and log.health()["dropped"] == 11
        assert log.submit(AdminAction(action="reserved", reason="writer test"), reserved=True)  # always has room
        _wait(lambda: not log.writer.healthy)
        assert not log.reserve()  # a failing store admits no more fail_closed requests
        _mend(engine)
        assert log.writer.flush(30)
        assert len(payloads(engine)) == 10
    finally:
        log.stop()
        engine.dispose()

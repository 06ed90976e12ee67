"""The durable handoff outbox (SQLite and PostgreSQL): an event queued by a notifier that stops before
delivering it is delivered by the next notifier on the same database, to a real receiver on loopback;
the stored payload is encrypted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web

from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import FileKeyProvider
from proxy.metrics import Metrics
from proxy.rails.handoff import HandoffNotifier
from proxy.rails.outbox import DatabaseOutbox, HandoffTarget, MemoryOutbox
from proxy.secrets_store import SubjectHasher
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository
from proxy.testing import free_port
from tests.rails.test_handoff import CANARIES, SECRET, Receiver, _ctx, _sample, _wait_for, receiver  # noqa: F401 - fixture
from tests.storage.dbs import db_url, pg_url  # noqa: F401 - fixtures


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.engine.Engine]:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _outbox(engine: sa.engine.Engine, tmp_path: Path) -> DatabaseOutbox:
    return DatabaseOutbox(engine, Envelope(PrivacyRepository(engine), FileKeyProvider.load_or_create(tmp_path / "kek.key")))


def _notifier(metrics: Metrics, outbox: Any, **kw: Any) -> HandoffNotifier:
    return HandoffNotifier(SubjectHasher(b"k" * 32), metrics, environ={"HANDOFF_SECRET": SECRET}, outbox=outbox, **kw)


def _rows(engine: sa.engine.Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT event_id, attempts, payload FROM handoff_outbox")))


async def test_an_event_left_by_a_stopped_notifier_is_delivered_by_the_next(engine: sa.engine.Engine, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"  # nothing listens yet: the first process cannot deliver
    first_metrics = Metrics()
    first = _notifier(first_metrics, _outbox(engine, tmp_path), backoff_seconds=0.3)
    event_id = await first.notify(_ctx(url, retries=3), reason="crisis")
    await _wait_for(lambda: [r[1] for r in _rows(engine)] == [1])  # the failed first attempt is recorded
    await first.aclose(timeout=0)  # the process stops before the event was delivered

    rows = _rows(engine)
    assert [(r[0], r[1]) for r in rows] == [(event_id, 1)]
    payload = bytes(rows[0][2])
    assert b"crisis" not in payload and b"127.0.0.1" not in payload and b"PERSON" not in payload  # event and target are ciphertext
    for canary in CANARIES:
        assert canary.encode() not in payload

    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        metrics = Metrics()
        second = _notifier(metrics, _outbox(engine, tmp_path), backoff_seconds=0.05)  # a new process, the same database
        assert await second.start() == 1
        await _wait_for(lambda: _sample(metrics, "delivered") == 1)
        await second.aclose()
    finally:
        await runner.cleanup()

    assert len(rec.hits) == 1
    hit = rec.hits[0]
    assert hit["headers"]["X-Bedside-Event"] == event_id and hit["headers"]["X-Bedside-Attempt"] == "2"  # the attempts continue
    event = json.loads(hit["body"])
    assert event["id"] == event_id and event["reason"] == "crisis" and event["context"]
    assert _rows(engine) == []  # delivered: the row is gone


async def test_a_delivered_or_abandoned_event_leaves_the_outbox(engine: sa.engine.Engine, tmp_path: Path) -> None:
    metrics = Metrics()
    notifier = _notifier(metrics, _outbox(engine, tmp_path), backoff_seconds=0.01)
    await notifier.notify(_ctx(f"http://127.0.0.1:{free_port()}/hook", retries=1), reason="crisis")
    await _wait_for(lambda: _sample(metrics, "failed") == 1)
    await notifier.aclose()
    assert _rows(engine) == []  # gave up (logged and counted): not retried forever


async def test_the_memory_outbox_is_emptied_by_delivery(receiver: Receiver) -> None:  # noqa: F811 - the imported fixture
    metrics = Metrics()
    outbox = MemoryOutbox()
    notifier = _notifier(metrics, outbox)
    await notifier.notify(_ctx(receiver.url), reason="crisis")
    await _wait_for(lambda: _sample(metrics, "delivered") == 1)
    await notifier.aclose()
    assert len(outbox) == 0


@pytest.mark.postgres
def test_a_starting_replica_leaves_a_live_replicas_events_and_takes_a_stopped_ones(pg_url: str, tmp_path: Path) -> None:  # noqa: F811 - the imported fixture
    """Two replicas on one database. One queued an event and is delivering it (or waiting to retry);
    the other starts (a rolling restart): it used to take every pending row, so the event went out
    twice and each counted its own attempts. Now it takes only rows no live replica holds; once the
    first replica is gone (its connection closes with it), the next start takes them."""
    migrate.upgrade(pg_url)
    engines = [make_engine(pg_url) for _ in range(2)]
    first, second = (_outbox(e, tmp_path) for e in engines)
    held = first.add({"id": "hnd_live", "policy": "intake", "tenant": "acme"}, HandoffTarget("http://127.0.0.1:9/hook"))
    try:
        assert [i.id for i in second.pending(10)] == []
        first.close()  # the first replica stops (or dies: its connection goes, and its locks with it)
        taken = second.pending(10)
        assert [i.id for i in taken] == [held.id] and taken[0].event["id"] == "hnd_live"
        third = _outbox(engines[0], tmp_path)
        assert third.pending(10) == []  # now the second one's
        second.remove(held.id)
        third.close()
        second.close()
    finally:
        for e in engines:
            e.dispose()


@pytest.mark.postgres
async def test_a_running_replica_takes_up_the_events_of_one_that_died(pg_url: str, tmp_path: Path, receiver: Receiver) -> None:  # noqa: F811 - the imported fixtures
    """A replica queued a hand-off event and died before delivering it; another replica has been
    running all along. The event used to wait for the next start of any replica (a person in
    distress waiting for a human that long); the running one's sweep now takes it up and delivers it."""
    migrate.upgrade(pg_url)
    engines = [make_engine(pg_url) for _ in range(2)]
    metrics = Metrics()
    running = _notifier(metrics, _outbox(engines[1], tmp_path), sweep_seconds=0.2)
    try:
        assert await running.start() == 0
        died = _outbox(engines[0], tmp_path)
        died.add({"id": "hnd_orphan", "policy": "intake", "tenant": "acme"}, HandoffTarget(receiver.url))
        await asyncio.sleep(0.5)
        assert receiver.hits == []  # held by a live process: left to it
        died.close()  # its connection (and its locks) go with the process
        await _wait_for(lambda: _sample(metrics, "delivered") == 1)
        assert [h["headers"]["x-bedside-event"] for h in receiver.hits] == ["hnd_orphan"]
        await _wait_for(lambda: _rows(engines[1]) == [])  # removed just after the delivery is counted
    finally:
        await running.aclose()
        for e in engines:
            e.dispose()


async def test_an_event_whose_user_is_erased_between_retries_is_not_delivered(engine: sa.engine.Engine, tmp_path: Path, receiver: Receiver) -> None:  # noqa: F811 - the imported fixture
    """The webhook fails the first attempt; before the retry, the user is erased, which deletes
    their pending events from the outbox (``proxy/rails/outbox_rights.py``). The retry used to go
    out anyway from the notifier's memory; now the event is looked up before every attempt and the
    delivery stops (``withdrawn``)."""
    receiver.fail_first = 1
    metrics = Metrics()
    notifier = _notifier(metrics, _outbox(engine, tmp_path), backoff_seconds=2.0)
    try:
        await notifier.notify(_ctx(receiver.url, retries=3), reason="crisis")
        await _wait_for(lambda: len(receiver.hits) == 1)
        with engine.begin() as conn:  # what the erasure's outbox step leaves: the user's rows gone
            conn.execute(sa.text("DELETE FROM handoff_outbox"))
        await _wait_for(lambda: _sample(metrics, "withdrawn") == 1)
        await asyncio.sleep(0.3)
        assert len(receiver.hits) == 1 and _sample(metrics, "delivered") == 0
    finally:
        await notifier.aclose()

"""kill -9 in the middle of an erasure, then a retry: nothing of the user is left (SQLite and PostgreSQL).

A real ``bedside serve`` process erases a user through ``DELETE /v1/users/{user}``; its test hook
(``BEDSIDE_TEST_ERASURE_PAUSE_AFTER``) pauses it after the transcripts step has committed, and the
test kills it with SIGKILL there: consent detached, memories and transcripts gone, the pending
handoff event and the data key still present, the journal ``running``. A new app on the same
database then answers the retried DELETE: the same erasure finishes (attempt 2), the receipt counts
every row of both attempts, and no row anywhere names the user.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.crypto.keys import CryptoError
from proxy.privacy.erasure import PAUSE_AFTER_ENV, PAUSE_FILE_ENV
from proxy.privacy.export import collect
from proxy.testing import ServerProcess, bedside_argv, free_port
from tests.privacy.rights_world import ERASED, TURNS, World
from tests.storage.dbs import db_url  # noqa: F401 - fixture


def _serve(world: World, pause_file: Path) -> ServerProcess:
    port = free_port()
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=120)
    server.env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")} | {
        "BEDSIDE_DATA_DIR": str(world.settings.data_dir),
        "BEDSIDE_DATABASE__URL": world.settings.database_url(),
        "BEDSIDE_POLICY__ENABLED": "false",
        "BEDSIDE_QUICKSTART": "1",  # the KEK the world was built with, in the data directory
        PAUSE_AFTER_ENV: "transcripts",
        PAUSE_FILE_ENV: str(pause_file),
    }
    return server


def _delete(url: str, outcome: list[object]) -> None:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=120) as resp:
            outcome.append(resp.status)
    except (urllib.error.URLError, ConnectionError, OSError) as exc:
        outcome.append(exc)


def _stable(doc: dict[str, Any]) -> dict[str, Any]:
    """The export without what changes by itself: its time, and delivery attempts the servers made meanwhile."""
    doc = {k: v for k, v in doc.items() if k != "generated_at"}
    doc["handoff_events"] = [{k: v for k, v in e.items() if k != "attempts"} for e in doc["handoff_events"]]
    return doc


def _count(world: World, table: str, subject: str) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE tenant = 'open' AND subject = :s"), {"s": subject}).scalar_one())


async def test_kill_9_midway_then_retry_leaves_nothing(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    world = World.build(db_url, tmp_path / "data")
    try:
        world.seed("open", "alice", "CANARYALICE")  # open mode (no keys): the open tenant
        world.seed("open", "bob", "CANARYBOB")
        alice, bob = world.who("open", "alice"), world.who("open", "bob")
        old = world.ciphertexts(alice)
        bob_before = json.loads(await collect(world.rights.export(bob)))
        paused = tmp_path / "paused"
        outcome: list[object] = []
        with _serve(world, paused) as server:
            assert server.proc is not None
            caller = threading.Thread(target=_delete, args=(f"{server.url}/v1/users/alice", outcome))
            caller.start()
            deadline = time.monotonic() + 60
            while not paused.exists():
                assert time.monotonic() < deadline, f"the erasure never reached its pause:\n{server.output()[-3000:]}"
                time.sleep(0.05)
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait(timeout=10)
            caller.join(timeout=30)
        assert server.proc.returncode == -signal.SIGKILL
        assert outcome and isinstance(outcome[0], Exception)  # the caller got no answer

        # what the killed process left: the first steps done and journalled, the rest still there
        subject = alice.scope.subject
        assert [_count(world, t, subject) for t in ("consent_events", "memories", "transcripts", "data_keys")] == [0, 0, 0, 1]
        running = world.rights.eraser.journal.running(alice.scope)
        assert running is not None and running.attempts == 1
        assert running.counts == {"detached": {"consent_events": 2}, "deleted": {"memories": 2, "transcripts": TURNS}}
        assert len(json.loads(await collect(world.rights.export(alice)))["handoff_events"]) == 1

        # the retry, by a new process on the same database, finishes the same erasure
        async with AsyncTestClient(create_app(world.settings)) as client:
            r = await client.delete("/v1/users/alice")
            assert r.status_code == 200, r.text
            receipt = r.json()
            assert (receipt["id"], receipt["attempts"]) == (running.id, 2)
            assert receipt["erased"] == ERASED and receipt["consent"]["kept"] == 2
            assert (await client.delete("/v1/users/alice")).status_code == 404
        assert world.rows_naming("CANARYALICE") == {}
        # her subject HMAC is left only in the erasure's audit entry (append-only) and the receipt's copy of it
        assert world.rows_naming(subject) == {"audit_entries": 1, "erasures": 1}
        assert json.loads(receipt["audit"]["entry"])["erasure_id"] == running.id
        for ref, blob in old:
            with pytest.raises(CryptoError):
                world.privacy.envelope.decrypt_sync(alice.scope, ref, blob)
        bob_after = json.loads(await collect(world.rights.export(bob)))
        assert _stable(bob_after) == _stable(bob_before)
    finally:
        world.close()

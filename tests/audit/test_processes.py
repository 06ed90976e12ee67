"""Several real processes write one log at once, and a process killed mid-write (SIGKILL) leaves a
log that verifies: the order is decided by the database's sequencer, not by each process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import sqlalchemy as sa

from proxy.audit.store import AuditStore
from proxy.audit.verify import verify_log
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from tests.storage.dbs import db_url  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]


def _spawn(url: str, tag: str, count: int, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.audit.writer_proc", url, tag, str(count), mode], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _go(procs: list[subprocess.Popen[str]]) -> None:
    """Wait until every writer has written its first entry, then let them all go at once."""
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready", p.stderr.read() if p.stderr else ""
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()


def _actions(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [json.loads(p)["action"] for (p,) in conn.execute(sa.text("SELECT payload FROM audit_entries ORDER BY idx"))]
    finally:
        engine.dispose()


def _wait_until_written(url: str, prefix: str, timeout: float = 60.0) -> None:
    """Until an event tagged ``prefix`` is in the database, pending or sequenced."""
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                rows = [*conn.execute(sa.text("SELECT event FROM audit_pending")), *conn.execute(sa.text("SELECT payload FROM audit_entries"))]
            texts = [v.decode() if isinstance(v, bytes) else bytes(v).decode() if isinstance(v, memoryview) else str(v) for (v,) in rows]
            if any(f'"{prefix}' in t and f'"{prefix}start"' not in t for t in texts):
                return
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError(f"no event tagged {prefix} reached the database in {timeout:.0f} s")


def _verify(url: str) -> AuditStore:
    engine = make_engine(url)
    store = AuditStore(engine)
    report = verify_log(store, [])
    assert report.ok, [str(p) for p in report.problems]
    assert report.entries == report.tree_size
    return store


def test_processes_writing_at_once_get_one_order(db_url: str) -> None:  # noqa: F811
    migrate.upgrade(db_url)
    procs = [_spawn(db_url, "a", 300, "queue"), _spawn(db_url, "b", 300, "queue"), _spawn(db_url, "c", 60, "sync")]
    _go(procs)
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
    actions = _actions(db_url)
    for tag, n in (("a", 300), ("b", 300), ("c", 60)):
        mine = [a for a in actions if a.startswith(f"{tag}-") and a != f"{tag}-start"]
        assert mine == [f"{tag}-{i}" for i in range(n)]  # every event once, each process's in its own order
    assert len(actions) == 663
    tags = [a.split("-")[0] for a in actions]
    assert sum(1 for x, y in pairwise(tags) if x != y) >= 3  # the processes really interleaved
    _verify(db_url).engine.dispose()


def test_a_process_killed_mid_write_leaves_a_log_that_verifies(db_url: str) -> None:  # noqa: F811
    migrate.upgrade(db_url)
    for round_ in range(3):
        victim = _spawn(db_url, f"k{round_}", 0, "queue")
        survivor = _spawn(db_url, f"s{round_}", 200, "queue")
        try:
            _go([victim, survivor])
            _wait_until_written(db_url, f"k{round_}-")  # a loaded machine may take longer than any fixed sleep
            time.sleep(0.1 + 0.2 * round_)  # then kill it in the middle of its writes
        finally:  # the victim writes until killed: never leave it running
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
        _, err = survivor.communicate(timeout=180)
        assert survivor.returncode == 0, err[-2000:]
        store = _verify(db_url)  # pending rows the victim left are not part of the log yet
        store.integrate_all()  # any process's sequencer takes them in
        assert store.pending_count() == 0
        store.engine.dispose()
        _verify(db_url).engine.dispose()
        killed = [a for a in _actions(db_url) if a.startswith(f"k{round_}-") and a != f"k{round_}-start"]
        assert killed, "the killed process wrote nothing before the kill"
        indexes = sorted(int(a.split("-")[1]) for a in killed)
        assert len(indexes) == len(set(indexes))  # nothing integrated twice

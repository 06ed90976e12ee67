"""What one privacy-store call costs from the event loop, on SQLite and PostgreSQL.

    python bench/storage_cost.py [--calls 2000] [--concurrency 16] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

The call is the consent check the chat path will make per request (``latest_consent``: one indexed
query for the newest decision per purpose). Ways measured:

* ``sync-on-loop``: the sync SQLAlchemy call made directly in the coroutine (blocks the loop; the
  floor, and what must not ship);
* ``threadpool``: the same call through ``PrivacyRepository.run`` (anyio worker thread, bounded by
  a CapacityLimiter) - the chosen way;
* ``raw-threadpool`` (PostgreSQL only): the SQL below on one sync psycopg connection through the
  same thread pool, sequential only (separates the thread hop from SQLAlchemy's own cost);
* ``async-driver`` (PostgreSQL only): the same SQL on psycopg 3's own ``AsyncConnection`` pool of
  one connection per task, i.e. the best an async engine could do without SQLAlchemy's asyncio
  layer. SQLAlchemy's async engine itself cannot run here: it needs greenlet, and SQLite needs
  aiosqlite; neither is in the lock file.

Prints p50 and p99 per call sequentially, and the throughput with ``--concurrency`` tasks at once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from proxy.crypto.subjects import SubjectKey  # noqa: E402
from proxy.privacy.consent import ConsentLedger  # noqa: E402
from proxy.storage import migrate  # noqa: E402
from proxy.storage.engine import make_engine  # noqa: E402
from proxy.storage.repositories import PrivacyRepository  # noqa: E402

SUBJECTS = SubjectKey(os.urandom(32))


async def _timed(fn: Callable[[], Awaitable[object]], calls: int) -> list[float]:
    for _ in range(50):
        await fn()
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t0)
    return out


async def _throughput(make: Callable[[], Callable[[], Awaitable[object]]], calls: int, concurrency: int) -> float:
    per_task = max(1, calls // concurrency)

    async def worker() -> None:
        fn = make()
        for _ in range(per_task):
            await fn()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_task * concurrency / (time.perf_counter() - t0)


def _row(name: str, backend: str, samples: list[float], rate: float | None) -> None:
    samples.sort()
    p50 = statistics.median(samples) * 1000
    p99 = samples[int(len(samples) * 0.99) - 1] * 1000
    shown = f"{rate:8.0f} calls/s" if rate is not None else "       - (sequential only)"
    print(f"{backend:<10} {name:<14} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms   {shown}")


async def bench_backend(backend: str, url: str, calls: int, concurrency: int) -> None:
    migrate.upgrade(url)
    engine = make_engine(url)
    repo = PrivacyRepository(engine, max_threads=concurrency)
    ledger = ConsentLedger(repo, SUBJECTS)
    for i in range(200):  # some other users, so the index matters
        ledger.record_sync("acme", f"user-{i}", "memory", i % 2 == 0)
    scope = ledger.scope("acme", "user-7")

    async def on_loop() -> object:
        return repo.latest_consent(scope)

    async def pooled() -> object:
        return await repo.run(repo.latest_consent, scope)

    _row("sync-on-loop", backend, await _timed(on_loop, calls), await _throughput(lambda: on_loop, calls, concurrency))
    _row("threadpool", backend, await _timed(pooled, calls), await _throughput(lambda: pooled, calls, concurrency))

    if backend == "postgres":
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        sql = (
            "SELECT c.* FROM consent_events c JOIN (SELECT purpose, max(id) AS id FROM consent_events "
            "WHERE tenant = %s AND subject = %s GROUP BY purpose) n ON c.id = n.id"
        )
        conns: list[psycopg.AsyncConnection[tuple[object, ...]]] = []

        async def connect() -> psycopg.AsyncConnection[tuple[object, ...]]:
            conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
            conns.append(conn)
            return conn

        one = await connect()

        async def native() -> object:
            cur = await one.execute(sql, (scope.tenant, scope.subject))
            return await cur.fetchall()

        sync_conn = psycopg.connect(dsn, autocommit=True)

        def raw_sync() -> object:
            return sync_conn.execute(sql, (scope.tenant, scope.subject)).fetchall()

        async def raw_pooled() -> object:
            return await repo.run(raw_sync)

        # the same SQL on the sync driver in the thread pool: the hop's cost without SQLAlchemy's
        _row("raw-threadpool", backend, await _timed(raw_pooled, calls), None)
        sync_conn.close()
        seq = await _timed(native, calls)
        task_conns = [await connect() for _ in range(concurrency)]
        it = iter(task_conns)

        def make() -> Callable[[], Awaitable[object]]:
            conn = next(it)

            async def call() -> object:
                cur = await conn.execute(sql, (scope.tenant, scope.subject))
                return await cur.fetchall()

            return call

        _row("async-driver", backend, seq, await _throughput(make, calls, concurrency))
        for conn in conns:
            await conn.close()
    engine.dispose()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--pg", default=os.environ.get("BEDSIDE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, {args.calls} calls, concurrency {args.concurrency}")
    with tempfile.TemporaryDirectory() as tmp:
        await bench_backend("sqlite", f"sqlite:///{tmp}/bench.db", args.calls, args.concurrency)
    name = f"bedside_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"postgres   skipped: {type(exc).__name__}")
        return
    try:
        await bench_backend("postgres", args.pg.rsplit("/", 1)[0] + f"/{name}", args.calls, args.concurrency)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())

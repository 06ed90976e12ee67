"""What recording outcome facts adds to a request, and how fast the writer thread keeps up.

    python bench/outcomes_cost.py [--requests N] [--rounds R] [--pg URL | --no-pg]

Requests run through the real pipeline (``build_services`` with the example policies in
``policies/``: emotion, tone, PII, rails), the upstream answered in process (httpx MockTransport),
as three-turn conversations. After each request, ``finish_request`` (the request log line and
metrics, as the route calls it) is timed twice on the same finished context, alternately first:
once with outcomes on (reading the facts, the live board, the queue hand-off) and once with
``services.outcomes`` set to None. The added time per request is the paired difference; the
figure printed is the median over rounds of each round's median (p50) and 99th percentile.

The writer thread's own cost is then measured apart: the rows per second
``OutcomeRepository.apply`` writes in batches of 256 on SQLite (WAL) and PostgreSQL, i.e. the
request rate one writer thread sustains before the queue fills and facts are dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from proxy.api.requestlog import finish_request  # noqa: E402
from proxy.logs import configure_logging  # noqa: E402
from proxy.pipeline.collect import collect  # noqa: E402
from proxy.pipeline.context import RequestContext  # noqa: E402
from proxy.services import Services, build_services  # noqa: E402
from proxy.settings import Settings  # noqa: E402
from proxy.storage import migrate  # noqa: E402
from proxy.storage.engine import make_engine  # noqa: E402
from proxy.storage.outcomes import OutcomeRepository, OutcomeUpdate  # noqa: E402

TARGET_MS = 0.3
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TURNS = (
    "Hi, my parcel has not arrived and the tracking page says nothing.",
    "It has been two weeks now and nobody answers my emails. I am getting annoyed.",
    "This is ridiculous, I just want my order or my money back!",
)
REPLY = "I'm sorry about the wait. I have opened a ticket and a colleague will reply within one business day."


def handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": REPLY}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
        },
    )


def build(tmp: Path) -> Services:
    settings = Settings(
        data_dir=tmp / "data", upstream_url="http://upstream.invalid/v1", policy={"directory": str(ROOT / "policies"), "watch": False}, log={"level": "warning"}
    )
    migrate.upgrade(settings.database_url())
    return build_services(settings, upstream_transport=httpx.MockTransport(handler))


async def finished_request(s: Services, conversation: str, turn: int) -> RequestContext:
    messages: list[dict[str, Any]] = []
    for i in range(turn + 1):
        messages.append({"role": "user", "content": TURNS[i]})
        if i < turn:
            messages.append({"role": "assistant", "content": REPLY})
    headers = {"x-bedside-conversation": conversation, "x-bedside-user": conversation}
    ctx = RequestContext(request_id=uuid.uuid4().hex, endpoint="chat", body={"model": "support-agent", "messages": messages}, headers=headers)
    await collect(await s.pipeline(ctx))
    return ctx


def timed_finish(s: Services, ctx: RequestContext) -> float:
    started = time.perf_counter_ns()
    finish_request(s, ctx, 200)
    return (time.perf_counter_ns() - started) / 1e6


async def added_cost(s: Services, requests: int, rounds: int) -> tuple[float, float]:
    outcomes = s.outcomes
    assert outcomes is not None
    for i in range(30):  # warm-up: models, the PII engine, caches
        await finished_request(s, f"warm-{i}", i % 3)
    p50s, p99s = [], []
    for r in range(rounds):
        diffs = []
        for i in range(requests):
            ctx = await finished_request(s, f"c-{r}-{i // 3}", i % 3)
            if i % 2:
                s.outcomes = None
                off = timed_finish(s, ctx)
                s.outcomes = outcomes
                on = timed_finish(s, ctx)
            else:
                on = timed_finish(s, ctx)
                s.outcomes = None
                off = timed_finish(s, ctx)
                s.outcomes = outcomes
            diffs.append(on - off)
        diffs.sort()
        p50s.append(statistics.median(diffs))
        p99s.append(diffs[int(len(diffs) * 0.99) - 1])
    assert outcomes.recorder.flush(30)
    return statistics.median(p50s), statistics.median(p99s)


def writer_rate(url: str, rows: int = 5000) -> float:
    migrate.upgrade(url)
    engine = make_engine(url)
    repo = OutcomeRepository(engine)
    now = datetime.now(UTC)
    traj = tuple(("frustration", 0.6, 0.4, 0) for _ in range(3))
    updates = [OutcomeUpdate("bench", f"{i // 3:064x}", None, "support", "v1", now, i % 3 + 1, traj[: i % 3 + 1], -0.2, ("frustration",), False, ("input:pass", "output:pass")) for i in range(rows)]
    started = time.perf_counter()
    for i in range(0, rows, 256):
        repo.apply(updates[i : i + 256])
    elapsed = time.perf_counter() - started
    engine.dispose()
    return rows / elapsed


def pg_database(admin: str) -> tuple[str, Any]:
    name = f"bedside_bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return admin.rsplit("/", 1)[0] + f"/{name}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg", default=PG_ADMIN)
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    configure_logging("warning")  # the request line is not part of what is measured (logs on or off, both sides pay it)
    with tempfile.TemporaryDirectory() as tmp:
        s = build(Path(tmp))
        p50, p99 = asyncio.run(added_cost(s, args.requests, args.rounds))
        s.outcomes.recorder.stop() if s.outcomes else None
        s.engine.dispose()
        print(f"outcome recording, added per request (finish_request on vs off, {args.rounds} rounds x {args.requests} requests)")
        print(f"  p50 {p50:.4f} ms   p99 {p99:.4f} ms   target p50 <= {TARGET_MS} ms: {'met' if p50 <= TARGET_MS else 'MISSED'}")
        print("writer thread, rows merged per second (batches of 256, 3 requests per conversation)")
        sqlite_url = f"sqlite:///{Path(tmp) / 'w.db'}"
        print(f"  SQLite      {writer_rate(sqlite_url):8.0f} rows/s")
    if not args.no_pg:
        try:
            url, drop = pg_database(args.pg)
        except Exception as exc:
            print(f"  PostgreSQL  skipped ({type(exc).__name__})")
            return
        try:
            print(f"  PostgreSQL  {writer_rate(url):8.0f} rows/s")
        finally:
            drop()


if __name__ == "__main__":
    main()

"""What consent, memory and transcripts add to a request, through the real pipeline.

    python bench/privacy_cost.py [--iterations N] [--rounds R] [--memories M] [--pg URL | --no-pg]

The pipeline is the one ``bedside serve`` builds (``build_services``: identity, policy, consent,
emotion, tone, pii, memory, transcripts, rails, forward) on a migrated SQLite file and on a fresh
PostgreSQL database, with the upstream answered in process (an httpx MockTransport), so the figures
are Bedside's own time. Each row's request is paired with a baseline request, sent right after it,
and the paired difference is the added cost; rows are interleaved within each round and the
medians of the rounds' medians are printed (p50 ms, and process CPU ms over all threads, so the
database worker threads count).

* ``consent only``: a user who granted nothing, through the full pipeline, paired with the same
  request through the pipeline without the privacy stages (``build_stages(privacy=None)``). Each
  iteration is a new user, so the consent state is never cached (the stage caches it for 1 s):
  what the first request of a user in a second costs;
* ``+ memory read``: a user who granted ``memory`` and has ``--memories`` memories (200) asks a
  question (nothing to remember): the version check, load and decrypt them (once per version),
  rank (word overlap plus the packaged static embeddings), inject one system message; paired
  with the same request from a user without consent (both consent states cached);
* ``+ memory write``: the same user states a preference each time ("I prefer phone calls in the
  evening."): the read, then extraction and an encrypted upsert that replaces the previous one;
* ``+ transcripts``: a user who granted ``memory`` and ``transcripts``, 200 memories, the same
  statement: read, write, and the turn recorded encrypted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from proxy.pipeline.collect import collect  # noqa: E402
from proxy.pipeline.context import RequestContext  # noqa: E402
from proxy.pipeline.stage import Pipeline  # noqa: E402
from proxy.privacy.memory_rules import Extracted  # noqa: E402
from proxy.runtime import prepare_process  # noqa: E402
from proxy.services import Services, build_services, build_stages  # noqa: E402
from proxy.settings import Settings  # noqa: E402
from proxy.stages.forward import Forwarder  # noqa: E402
from proxy.storage import migrate  # noqa: E402

TARGET_MS = 2.0  # added p50 on SQLite, consent + memory
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POLICY = "description: bench, PII and memory on\nowner: bench\npii: {enabled: true}\nmemory: {enabled: true}\n"
QUESTION = "Could you suggest something for dinner tonight? Something quick, please."
STATEMENT = "Thanks. I prefer phone calls in the evening."
REPLY = "Sure. A quick stir-fry with vegetables and rice takes about twenty minutes, and you can add tofu for protein."
ROWS = (("consent", "consent only"), ("read", "+ memory read"), ("write", "+ memory write"), ("transcripts", "+ transcripts"))


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


def services_for(tmp: Path, url: str) -> tuple[Services, Pipeline]:
    pdir = tmp / "policies"
    pdir.mkdir(exist_ok=True)
    (pdir / "default.yaml").write_text(POLICY)
    data = tmp / f"data-{uuid.uuid4().hex[:6]}"
    data.mkdir()
    settings = Settings(data_dir=data, upstream_url="http://upstream.invalid/v1", database={"url": url}, policy={"directory": str(pdir), "watch": False}, log={"level": "warning"})
    migrate.upgrade(url)
    s = build_services(settings, upstream_transport=httpx.MockTransport(handler))
    bare = Pipeline(build_stages(settings, s.keyring, s.metrics, s.policies, s.hasher, s.handoff, None), Forwarder(s.router, s.metrics))
    return s, bare


def seed(s: Services, user: str, count: int, purposes: tuple[str, ...]) -> None:
    assert s.privacy is not None
    for purpose in purposes:
        s.privacy.ledger.record_sync("open", user, purpose, True, method="api")
    store = s.privacy.memories
    scope = store.scope("open", user)
    items = [Extracted("fact", f"topic-{i}", f"I collect vintage item number {i} from the market on Sundays.") for i in range(count)]
    store.remember_sync(scope, items, {}, tenant="open", conversation="seed", turn=1)


async def once(pipeline: Pipeline, user: str, text: str) -> tuple[float, float]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": text}]}
    headers = {"x-bedside-user": user, "x-bedside-conversation": f"c-{user}"}
    ctx = RequestContext(request_id="b", endpoint="chat", body=body, headers=headers)
    started, cpu = time.perf_counter(), time.process_time()
    result = await collect(await pipeline(ctx))
    assert result["choices"][0]["message"]["content"], result
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


async def measure(s: Services, bare: Pipeline, iterations: int, rounds: int) -> dict[str, tuple[float, float]]:
    full = s.pipeline
    for i in range(10):  # warm-up: imports, the PII engine, connection pools, key caches
        for user in ("reader", "writer", "recorder", "nobody", f"warm-{i}"):
            await once(full, user, STATEMENT if user != "reader" else QUESTION)
        await once(bare, "nobody", QUESTION)
    per_round: dict[str, list[tuple[float, float]]] = {k: [] for k, _ in ROWS}
    for r in range(rounds):
        diffs: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k, _ in ROWS}
        for i in range(iterations):
            pairs = {
                "consent": ((full, f"new-{r}-{i}", QUESTION), (bare, f"new-{r}-{i}", QUESTION)),
                "read": ((full, "reader", QUESTION), (full, "nobody", QUESTION)),
                "write": ((full, "writer", STATEMENT), (full, "nobody", STATEMENT)),
                "transcripts": ((full, "recorder", STATEMENT), (full, "nobody", STATEMENT)),
            }
            for key, (row, base) in pairs.items():
                a = await once(*row)
                b = await once(*base)
                diffs[key][0].append(a[0] - b[0])
                diffs[key][1].append(a[1] - b[1])
        for key, (walls, cpus) in diffs.items():
            per_round[key].append((statistics.median(walls), statistics.median(cpus)))
    return {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in per_round.items()}


def check_memories(s: Services, count: int) -> None:
    assert s.privacy is not None
    for user in ("reader", "writer", "recorder"):
        n = len(s.privacy.memories.load_sync(s.privacy.memories.scope("open", user)))
        assert n in (count, count + 1), f"{user} has {n} memories"


async def run_backend(tmp: Path, url: str, args: argparse.Namespace) -> dict[str, tuple[float, float]]:
    s, bare = services_for(tmp, url)
    try:
        await asyncio.to_thread(seed, s, "reader", args.memories, ("memory",))
        await asyncio.to_thread(seed, s, "writer", args.memories, ("memory",))
        await asyncio.to_thread(seed, s, "recorder", args.memories, ("memory", "transcripts"))
        out = await measure(s, bare, args.iterations, args.rounds)
        check_memories(s, args.memories)
        return out
    finally:
        s.engine.dispose()


def fresh_pg(admin_url: str) -> tuple[str, Any]:
    name = f"bedside_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=10, help="pairs per row per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memories", type=int, default=200)
    parser.add_argument("--pg", default=os.environ.get("BEDSIDE_TEST_PG", PG_ADMIN), help="admin URL of a PostgreSQL server (a throw-away database is created)")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    prepare_process()  # as `bedside serve` does first (libraries offline, numpy's BLAS on one thread)
    results: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = await run_backend(Path(tmp), f"sqlite:///{Path(tmp) / 'bedside.db'}", args)
        if not args.no_pg:
            try:
                url, drop = fresh_pg(args.pg)
            except Exception as exc:  # report and go on with SQLite only
                print(f"PostgreSQL not measured: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}\n")
            else:
                try:
                    results["PostgreSQL"] = await run_backend(Path(tmp), url, args)
                finally:
                    drop()
    print(f"Privacy stages, added ms per request ({args.rounds} rounds x {args.iterations} pairs, median of round medians; user with {args.memories} memories)")
    print("p50: wall time added; cpu: process CPU added (all threads), which machine load does not inflate\n")
    backends = list(results)
    head = f"{'row':<18}" + "".join(f"{b + ' p50':>17}{'cpu':>8}" for b in backends)
    print(head)
    for key, label in ROWS:
        print(f"{label:<18}" + "".join(f"{results[b][key][0]:>17.2f}{results[b][key][1]:>8.2f}" for b in backends))
    read = results["SQLite"]["read"][0]
    print(f"\ntarget: consent + memory read <= {TARGET_MS:g} ms added p50 on SQLite: {'MET' if read <= TARGET_MS else 'MISSED'} ({read:.2f} ms)")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    asyncio.run(main())

"""What export and erasure cost for a user with a long history, on SQLite and PostgreSQL.

For each backend: a user with ``--turns`` transcript turns (each ~``--chars`` characters of text),
``--memories`` memories and their consent, next to another user of the same size; then

* **export**: wall time of the whole streamed document, its size, the largest piece written, and the
  peak of Python memory allocated while streaming (tracemalloc), which stays near one page
  (``PAGE_SIZE`` turns) however long the history: the document is never held whole;
* **erasure**: wall time of ``DELETE`` (all steps, both passes, journal), and what it removed.

    PYTHONPATH=. python bench/rights_cost.py                  # 5,000 turns, SQLite and PostgreSQL
    PYTHONPATH=. python bench/rights_cost.py --turns 20000 --backends sqlite

PostgreSQL is skipped when it is not running on 127.0.0.1:5432 (``BEDSIDE_TEST_PG`` as in the tests).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proxy.privacy.export import PAGE_SIZE
from proxy.privacy.memory_rules import Extracted
from tests.privacy.rights_world import World

PG_ADMIN = os.environ.get("BEDSIDE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _seed(world: World, user: str, turns: int, chars: int, memories: int) -> None:
    ledger, writer, store = world.privacy.ledger, world.privacy.transcripts, world.privacy.memories
    ledger.record_sync("acme", user, "memory", True)
    ledger.record_sync("acme", user, "transcripts", True)
    scope = ledger.scope("acme", user)
    text = ("I would like to change the delivery address of my order please. " * (chars // 60 + 1))[:chars]
    with world.privacy.envelope.batch():
        for turn in range(turns):
            writer.record_sync(scope, f"c-{turn // 20}", turn % 20, ("support", "v1"), {"emotion": {"label": "neutral", "intensity": 0.1}}, text, text)
    items = [Extracted("fact", f"topic-{i}", f"Fact number {i} is <EMAIL_ADDRESS_1>.") for i in range(memories)]
    store.remember_sync(scope, items, {"<EMAIL_ADDRESS_1>": f"{user}@example.com"}, tenant="acme", conversation="c-0", turn=1)


async def _export(world: World, user: str) -> tuple[float, int, int, int]:
    who = world.who("acme", user)
    tracemalloc.start()
    start = time.perf_counter()
    size = largest = 0
    async for piece in world.rights.export(who):
        size += len(piece)
        largest = max(largest, len(piece))
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, size, largest, peak


async def _erase(world: World, user: str) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    receipt = await world.rights.erase(world.who("acme", user))
    return time.perf_counter() - start, receipt.erased


def _pg_url() -> str | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"bedside_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    except Exception:
        return None


def _drop_pg(url: str) -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def run(backend: str, args: argparse.Namespace) -> list[str] | None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bedside.db'}" if backend == "sqlite" else _pg_url()
        if url is None:
            print(f"{backend}: not reachable, skipped", file=sys.stderr)
            return None
        world = World.build(url, Path(tmp) / "data")
        try:
            for user in ("big", "other"):
                _seed(world, user, args.turns, args.chars, args.memories)
            export_s, size, largest, peak = asyncio.run(_export(world, "big"))
            erase_s, erased = asyncio.run(_erase(world, "big"))
        finally:
            world.close()
            if backend == "postgres":
                _drop_pg(url)
    return [
        backend,
        f"{export_s:.2f}",
        f"{size / 1e6:.1f}",
        f"{size / export_s / 1e6:.1f}",
        f"{largest / 1e3:.0f}",
        f"{peak / 1e6:.1f}",
        f"{erase_s * 1000:.0f}",
        str(sum(erased.values())),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=5000)
    parser.add_argument("--chars", type=int, default=400, help="characters of user text (and of reply) per turn")
    parser.add_argument("--memories", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"user with {args.turns} turns of {args.chars}+{args.chars} characters and {args.memories} memories; export pages of {PAGE_SIZE} items")
    header = ["backend", "export s", "doc MB", "MB/s", "largest piece kB", "peak alloc MB", "erase ms", "rows erased"]
    rows = [r for b in args.backends.split(",") if (r := run(b.strip(), args)) is not None]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

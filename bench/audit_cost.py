"""What the audit log costs: added time per request, and ``bedside audit verify`` for a large log.

    python bench/audit_cost.py [--requests N] [--rounds R] [--entries E] [--pg URL | --no-pg]

1. **Per request.** Two apps built by ``create_app`` (the HTTP edge, every stage, the request log
   line, the in-process demo upstream), identical except ``audit.enabled``, each on its own
   migrated database, are driven in process (Litestar's test client). Requests alternate between
   the two, so both see the same machine; the printed figure is the median over rounds of
   p50(audit on) - p50(audit off), in ms, and the process CPU per request over all threads (the
   writer thread that batches entries into the database counts) for each app measured alone.
2. **Verify.** ``E`` entries (default 1,000,000) are written through the sequencer in batches, a
   checkpoint is signed, and :func:`proxy.audit.verify.verify_log` (what ``bedside audit verify``
   runs) checks them all; the time and the rate are printed.

Both on SQLite (a file in a temporary directory) and, unless ``--no-pg``, on a fresh PostgreSQL
database (dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from proxy.app import create_app  # noqa: E402
from proxy.audit.events import RequestEvent  # noqa: E402
from proxy.audit.log import AuditLog, pending  # noqa: E402
from proxy.audit.note import Signer  # noqa: E402
from proxy.audit.verify import verify_log  # noqa: E402
from proxy.settings import Settings  # noqa: E402
from proxy.storage import migrate  # noqa: E402
from proxy.storage.engine import make_engine  # noqa: E402

TARGET_MS = 0.3
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POLICY = "description: bench\nowner: bench\n"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Where is my order A-1042? It has been a week."}]}


def _settings(tmp: Path, name: str, url: str | None, audit: bool) -> Settings:
    pdir = tmp / "policies"
    pdir.mkdir(parents=True, exist_ok=True)
    (pdir / "default.yaml").write_text(POLICY)
    database: dict[str, Any] = {"url": url} if url else {}
    return Settings(data_dir=tmp / name, database=database, policy={"directory": pdir, "watch": False}, log={"level": "warning"}, audit={"enabled": audit})


async def _timed(client: AsyncTestClient[Any], headers: dict[str, str]) -> float:
    started = time.perf_counter()
    r = await client.post("/v1/chat/completions", json=BODY, headers=headers)
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    return elapsed


async def per_request(tmp: Path, urls: tuple[str | None, str | None], requests: int, rounds: int) -> dict[str, float]:
    on_app = create_app(_settings(tmp, "on", urls[0], True))
    off_app = create_app(_settings(tmp, "off", urls[1], False))
    headers = {"x-bedside-user": "bench-user"}
    diffs: list[float] = []
    on_p50: list[float] = []
    off_p50: list[float] = []
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    async with AsyncTestClient(on_app) as on, AsyncTestClient(off_app) as off:
        for _ in range(50):  # warm both
            await _timed(on, headers)
            await _timed(off, headers)
        for _ in range(rounds):
            a: list[float] = []
            b: list[float] = []
            for _ in range(requests):
                a.append(await _timed(on, headers))
                b.append(await _timed(off, headers))
            on_p50.append(statistics.median(a))
            off_p50.append(statistics.median(b))
            diffs.append(statistics.median(a) - statistics.median(b))
            for name, client in (("on", on), ("off", off)):
                on_app.state.services.audit.writer.flush(30)
                started = time.process_time()
                for _ in range(requests):
                    await _timed(client, headers)
                if name == "on":
                    on_app.state.services.audit.writer.flush(30)
                cpu[name].append((time.process_time() - started) / requests)
        for name, client in (("on", on), ("off", off)):  # 16 requests at a time: batches form
            started = time.process_time()
            wall = time.perf_counter()
            total = requests * 4

            async def worker(count: int, client: AsyncTestClient[Any] = client) -> None:
                for _ in range(count):
                    await _timed(client, headers)

            await asyncio.gather(*(worker(total // 16) for _ in range(16)))
            if name == "on":
                on_app.state.services.audit.writer.flush(30)
            cpu[f"c16_{name}"] = [(time.process_time() - started) / total]
            cpu[f"rps_{name}"] = [total / (time.perf_counter() - wall)]
    return {
        "c16_cpu_on_ms": cpu["c16_on"][0] * 1000,
        "c16_cpu_off_ms": cpu["c16_off"][0] * 1000,
        "c16_rps_on": cpu["rps_on"][0],
        "c16_rps_off": cpu["rps_off"][0],
        "p50_on_ms": statistics.median(on_p50) * 1000,
        "p50_off_ms": statistics.median(off_p50) * 1000,
        "added_p50_ms": statistics.median(diffs) * 1000,
        "cpu_on_ms": statistics.median(cpu["on"]) * 1000,
        "cpu_off_ms": statistics.median(cpu["off"]) * 1000,
    }


def verify_cost(url: str, entries: int) -> dict[str, float]:
    migrate.upgrade(url)
    engine = make_engine(url)
    log = AuditLog(engine, signer=Signer.generate("bench"), origin="bench")
    started = time.perf_counter()
    batch = 10_000
    for start in range(0, entries, batch):
        decisions = {"pii": {"redacted": {"EMAIL_ADDRESS": 1}}, "emotion": {"emotion": "neutral", "intensity": 0.2}}
        events = [
            pending(RequestEvent(request_id=uuid.uuid4().hex, endpoint="chat", status=200, tenant="acme", subject="a" * 64, latency_ms=12.5, decisions=decisions))
            for _ in range(min(batch, entries - start))
        ]
        log.store.add_pending(events)
        log.store.integrate_all(batch)
        if (start // batch) % 10 == 9:
            print(f"  wrote {start + batch:,} entries ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    write_s = time.perf_counter() - started
    log.checkpoint_sync()
    report = verify_log(log.store, log.verifiers, origin=log.origin)
    assert report.ok, [str(p) for p in report.problems[:5]]
    engine.dispose()
    return {"entries": report.entries, "write_s": write_s, "verify_s": report.seconds, "rate": report.entries / report.seconds}


def _pg_database() -> tuple[str, Any] | None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"bedside_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not available ({type(exc).__name__}); skipping it", file=sys.stderr)
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", (admin, name)


def _drop(handle: Any) -> None:
    admin, name = handle
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per app per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries for the verify run (0: skip it)")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    from proxy.logs import configure_logging

    configure_logging("warning")
    rows: list[tuple[str, dict[str, float]]] = []
    verify_rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows.append(("sqlite", asyncio.run(per_request(tmp, (None, None), args.requests, args.rounds))))
        if args.entries:
            verify_rows.append(("sqlite", verify_cost(f"sqlite:///{tmp / 'verify.db'}", args.entries)))
        if not args.no_pg:
            dbs = [_pg_database(), _pg_database()]
            if all(dbs):
                try:
                    on_url, off_url = dbs[0][0], dbs[1][0]  # type: ignore[index]  # both present (all(dbs))
                    rows.append(("postgresql", asyncio.run(per_request(tmp / "pg", (on_url, off_url), args.requests, args.rounds))))
                    if args.entries:
                        verify_rows.append(("postgresql", verify_cost(off_url, args.entries)))  # the audit-off app wrote no entries
                finally:
                    for db in dbs:
                        if db:
                            _drop(db[1])
    print(f"\nAudit cost per request (in process, {args.rounds} rounds x {args.requests} requests; target <= {TARGET_MS} ms added p50)")
    header = f"{'database':<12} {'p50 off ms':>10} {'p50 on ms':>10} {'added ms':>9} {'CPU off ms':>11} {'CPU on ms':>10}"
    print(header + f" {'c16 CPU off':>12} {'c16 CPU on':>11} {'c16 req/s off':>14} {'c16 req/s on':>13}")
    for name, r in rows:
        print(
            f"{name:<12} {r['p50_off_ms']:>10.3f} {r['p50_on_ms']:>10.3f} {r['added_p50_ms']:>9.3f} {r['cpu_off_ms']:>11.3f} {r['cpu_on_ms']:>10.3f}"
            f" {r['c16_cpu_off_ms']:>12.3f} {r['c16_cpu_on_ms']:>11.3f} {r['c16_rps_off']:>14.0f} {r['c16_rps_on']:>13.0f}"
        )
    if verify_rows:
        print("\nbedside audit verify (verify_log) over a log written through the sequencer")
        print(f"{'database':<12} {'entries':>10} {'write s':>9} {'verify s':>9} {'entries/s':>10}")
        for name, v in verify_rows:
            print(f"{name:<12} {int(v['entries']):>10,} {v['write_s']:>9.1f} {v['verify_s']:>9.1f} {v['rate']:>10,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

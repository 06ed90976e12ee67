"""Scale-out proof: 1, 2 and 4 ``bedside serve`` replicas on one PostgreSQL behave as one Bedside.

    python bench/scale.py            # 1, 2, 4 replicas; 20 s of mixed traffic per point; the faults (~6 min)
    python bench/scale.py --quick    # 1 and 2 replicas, 8 s per point, the same checks and faults (< 3 min)
    python bench/scale.py --database-url postgresql+psycopg://...   # an existing, empty database (no restart fault)

Starts a throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl``, its own port), the demo and fast
upstreams, and the replicas (``bench/scale_cluster.py``: exactly a replica's settings, its own
empty data directory). Then, with the mixed workload of ``bench/scale_workload.py`` spread over the
replicas by ``bench/scale_client.py``:

1. all replicas start at once; throughput with the traffic spread over the first 1, 2 (and 4):
   operations per second, latency, replica CPU per operation;
2. a consent withdrawal, a memory deletion and an erasure made through one replica, then the next
   request on every other replica (honoured at once?), and a second erasure right after on another
   replica (nothing left?);
3. faults, each under traffic: PostgreSQL stopped for a few seconds and started again; SIGTERM to
   one replica (it drains); kill -9 of another (at least one replica carries on);
4. once every replica has stopped: ``bedside audit verify``; every answer an OpenAI endpoint gave
   has exactly one audit ``request`` entry (by request id), and no entry is there twice; the
   outcome facts count every answered chat request once; no personal value reached the model.

Prints one table of checks (and the throughput table) and exits 1 if any check failed. Run it with
``nice`` on a shared machine; the figures are wall-clock and CPU seconds on the same cores as the
client and the upstreams, with the load average beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_client import DB_TAIL_SECONDS, Client, Window
from bench.scale_cluster import Cluster, Ledger, Replica, recorded, subjects, upstream_processes
from bench.scale_workload import Tally, Workload, erasure_leaves_nothing, honoured_everywhere
from proxy.testing import ThrowawayPostgres

#: a request answered by a replica this long before its kill -9 may lose its queued audit entry and outcome
KILL_WINDOW_SECONDS = 1.0


class Report:
    def __init__(self) -> None:
        self.rows: list[tuple[str, bool, str]] = []

    def add(self, check: str, ok: bool, detail: str) -> None:
        self.rows.append((check, ok, detail))
        print(f"  {'ok  ' if ok else 'FAIL'} {check}: {detail}", flush=True)

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.rows)

    def table(self) -> str:
        width = max(len(c) for c, _, _ in self.rows)
        lines = [f"{'check':<{width}}  result  detail", f"{'-' * width}  ------  ------"]
        lines += [f"{c:<{width}}  {'pass' if ok else 'FAIL':<6}  {d}" for c, ok, d in self.rows]
        return "\n".join(lines)


async def measure(client: Client, tally: Tally, replicas: list[Replica], users: int, seconds: float, seed: int) -> dict[str, float]:
    first = len(client.calls)
    cpu0 = sum(r.cpu_seconds() for r in replicas)
    proc0, wall0 = time.process_time(), time.monotonic()
    await Workload(client, tally, seed=seed).run(users, seconds)
    wall = time.monotonic() - wall0
    calls = client.calls[first:]
    cpu = sum(r.cpu_seconds() for r in replicas) - cpu0
    latencies = sorted(c.seconds * 1000 for c in calls)
    return {
        "replicas": len(replicas),
        "ops": len(calls),
        "ops_per_s": len(calls) / wall,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] if latencies else 0.0,
        "replica_cpu_ms_per_op": cpu * 1000 / max(len(calls), 1),
        "replica_cpu_cores": cpu / wall,
        "client_cpu_s": time.process_time() - proc0,
    }


async def under_traffic(client: Client, tally: Tally, users: int, seconds: float, seed: int, fault: object) -> None:
    traffic = asyncio.create_task(Workload(client, tally, seed=seed).run(users, seconds))
    await asyncio.sleep(min(1.5, seconds / 4))
    await fault  # type: ignore[misc]
    await traffic


async def run(args: argparse.Namespace, cluster: Cluster, pg: ThrowawayPostgres | None, demo_url_owner: object, report: Report) -> list[dict[str, float]]:
    counts = [1, 2] if args.quick else [1, 2, 4]
    users, seconds = (6, 8.0) if args.quick else (12, 20.0)
    tally = Tally()
    figures: list[dict[str, float]] = []
    async with Client(cluster) as client:
        total = max(3, counts[-1])  # two faults end a replica each; one must carry on
        started = time.monotonic()
        cluster.start(total)
        cpu = [r.cpu_seconds() for r in cluster.live()]
        print(f"{total} replicas ready in {time.monotonic() - started:.1f} s (started at once; CPU to start: {', '.join(f'{c:.1f}' for c in cpu)} s)", flush=True)
        print("throughput", flush=True)
        for n in counts:
            client.mark(f"throughput with {n}")
            client.pool = cluster.live()[:n]
            await Workload(client, tally, seed=100 + n).run(2, 1.5)  # warm-up: first requests load lazily built pieces
            figures.append(await measure(client, tally, client.pool, users, seconds, seed=n))
            print(f"  {n} replica(s): {figures[-1]['ops_per_s']:.1f} ops/s", flush=True)
        client.pool = None
        print("cross-replica checks", flush=True)
        client.mark("cross-replica checks")
        lags = await honoured_everywhere(client, tally)
        for change, detail in lags.items():
            report.add(f"{change} through one replica honoured by the others", detail.startswith("next request"), detail)
        residue = await erasure_leaves_nothing(client, tally)
        report.add("erasure, repeated a second later on another replica, leaves nothing", residue is not None, residue or "facts were still there after the repeat")

        print("faults", flush=True)
        fault_users, fault_seconds = (4, 7.0) if args.quick else (8, 15.0)
        if pg is not None:
            window = Window(time.monotonic())

            async def restart() -> None:
                client.mark("PostgreSQL down")
                window.down_at = time.monotonic()
                client.db_windows.append(window)
                await asyncio.to_thread(pg.stop)
                await asyncio.sleep(args.db_down_seconds)
                await asyncio.to_thread(pg.start)
                window.up_at = time.monotonic()
                client.mark("PostgreSQL up")

            first = len(client.calls)
            await under_traffic(client, tally, fault_users, 1.5 + args.db_down_seconds + DB_TAIL_SECONDS + 3, 201, restart())
            during = client.calls[first:]
            kind = [c for c in during if c.status == 503 and client.expected(c)]
            after = [c for c in during if c.started > (window.up_at or 0) + DB_TAIL_SECONDS]
            report.add(
                "PostgreSQL restart: kind 503s while down, served again after",
                bool(after) and all(c.status < 500 for c in after),
                f"down {args.db_down_seconds:.0f} s: {len(kind)} kind 503s ({', '.join(sorted({str(c.code) for c in kind})) or 'none'}), "
                f"{sum(c.status == 200 for c in during)} of {len(during)} calls answered 200, {len(after)} calls after reconnect all < 500",
            )
        victim = cluster.live()[0]
        exit_code: list[int | None] = []

        async def sigterm() -> None:
            client.mark(f"SIGTERM to replica {victim.index}")
            cluster.sigterm(victim)
            exit_code.append(await asyncio.to_thread(cluster.wait, victim, cluster.grace + 15))

        first = len(client.calls)
        await under_traffic(client, tally, fault_users, fault_seconds, 202, sigterm())
        during = client.calls[first:]
        on_victim = [c for c in during if c.replica == victim.index]
        report.add(
            "SIGTERM: the replica drains and exits 0, nothing cut",
            exit_code == [0] and not any(c.broken_stream for c in during),
            f"exit {exit_code[0]}, {len(on_victim)} calls answered by it during the fault, {sum(c.attempts > 1 for c in during)} retried elsewhere, "
            f"{sum(c.broken_stream for c in during)} streams cut",
        )
        victim = cluster.live()[0]
        killed_at: list[float] = []

        async def kill() -> None:
            client.mark(f"kill -9 of replica {victim.index}")
            client.killed.add(victim.index)
            cluster.kill(victim)
            killed_at.append(time.monotonic())
            await asyncio.to_thread(cluster.wait, victim, 10)

        first = len(client.calls)
        await under_traffic(client, tally, fault_users, fault_seconds, 203, kill())
        during = client.calls[first:]
        report.add(
            "kill -9: the others carry on",
            all(client.expected(c) for c in during),
            f"{sum(c.broken_stream for c in during)} answers cut with the process, {sum(c.attempts > 1 for c in during)} calls retried elsewhere",
        )
    cluster.stop_all()
    await verify(client, tally, cluster, killed_at[0] if killed_at else None, victim.index, report, demo_url_owner)
    return figures


async def verify(client: Client, tally: Tally, cluster: Cluster, killed_at: float | None, killed: int, report: Report, demo: object) -> None:
    failures = client.failures()
    by = sorted({f"{c.op} {c.status} {c.code or ''}".strip() for c in failures})
    for c in failures[:10]:
        cut = f" cut: {c.message}" if c.broken_stream else ""
        print(f"  unexpected: {c.op} {c.status} {c.code or ''} on replica {c.replica} ({client.when(c)}, {c.seconds:.2f} s, {c.attempts} attempt(s)){cut}", flush=True)
    for replica in cluster.ended:
        if any(c.replica == replica.index for c in failures):
            for line in replica.error_lines():
                print(f"  replica {replica.index} logged: {line}", flush=True)
    report.add("no request failed that should not have", not failures, f"{len(client.calls)} calls, {len(failures)} unexpected failures {by[:5] if by else ''}".strip())
    for name in sorted(set(tally.content) | set(tally.problems)):
        bad = tally.problems[name]
        report.add(name, bad == 0, f"{tally.content[name]} held, {bad} did not")
    ok, line = cluster.audit_verify()
    report.add("bedside audit verify over every replica's entries", ok, line)
    ledger = Ledger(cluster.database_url)
    try:
        entries = ledger.request_ids()
        answered = {c.request_id: c for c in client.calls if c.request_id}
        missing = [c for rid, c in answered.items() if rid not in entries]
        excused = [c for c in missing if killed_at is not None and c.replica == killed and c.started + c.seconds >= killed_at - KILL_WINDOW_SECONDS]
        doubled = [rid for rid, n in entries.items() if n > 1]
        report.add(
            "every answered request has exactly one audit entry",
            not doubled and len(missing) == len(excused),
            f"{len(answered)} answered, {len(missing)} without an entry ({len(excused)} answered by the killed replica in its last {KILL_WINDOW_SECONDS:.0f} s), "
            f"{len(doubled)} twice, {len(set(entries) - set(answered))} entries for requests whose answer the client never got",
        )
        key = subjects(cluster.root)
        counted = ledger.outcome_requests()
        lost_with_kill = sum(1 for c in excused if c.op.startswith("chat") or c.op == "responses")
        short, doubled, late = 0, 0, 0
        for (tenant, user), answered_ok in tally.chat_ok.items():
            before_erasure = tally.erased.get((tenant, user), 0)
            have = counted.get(key.subject(tenant, user), 0)
            want = answered_ok - before_erasure  # an erasure deletes what came before it
            if have < want:
                short += want - have
                explain_short(client, tally, tenant, user, have, want, entries)
            elif have > want and (tenant, user) in tally.erased:
                late += have - want  # written after the erasure: its fence should have dropped them
            elif have > want:
                doubled += have - want
        # a request the server finished but whose answer the client never got (cut, or retried elsewhere) is counted by the server only
        unseen = sum(1 for c in client.calls if (c.op.startswith("chat") or c.op == "responses") and (c.broken_stream or c.attempts > 1))
        report.add(
            "outcome facts count each answered request once",
            short <= lost_with_kill and doubled <= unseen and late == 0,
            f"{sum(counted.values())} counted, {sum(tally.chat_ok.values()) - sum(tally.erased.values())} answered and not erased (chat and Responses); {short} missing (up to {lost_with_kill} "
            f"lost with the killed replica); {doubled} more than answered (up to {unseen} cut or retried); {late} of erased users written after "
            "their erasure (the fence: none)",
        )
    finally:
        ledger.close()
    bodies = str(recorded(demo))  # type: ignore[arg-type]
    leaked = sorted(v for v in tally.values if v in bodies)
    report.add("no personal value reached the model", not leaked, f"{len(tally.values)} values sent, {len(leaked)} seen by the model")


def explain_short(client: Client, tally: Tally, tenant: str, user: str, have: int, want: int, entries: dict[str, int]) -> None:
    """Prints the calls of a user whose outcome facts count fewer requests than were answered."""
    print(f"  short: {tenant}/{user} has {have} requests counted, {want} expected (erased after {tally.erased.get((tenant, user), 'never')})", flush=True)
    for c in tally.answered.get((tenant, user), []):
        audited = "audited" if c.request_id in entries else "no audit entry"
        print(f"    {c.op} on replica {c.replica} ({client.when(c)}, {c.seconds:.2f} s, {c.attempts} attempt(s), {audited})", flush=True)


def print_throughput(figures: list[dict[str, float]]) -> None:
    print("\nthroughput (mixed workload; client, upstreams and replicas share the machine's cores)")
    print(f"{'replicas':>8}  {'ops':>6}  {'ops/s':>7}  {'p50 ms':>7}  {'p95 ms':>7}  {'replica CPU ms/op':>17}  {'replica cores busy':>18}  {'client CPU s':>12}")
    for f in figures:
        print(
            f"{f['replicas']:>8.0f}  {f['ops']:>6.0f}  {f['ops_per_s']:>7.1f}  {f['p50_ms']:>7.1f}  {f['p95_ms']:>7.1f}  "
            f"{f['replica_cpu_ms_per_op']:>17.1f}  {f['replica_cpu_cores']:>18.2f}  {f['client_cpu_s']:>12.1f}"
        )
    print(f"cores: {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 and 2 replicas, short runs (< 3 minutes)")
    parser.add_argument("--database-url", help="an existing, empty PostgreSQL database instead of a throwaway cluster (no restart fault)")
    parser.add_argument("--db-down-seconds", type=float, default=3.0, help="how long PostgreSQL stays down in the restart fault")
    args = parser.parse_args()
    started = time.monotonic()
    report = Report()
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bedside-scale-")))
        pg = None if args.database_url else stack.enter_context(ThrowawayPostgres())
        url = args.database_url or (pg.url if pg is not None else "")
        demo, fast = upstream_processes(root)
        stack.enter_context(demo)
        stack.enter_context(fast)
        cluster = Cluster(root, url, demo.url + "/v1", fast.url + "/v1", grace=10.0)
        cluster.prepare()
        stack.callback(cluster.stop_all)
        figures = asyncio.run(run(args, cluster, pg, demo, report))
    print_throughput(figures)
    print(f"\nchecks ({time.monotonic() - started:.0f} s in all, CPU of this process {time.process_time():.1f} s)")
    print(report.table())
    print("\nALL CHECKS PASSED" if report.ok else "\nSOME CHECKS FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

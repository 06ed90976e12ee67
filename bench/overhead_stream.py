"""Streaming with every feature on: Bedside pass-through and Bedside's default policy beside the floor.

    python bench/overhead_stream.py [--quick] [--duration S] [--warmup S] [--stream-concurrency 1,16]
                                    [--rounds N] [--chunk-gap-ms MS] [--distinct N] [--json PATH]

``bench/overhead.py`` runs this after its own tables (``--no-stream-configs`` skips it); it also
runs on its own. Five processes, stopped at the end (also on Ctrl+C): ``fast_upstream.py`` (the
22-event stream, ``--chunk-gap-ms`` apart) on core 1 with the load generator; on core 0, never
loaded at the same time, the floor (``floor.py``) and two Bedside servers:

* **pass-through**: a policy directory with one policy that switches everything off (no persona,
  emotion, tone, PII, rails or outcomes): the policy stage only;
* **default policy**: ``policies/`` as shipped; the request names ``gpt-4o-mini``, so
  ``default.yaml`` (extending ``_base.yaml``) serves it: emotion and tone, PII pseudonymised and
  restored with model-made PII masked, the input rails and the output rails (forbidden phrases,
  persona drift, system-prompt leak) over the streamed reply.

For each stream concurrency and target ``bench/load.py`` streams the ~70-word chat request;
TTFT is the time to the first SSE event with non-empty ``delta.content``. Printed: streams/s and
its share of the floor's, TTFT p50/p99 added over direct, total time added, the proxy's CPU time
per stream; then the issue's targets (added TTFT <= 3 ms at every concurrency, streams/s >= 1.0x the
floor's with the default policy) with MET / MISSED. With ``--rounds N`` each point is measured N
times, interleaved, and per concurrency one undisturbed round (the floor's median) is shown for every target.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from overhead import (  # noqa: E402 - the bench directory is not a package
    NOISE_LIMIT,
    PY,
    ROOT,
    Proc,
    _cpu_us,
    _us,
    added,
    annotate,
    cpu_model,
    fmt_ms,
    fmt_pct,
    free_port,
    git_revision,
    progress_line,
    render,
    run_point,
    smoke,
)
from overhead_report import same_round  # noqa: E402 - the bench directory is not a package

GOAL_ADDED_TTFT_MS = 3.0
GOAL_STREAM_SHARE = 1.0
#: measured targets, in the order they are run at each point
TARGETS = ("direct", "floor", "passthrough", "default")
LABEL = {"direct": "direct", "floor": "floor", "passthrough": "Bedside pass-through", "default": "Bedside default policy"}
PASSTHROUGH_POLICY = """\
description: Pass-through for the benchmark; every feature off, the policy stage only.
owner: bench
outcomes: {enabled: false}
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Streaming TTFT and streams/s: floor, Bedside pass-through, Bedside default policy, one run.")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 s per point after 0.3 s warm-up")
    p.add_argument("--duration", type=float, default=None, help="measured seconds per point (default 4; --quick 1)")
    p.add_argument("--warmup", type=float, default=None, help="unmeasured seconds before each point (default 1; --quick 0.3)")
    p.add_argument("--stream-concurrency", default="1,16", help="concurrent streams (default 1,16)")
    p.add_argument("--chunk-gap-ms", type=float, default=1.0, help="fake model's pause between stream events (default 1)")
    p.add_argument("--distinct", type=int, default=1, help="distinct request bodies, cycled (default 1: the input stages read each message once, so the streaming path is what is measured)")
    p.add_argument("--rounds", type=int, default=1, help="measure every point N times (interleaved); show one undisturbed round per concurrency")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to cores")
    p.add_argument("--json", default=None, metavar="PATH", help="also write the figures as JSON")
    args = p.parse_args(argv)
    return finish_args(args, p)


def finish_args(args: argparse.Namespace, p: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    args.duration = args.duration if args.duration is not None else (1.0 if args.quick else 4.0)
    args.warmup = args.warmup if args.warmup is not None else (0.3 if args.quick else 1.0)
    args.sconcs = [int(x) for x in str(args.stream_concurrency).split(",") if x.strip()]
    args.py_spy = None
    if p is not None and (not args.sconcs or not 1 <= args.rounds <= 10 or not all(1 <= c <= 1024 for c in args.sconcs)):
        p.error("--stream-concurrency takes integers 1-1024, --rounds 1-10")
    return args


def _row_cells(results: dict[tuple[int, str], dict[str, Any]], conc: int) -> dict[str, Any]:
    row: dict[str, Any] = {t: results.get((conc, t)) for t in TARGETS}
    row["conc"] = conc
    return row


def _added(row: dict[str, Any], who: str, key: str, pct: str) -> str:
    r, d = row.get(who), row.get("direct")
    if not r or not d or not r.get(key) or not d.get(key):
        return "-"
    return fmt_ms(added(r, d, key, pct), True)


def _share(row: dict[str, Any], who: str) -> str:
    r, f = row.get(who), row.get("floor")
    if not r or not f or not f["rps"]:
        return "-"
    return f"{r['rps'] / f['rps']:.2f}x"


def _others(row: dict[str, Any]) -> str:
    vals = [r["other_cpu"] for t in TARGETS if (r := row.get(t)) and r.get("other_cpu") is not None]
    return fmt_pct(max(vals)) if vals else "-"


def table(results: dict[tuple[int, str], dict[str, Any]], concs: list[int]) -> list[str]:
    """One row per concurrency; per target streams/s (and share of the floor's), added TTFT p50/p99,
    added total p50, CPU time per stream."""
    cols: list[Any] = [("", "conc", 5, lambda row: str(row["conc"]))]
    cols += [
        ("direct", "str/s", 6, lambda row: "-" if not row.get("direct") else f"{row['direct']['rps']:,.0f}"),
        ("direct", "TTFT50", 6, lambda row: "-" if not (row.get("direct") or {}).get("ttft") else fmt_ms(row["direct"]["ttft"]["p50"])),
    ]
    for who in TARGETS[1:]:
        g = LABEL[who]
        cols += [
            (g, "str/s", 6, lambda row, w=who: "-" if not row.get(w) else f"{row[w]['rps']:,.0f}"),
            (g, "share", 5, lambda row, w=who: "1.00x" if w == "floor" and row.get(w) else _share(row, w)),
            (g, "+TTFT50", 7, lambda row, w=who: _added(row, w, "ttft", "p50")),
            (g, "+TTFT99", 7, lambda row, w=who: _added(row, w, "ttft", "p99")),
            (g, "+tot50", 6, lambda row, w=who: _added(row, w, "lat", "p50")),
            (g, "us/str", 6, lambda row, w=who: _us(_cpu_us(row.get(w)))),
        ]
    cols.append(("", "other", 5, _others))
    return render(cols, [_row_cells(results, c) for c in concs])


def verdicts(results: dict[tuple[int, str], dict[str, Any]], concs: list[int]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for c in concs:
        d, b, f = results.get((c, "direct")), results.get((c, "default")), results.get((c, "floor"))
        if d and b and d.get("ttft") and b.get("ttft"):
            a = added(b, d, "ttft", "p50")
            assert a is not None
            rows.append((f"default policy: added TTFT p50 <= {GOAL_ADDED_TTFT_MS:g} ms, {c} stream(s)", f"{a:+.2f} ms", "MET" if a <= GOAL_ADDED_TTFT_MS else "MISSED"))
        if b and f and f["rps"]:
            share = b["rps"] / f["rps"]
            measured = f"{share:.2f}x ({b['rps']:,.0f} / {f['rps']:,.0f})"
            rows.append((f"default policy: streams/s >= {GOAL_STREAM_SHARE:.1f}x the floor's (2% noise), c={c}", measured, "MET" if share >= GOAL_STREAM_SHARE - 0.02 else "MISSED"))
    return rows


def run(args: argparse.Namespace) -> int:
    """Start the processes, measure, print; returns the exit code."""
    cores = sorted(os.sched_getaffinity(0))
    if getattr(args, "no_pin", False) or len(cores) < 2:
        proxy_core = load_core = None
    else:
        proxy_core, load_core = cores[0], cores[1]
        os.sched_setaffinity(0, {load_core})
    tmp = Path(tempfile.mkdtemp(prefix="bedside-stream-bench-"))
    (tmp / "passthrough-policies").mkdir()
    (tmp / "passthrough-policies" / "default.yaml").write_text(PASSTHROUGH_POLICY)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    up_port = free_port()
    ports = {"direct": up_port, "floor": free_port(), "passthrough": free_port(), "default": free_port()}

    def bedside(name: str, policies: Path) -> Proc:
        bed_env = dict(env)
        for key in ("BEDSIDE_DEMO", "BEDSIDE_UPSTREAM_URL", "BEDSIDE_UPSTREAMS", "BEDSIDE_POLICY__DIRECTORY", "BEDSIDE_POLICY__ENABLED"):
            bed_env.pop(key, None)
        bed_env.update(
            BEDSIDE_UPSTREAMS=json.dumps([{"name": "fast", "base_url": f"http://127.0.0.1:{up_port}/v1"}]),
            BEDSIDE_DATA_DIR=str(tmp / f"data-{name}"),
            BEDSIDE_LOG__LEVEL="warning",
            BEDSIDE_POLICY__DIRECTORY=str(policies),
            LITELLM_LOCAL_MODEL_COST_MAP="True",
            BEDSIDE_QUICKSTART="1",
        )
        argv = [PY, "-m", "proxy.cli", "serve", "--host", "127.0.0.1", "--port", str(ports[name])]
        return Proc(LABEL[name], argv, ports[name], proxy_core, tmp / f"{name}.log", bed_env, cwd=tmp)

    procs = {
        "direct": Proc("fast upstream", [PY, str(BENCH / "fast_upstream.py"), "--port", str(up_port), "--chunk-gap-ms", str(args.chunk_gap_ms)], up_port, load_core, tmp / "upstream.log", env),
        "floor": Proc("floor", [PY, str(BENCH / "floor.py"), "--upstream", f"http://127.0.0.1:{up_port}", "--port", str(ports["floor"])], ports["floor"], proxy_core, tmp / "floor.log", env),
        "passthrough": bedside("passthrough", tmp / "passthrough-policies"),
        "default": bedside("default", ROOT / "policies"),
    }
    print(f"Streaming, every feature on vs off: {git_revision()}; {cpu_model()}; load average {os.getloadavg()[0]:.2f}")
    print(f"  {args.warmup:g} s warm-up + {args.duration:g} s per point; fake model streams 22 events {args.chunk_gap_ms:g} ms apart; proxies on core {proxy_core}, load on core {load_core}")
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
    failed = interrupted = False
    try:
        for proc in procs.values():
            proc.start()
        for proc in procs.values():
            proc.wait_ready()
        for target in TARGETS:
            smoke(ports[target], LABEL[target])
        plan = [(r, c, t) for r in range(1, args.rounds + 1) for c in args.sconcs for t in TARGETS]
        for i, (rnd, conc, target) in enumerate(plan, 1):
            proc = procs[target]
            watch = [proc.pid] if target == "direct" else [proc.pid, procs["direct"].pid]
            print(f"[{i:>2}/{len(plan)}] {f'round {rnd} ' if args.rounds > 1 else ''}streaming c={conc:<3} {LABEL[target]:<23} ", end="", flush=True)
            res = run_point(ports[target], conc, True, args, load_core, watch)
            annotate(res, "direct" if target == "direct" else "bedside", proc.pid, procs["direct"].pid, proxy_core, load_core)
            runs.setdefault((conc, target), []).append(res)
            print(progress_line(res, "sse"), flush=True)
            if proc.popen is not None and proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} died during the run:\n{proc.tail()}")
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: stopping the processes and printing what was measured", file=sys.stderr)
    except RuntimeError as exc:
        failed = True
        print(f"\nstreaming bench failed: {exc}", file=sys.stderr)
    finally:
        for proc in reversed(list(procs.values())):
            proc.stop()
        if failed:
            print(f"process logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        return 1
    results = same_round(runs, NOISE_LIMIT)
    print()
    print("Streaming SSE, pass-through and default policy: str/s (share = of the floor's); TTFT = first content chunk,")
    print("  tot = last byte, ms added over direct; us/str = the proxy's CPU time per stream")
    print("\n".join(table(results, args.sconcs)))
    rows = verdicts(results, args.sconcs)
    if rows:
        print("Streaming targets from the issue")
        for goal, measured, verdict in rows:
            print(f"  {goal:<58} {measured:<26} {verdict}")
    noisy = [r["other_cpu"] for r in results.values() if (r.get("other_cpu") or 0) > NOISE_LIMIT]
    if noisy:
        print(f"  WARNING: other processes used up to {max(noisy):.0%} of a core beside the measured ones on {len(noisy)} of {len(results)} points: the figures are disturbed")
    if getattr(args, "json", None):
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        doc = {"revision": git_revision(), "targets": [{"goal": g, "measured": m, "verdict": v} for g, m, v in rows], "points": [{"concurrency": c, "target": t, **r} for (c, t), r in results.items()]}
        out.write_text(json.dumps(doc, indent=2) + "\n")
        print(f"figures written to {out}")
    return 130 if interrupted else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise_interrupt)
    return run(args)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())

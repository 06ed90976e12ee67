"""Does the emotion read hide behind the PII analysis? Added p50 through HTTP, PII on (issue 16).

    python bench/emotion_overlap.py [--duration S] [--warmup S] [--rounds N] [--no-http] [--no-threads]

**Through HTTP.** The fake upstream (``fast_upstream.py``) and four Bedside servers (``python -m
proxy.cli serve``), all on free loopback ports: the shipped policies (``policies/``: a request for
``gpt-4o-mini`` gets ``default.yaml``: persona, emotion and tone, PII with NER, rails) with
``emotion.classifier`` ``builtin`` (the default reader) or ``contextual``, each with the overlap on
(``pii.overlap``, the default: the emotion stage starts the PII analysis just before its model read)
and off (sequential: the read, then the analysis, as before). ``load.py``'s two scenarios at
concurrency 1, one closed-loop connection: **new first turn** (a ~150-word first message never sent
before, so both the read and the analysis with NER run) and **turn 20** (19 earlier turns resent,
one new ~30-word turn). Every point is measured ``--rounds`` times, interleaved; the added p50 of a
round is the server's p50 minus the direct p50 (client -> fake upstream) of the same round, and
the median over rounds is printed, with the per-stage means from Bedside's own
``bedside_stage_seconds``. Nothing is pinned: the overlap needs a second core (the load generator
and the fake upstream are idle while a request is inside Bedside at concurrency 1).

**In process (threads).** The PII analysis of a new first turn (Presidio with spaCy NER, as the PII
stage runs it) and one emotion read of the same text, each alone and both at once on two threads:
how much of the shorter one hides behind the longer shows how much of each holds the GIL.

Target (issue 16): with the overlap, contextual's added p50 minus the default reader's <= 3 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))
from overhead import PY, Proc, cpu_model, free_port, git_revision, migrate_first, run_point  # noqa: E402
from overhead_report import SCENARIO_DISTINCT, stage_means, stage_totals  # noqa: E402

READERS = ("builtin", "contextual")
MODES = ("sequential", "overlap")
SCENARIOS = {"first-turn": "new first turn", "turn20": "turn 20"}
TARGET_MS = 3.0


def policy_dir(tmp: Path, reader: str) -> Path:
    """The shipped policies with ``emotion.classifier: reader`` (set in ``_base.yaml``)."""
    out = tmp / f"policies-{reader}"
    shutil.copytree(ROOT / "policies", out, ignore=shutil.ignore_patterns("tests"))
    base = out / "_base.yaml"
    text = base.read_text()
    assert "  classifier: builtin" in text, "policies/_base.yaml no longer names the emotion reader"
    base.write_text(text.replace("  classifier: builtin", f"  classifier: {reader}", 1))
    return out


def servers(tmp: Path, up_port: int) -> dict[tuple[str, str], Proc]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    upstream = f'[{{"name": "fast", "base_url": "http://127.0.0.1:{up_port}/v1", "models": ["gpt-4o-mini"]}}]'
    procs = {}
    for reader in READERS:
        pdir = policy_dir(tmp, reader)
        for mode in MODES:
            port = free_port()
            bed = dict(env, BEDSIDE_UPSTREAMS=upstream, BEDSIDE_DATA_DIR=str(tmp / f"data-{reader}-{mode}"), BEDSIDE_LOG__LEVEL="warning",
                       BEDSIDE_QUICKSTART="1", BEDSIDE_POLICY__DIRECTORY=str(pdir), BEDSIDE_PII__OVERLAP="true" if mode == "overlap" else "false")
            for name in ("BEDSIDE_DEMO", "BEDSIDE_UPSTREAM_URL"):
                bed.pop(name, None)
            migrate_first(bed, tmp)
            argv = [PY, "-m", "proxy.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
            procs[(reader, mode)] = Proc(f"Bedside {reader} {mode}", argv, port, None, tmp / f"{reader}-{mode}.log", bed, cwd=tmp)
    return procs


def http_table(args: argparse.Namespace) -> list[str]:
    tmp = Path(tempfile.mkdtemp(prefix="bedside-overlap-"))
    up_port = free_port()
    env = dict(os.environ)
    upstream = Proc("fast upstream", [PY, str(BENCH / "fast_upstream.py"), "--port", str(up_port)], up_port, None, tmp / "upstream.log", env)
    procs = servers(tmp, up_port)
    added: dict[tuple[str, str, str], list[float]] = {}
    stages: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    direct: dict[str, list[float]] = {}
    try:
        for proc in (upstream, *procs.values()):
            proc.start()
        for proc in (upstream, *procs.values()):
            proc.wait_ready(timeout=180)
        point = 0
        for rnd in range(1, args.rounds + 1):
            for scenario, label in SCENARIOS.items():
                point += 1
                base = run_point(up_port, 1, False, args, None, [upstream.pid], scenario=scenario, offset=point * SCENARIO_DISTINCT)
                direct.setdefault(scenario, []).append(base["lat"]["p50"])
                for (reader, mode), proc in procs.items():
                    point += 1
                    before = stage_totals(proc.port)
                    res = run_point(proc.port, 1, False, args, None, [proc.pid, upstream.pid], scenario=scenario, offset=point * SCENARIO_DISTINCT)
                    if res["errors"]:
                        raise RuntimeError(f"{proc.name}: {res['errors']} failed requests, e.g. {res['error_samples'][:1]}")
                    added.setdefault((scenario, reader, mode), []).append(res["lat"]["p50"] - base["lat"]["p50"])
                    per = stage_means(before, stage_totals(proc.port)) or {}
                    per["cpu"] = float((res.get("cpu") or {}).get(str(proc.pid)) or 0.0) / max(res["rps"], 1e-9) * 1e6  # the server's CPU per request, us
                    stages.setdefault((scenario, reader, mode), []).append(per)
                    print(f"  round {rnd} {label:<15} {reader:<10} {mode:<10} added p50 {added[(scenario, reader, mode)][-1]:6.2f} ms", flush=True)
    finally:
        for proc in (*procs.values(), upstream):
            proc.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return render_http(added, stages, direct)


def render_http(added: dict[tuple[str, str, str], list[float]], stages: dict[tuple[str, str, str], list[dict[str, float]]], direct: dict[str, list[float]]) -> list[str]:
    med = {k: statistics.median(v) for k, v in added.items()}
    out = ["| scenario | reader | added p50, sequential | added p50, overlap | emotion + pii stages, seq. / overlap (us) | CPU per request, seq. / overlap (us) "
           "| contextual - default, seq. / overlap |", "|---|---|---:|---:|---:|---:|---:|"]
    for scenario, label in SCENARIOS.items():
        for reader in READERS:
            cells, cpu = [], []
            for mode in MODES:
                per = stages[(scenario, reader, mode)]
                cells.append(statistics.median(p.get("emotion", 0.0) + p.get("pii", 0.0) for p in per))
                cpu.append(statistics.median(p["cpu"] for p in per))
            diff = ""
            if reader == "contextual":
                d = [med[(scenario, "contextual", m)] - med[(scenario, "builtin", m)] for m in MODES]
                diff = f"{d[0]:+.2f} / **{d[1]:+.2f}** ms ({'met' if d[1] <= TARGET_MS else 'NOT met'})"
            out.append(f"| {label} (direct p50 {statistics.median(direct[scenario]):.2f} ms) | {reader} | {med[(scenario, reader, 'sequential')]:.2f} ms "
                       f"| {med[(scenario, reader, 'overlap')]:.2f} ms | {cells[0]:,.0f} / {cells[1]:,.0f} | {cpu[0]:,.0f} / {cpu[1]:,.0f} | {diff} |")
    return out


def _both(a: Any, b: Any) -> float:
    """Wall seconds for ``a()`` and ``b()`` started together on two threads."""
    gate = threading.Barrier(3)
    done: list[float] = []

    def run(fn: Any) -> None:
        gate.wait()
        fn()
        done.append(time.perf_counter())

    threads = [threading.Thread(target=run, args=(fn,)) for fn in (a, b)]
    for t in threads:
        t.start()
    gate.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return max(done) - started


def thread_table(n: int) -> list[str]:
    """Alone vs at once on two threads, in process, median over ``n`` new first turns: the PII
    analysis with NER beside each reader, beside the contextual model's run alone (onnxruntime,
    which releases the GIL), and a control of two model runs at once (no GIL held by either: how
    much parallelism the machine gives right now)."""
    from load import scenario_messages

    from proxy.detectors.emotion import load_classifier
    from proxy.detectors.pii import PiiDetectConfig, PiiDetector
    from proxy.detectors.pii_engine import DEFAULT_MODEL, build_analyzer
    from proxy.detectors.setup import without_unused_libraries
    from proxy.policy import PolicyStore

    with without_unused_libraries():
        detector = PiiDetector(build_analyzer(DEFAULT_MODEL), cache_size=8)
    pii = PolicyStore(ROOT / "policies").current.policies["default"].pii
    config = PiiDetectConfig(entities=tuple(pii.entities), threshold=float(pii.threshold), allow_list=tuple(pii.allow_list))
    texts = [scenario_messages("first-turn", 10000 + i * 7919 % 90000)[-1]["content"] for i in range(n)]
    builtin, contextual = load_classifier("builtin"), load_classifier("contextual")
    model_run = contextual.logits  # type: ignore[attr-defined]  # the onnxruntime run (and its tokenizer) of one turn
    seq = iter(range(10**9))

    def analysis(text: str) -> None:
        detector.analyze(text, config, ("bench", str(next(seq))))  # a new scope each time: never a cache hit

    pairs = [
        ("control: model run + model run (no GIL held)", model_run, model_run),
        ("PII analysis + default read", analysis, builtin.classify),
        ("PII analysis + contextual read", analysis, contextual.classify),
        ("PII analysis + contextual model run only", analysis, model_run),
    ]
    out = ["| at once on two threads | A alone, wall (CPU) | B alone, wall (CPU) | A and B at once, wall | A + B, wall | hidden (of the shorter) |",
           "|---|---:|---:|---:|---:|---:|"]
    for label, a, b in pairs:
        a(texts[0]), b(texts[0])
        rows: dict[str, list[float]] = {"a": [], "b": [], "both": [], "a_cpu": [], "b_cpu": []}
        for text in texts:
            c0, t0 = time.thread_time(), time.perf_counter()
            a(text)
            c1, t1 = time.thread_time(), time.perf_counter()
            b(text)
            rows["a"].append(t1 - t0)
            rows["b"].append(time.perf_counter() - t1)
            rows["a_cpu"].append(c1 - c0)
            rows["b_cpu"].append(time.thread_time() - c1)
            rows["both"].append(_both(lambda t=text, f=a: f(t), lambda t=text, f=b: f(t)))
        p = {k: statistics.median(v) * 1000 for k, v in rows.items()}
        hidden = (p["a"] + p["b"] - p["both"]) / min(p["a"], p["b"])
        out.append(f"| {label} | {p['a']:.2f} ({p['a_cpu']:.2f}) ms | {p['b']:.2f} ({p['b_cpu']:.2f}) ms | {p['both']:.2f} ms | {p['a'] + p['b']:.2f} ms | {hidden:.0%} |")
    turn20 = [scenario_messages("turn20", 10000 + i * 7919 % 90000)[-1]["content"] for i in range(n)]
    cpu = []
    for text in turn20:
        c0 = time.thread_time()
        analysis(text)
        cpu.append(time.thread_time() - c0)
    out.append(f"\nPII analysis of turn 20's new turn (~30 words), CPU p50: {statistics.median(cpu) * 1000:.2f} ms")
    return out


def length_line(n: int = 20) -> str:
    """The contextual model run's CPU time by turn length (tokens; turns are truncated to 128)."""
    from proxy.detectors.emotion import load_classifier

    contextual = load_classifier("contextual")
    cells = []
    for words in (5, 30, 60, 150):
        text = " ".join(["frustrating"] * words)
        tokens = len(contextual._tokenizer.encode(text).ids)  # type: ignore[attr-defined]
        runs = []
        for _ in range(n):
            c0 = time.thread_time()
            contextual.logits(text)  # type: ignore[attr-defined]
            runs.append(time.thread_time() - c0)
        cells.append(f"{tokens} tokens {statistics.median(runs) * 1000:.1f} ms")
    return "Contextual model run (tokenizer + onnxruntime), CPU p50: " + "; ".join(cells)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="The emotion read beside the PII analysis: added p50 with and without the overlap.")
    p.add_argument("--duration", type=float, default=4.0, help="measured seconds per point (default 4)")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each point (default 1)")
    p.add_argument("--rounds", type=int, default=3, help="every point N times, interleaved; the median is shown (default 3)")
    p.add_argument("--samples", type=int, default=200, help="texts for the in-process table (default 200)")
    p.add_argument("--no-http", action="store_true", help="skip the HTTP table")
    p.add_argument("--no-threads", action="store_true", help="skip the in-process table")
    args = p.parse_args(argv)
    args.distinct = 1  # run_point's field; the scenarios vary their own text
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"Emotion read vs PII analysis, {time.strftime('%Y-%m-%d %H:%M')}; {cpu_model()}, {os.cpu_count()} cores, "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}; Bedside {git_revision()}", flush=True)
    if not args.no_threads:
        print(f"\nIn process, two threads (median of {args.samples} new first turns, ~150 words):")
        print("\n".join(thread_table(args.samples)), flush=True)
        print(length_line(), flush=True)
    if not args.no_http:
        print(f"\nThrough HTTP, concurrency 1, {args.warmup:g} s + {args.duration:g} s per point, median of {args.rounds} interleaved rounds:")
        table = http_table(args)
        print("\n".join(table))
        print(f"\nTarget: with the overlap, contextual's added p50 minus the default reader's <= {TARGET_MS:g} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

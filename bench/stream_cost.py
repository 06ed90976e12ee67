"""Bedside's own CPU per streamed reply, in process: the app driven over ASGI, no HTTP server.

    python bench/stream_cost.py [--streams N] [--rounds R] [--concurrency 1,16]
                                [--policies default,passthrough] [--chunk-gap-ms MS] [--profile OUT]

What ``bench/overhead_stream.py`` measures over HTTP, without uvicorn and the load generator, so
the streaming path's own cost can be read on a busy machine: the app is built as ``bedside serve``
builds it (``create_app`` with the settings from the environment, ``DrainingApp`` around it, the
garbage collector tuned the same way, uvloop) and driven by calling it as an ASGI application;
``bench/fast_upstream.py`` runs in a child process (core 1 when there are two) and sends its
22-event stream ``--chunk-gap-ms`` apart, read by Bedside's aiohttp client as in production.

Per policy (``default``: ``policies/`` as shipped, ``gpt-4o-mini`` gets ``default.yaml``;
``passthrough``: ``bench/policies/passthrough``) and concurrency, ``--streams`` streams of
``load.py``'s ~70-word chat request (the same body each time: the input stages' readings are
cached, the streaming path is what is measured) are run, and the process's CPU time
(``time.process_time``: every thread, the audit and outcome writers included) is divided by their
number. Points are interleaved over ``--rounds``; the lowest and the median round are printed. Each
stream's text is checked against the upstream's reply. ``--profile OUT`` writes a cProfile of one
more default-policy round at the highest concurrency.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from fast_upstream import REPLY_WORDS  # noqa: E402
from load import chat_body  # noqa: E402

POLICY_DIRS = {"default": ROOT / "policies", "passthrough": BENCH / "policies" / "passthrough"}
EXPECTED = " ".join(REPLY_WORDS)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_app(policy: str, up_port: int, data_dir: Path) -> Any:
    """The ASGI app ``bedside serve`` would run for ``policy`` (settings from the environment)."""
    from proxy.api.drain import DrainingApp
    from proxy.app import create_app
    from proxy.cli.common import configure_cli_logging
    from proxy.settings import Settings

    os.environ.update(
        BEDSIDE_UPSTREAMS=json.dumps([{"name": "fast", "base_url": f"http://127.0.0.1:{up_port}/v1"}]),
        BEDSIDE_DATA_DIR=str(data_dir),
        BEDSIDE_LOG__LEVEL="warning",
        BEDSIDE_POLICY__DIRECTORY=str(POLICY_DIRS[policy]),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        BEDSIDE_QUICKSTART="1",
    )
    settings = Settings()
    configure_cli_logging(settings.log.level, settings.log.format)
    app = create_app(settings)
    return DrainingApp(app, app.state.drain), app


async def lifespan(app: Any, event: str, queues: dict[str, Any]) -> None:
    """Run the app's ``lifespan.startup`` (keeping the lifespan task) or ``lifespan.shutdown``."""
    if event == "startup":
        queues["in"], queues["out"] = asyncio.Queue(), asyncio.Queue()
        queues["task"] = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, queues["in"].get, queues["out"].put))
    await queues["in"].put({"type": f"lifespan.{event}"})
    msg = await queues["out"].get()
    if not msg["type"].endswith(".complete"):
        raise RuntimeError(f"lifespan {event} failed: {msg}")


async def one_stream(app: Any, body: bytes) -> tuple[str, float]:
    """One streamed chat request through ``app``: (the text streamed, seconds to the first content)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080), "state": {},
        "headers": [(b"host", b"127.0.0.1:8080"), (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }  # fmt: skip
    given = False
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def receive() -> dict[str, Any]:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done  # as uvicorn: a disconnect once the reply is complete
        return {"type": "http.disconnect"}

    parts: list[bytes] = []
    started = time.perf_counter()
    first = 0.0

    async def send(msg: dict[str, Any]) -> None:
        nonlocal first
        if msg["type"] == "http.response.start" and msg["status"] != 200:
            raise RuntimeError(f"status {msg['status']}")
        if msg["type"] == "http.response.body" and msg.get("body"):
            if not first and b'"content":"' in msg["body"] and b'"content":""' not in msg["body"]:
                first = time.perf_counter() - started
            parts.append(msg["body"])
        if msg["type"] == "http.response.body" and not msg.get("more_body") and not done.done():
            done.set_result(None)

    await app(scope, receive, send)
    text = ""
    for frame in b"".join(parts).split(b"\n\n"):
        if frame.startswith(b"data: {"):
            for choice in json.loads(frame[6:]).get("choices", ()):
                text += choice.get("delta", {}).get("content") or ""
    return text, first


def thread_cpu() -> dict[str, float]:
    """CPU seconds so far per thread name (``/proc/self/task``; several threads of one name add up)."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = names.get(int(task.name), stat[stat.index("(") + 1 : stat.rindex(")")]).split(" (")[0].rstrip("_0123456789")
        fields = stat[stat.rindex(")") + 2 :].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


async def measure(app: Any, body: bytes, streams: int, conc: int) -> dict[str, float]:
    """CPU microseconds per stream (and the median time to first content) for ``streams`` streams,
    ``conc`` at a time."""
    gate = asyncio.Semaphore(conc)
    ttfts: list[float] = []

    async def run() -> None:
        async with gate:
            text, ttft = await one_stream(app, body)
        if text != EXPECTED:
            raise RuntimeError(f"streamed text differs from the upstream's reply: {text!r}")
        ttfts.append(ttft)

    threads0 = thread_cpu()
    cpu0 = time.process_time()
    await asyncio.gather(*(run() for _ in range(streams)))
    cpu = time.process_time() - cpu0
    threads = {k: (v - threads0.get(k, 0.0)) / streams * 1e6 for k, v in thread_cpu().items()}
    return {"cpu_us": cpu / streams * 1e6, "ttft_ms": statistics.median(ttfts) * 1e3, **{f"thread:{k}": v for k, v in threads.items() if v > 0}}


async def http_point(port: int, conc: int, args: argparse.Namespace, load_core: int | None) -> dict[str, float]:
    """``load.py`` streaming through the server on ``port`` (a child process, on ``load_core``):
    this process's CPU per stream, TTFT p50 over HTTP."""
    argv = [sys.executable, str(BENCH / "load.py"), "--port", str(port), "--concurrency", str(conc), "--stream", "--distinct", "1"]
    argv += ["--duration", str(args.duration), "--warmup", str(args.warmup), "--watch-pid", str(os.getpid())]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, preexec_fn=(lambda: os.sched_setaffinity(0, {load_core})) if load_core is not None else None)
    out, _ = await proc.communicate()
    res = json.loads(out)
    if res.get("errors"):
        raise RuntimeError(f"load.py saw errors: {res['errors']}")
    share = res["cpu"][str(os.getpid())]
    return {"cpu_us": share / res["rps"] * 1e6, "ttft_ms": res["ttft"]["p50"], "rps": res["rps"]}


async def serve_http(apps: dict[str, Any]) -> tuple[dict[str, int], list[Any]]:
    """Each app behind uvicorn with ``bedside serve``'s options, in this process: (ports, servers)."""
    import uvicorn

    from proxy.server import uvicorn_options

    ports: dict[str, int] = {}
    servers: list[Any] = []
    for p, (asgi, app) in apps.items():
        ports[p] = _free_port()
        options = {**uvicorn_options(app.state.services.settings), "port": ports[p], "host": "127.0.0.1"}
        server = uvicorn.Server(uvicorn.Config(asgi, **options))
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        servers.append((server, asyncio.create_task(server.serve())))
        while not server.started:
            await asyncio.sleep(0.05)
    return ports, servers


async def main_async(args: argparse.Namespace, up_port: int, tmp: Path) -> None:
    apps = {p: build_app(p, up_port, tmp / f"data-{p}") for p in args.policies}
    if args.http:
        await http_main(args, apps)
        return
    queues: dict[str, dict[str, Any]] = {p: {} for p in apps}
    for p, (asgi, _) in apps.items():
        await lifespan(asgi, "startup", queues[p])
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)  # as `bedside serve` sets it
    body = chat_body(True)
    for asgi, _ in apps.values():  # warm-up: first use of each policy's chain, caches filled
        await measure(asgi, body, 2 * max(args.concurrency), max(args.concurrency))
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    for rnd in range(args.rounds):
        for conc in args.concurrency:
            for p, (asgi, _) in apps.items():
                res = await measure(asgi, body, args.streams, conc)
                results.setdefault((p, conc), []).append(res)
                per_thread = ", ".join(f"{k[7:]} {v:,.0f}" for k, v in sorted(res.items(), key=lambda kv: -kv[1]) if k.startswith("thread:"))
                print(f"  round {rnd + 1} {p:<11} c={conc:<3} {res['cpu_us']:8,.0f} us CPU/stream  TTFT p50 {res['ttft_ms']:6.2f} ms  ({per_thread})", file=sys.stderr, flush=True)
    if args.profile and "default" in apps:
        prof = cProfile.Profile()
        prof.enable()
        await measure(apps["default"][0], body, args.streams, max(args.concurrency))
        prof.disable()
        prof.dump_stats(args.profile)
        print(f"profile written to {args.profile}", file=sys.stderr)
    for p in apps:
        await lifespan(apps[p][0], "shutdown", queues[p])
    print(f"CPU per stream (us), {args.streams} streams per point, {args.rounds} interleaved rounds; load average {os.getloadavg()[0]:.2f}")
    print(f"{'policy':<12} {'conc':>4} {'min':>8} {'median':>8} {'TTFT p50 ms (median round)':>28}")
    for (p, conc), rs in results.items():
        cpus = [r["cpu_us"] for r in rs]
        print(f"{p:<12} {conc:>4} {min(cpus):>8,.0f} {statistics.median(cpus):>8,.0f} {statistics.median(r['ttft_ms'] for r in rs):>28.2f}")


async def http_main(args: argparse.Namespace, apps: dict[str, Any]) -> None:
    ports, servers = await serve_http(apps)
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    cores = sorted(os.sched_getaffinity(0))
    load_core = args.load_core
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    for rnd in range(args.rounds):
        for conc in args.concurrency:
            for p in apps:
                res = await http_point(ports[p], conc, args, load_core)
                results.setdefault((p, conc), []).append(res)
                print(f"  round {rnd + 1} {p:<11} c={conc:<3} {res['cpu_us']:8,.0f} us CPU/stream  TTFT p50 {res['ttft_ms']:6.2f} ms  {res['rps']:,.0f} streams/s", file=sys.stderr, flush=True)
    for server, task in servers:
        server.should_exit = True
        await task
    print(f"Over HTTP (uvicorn in this process on core {cores[0]}, load.py): CPU per stream (us), {args.rounds} interleaved rounds; load average {os.getloadavg()[0]:.2f}")
    print(f"{'policy':<12} {'conc':>4} {'min':>8} {'median':>8} {'TTFT p50 ms':>12} {'streams/s':>10}")
    for (p, conc), rs in results.items():
        cpus = [r["cpu_us"] for r in rs]
        print(f"{p:<12} {conc:>4} {min(cpus):>8,.0f} {statistics.median(cpus):>8,.0f} {statistics.median(r['ttft_ms'] for r in rs):>12.2f} {statistics.median(r['rps'] for r in rs):>10,.0f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--streams", type=int, default=200, help="streams per point (default 200)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--concurrency", default="1,16", help="concurrent streams (default 1,16)")
    p.add_argument("--policies", default="default,passthrough", help="default, passthrough or both (default)")
    p.add_argument("--chunk-gap-ms", type=float, default=1.0, help="the fake model's pause between events (default 1)")
    p.add_argument("--http", action="store_true", help="serve over HTTP (uvicorn in this process) and stream with load.py instead of calling the app")
    p.add_argument("--duration", type=float, default=3.0, help="--http: measured seconds per point (default 3)")
    p.add_argument("--warmup", type=float, default=0.5, help="--http: unmeasured seconds before each point (default 0.5)")
    p.add_argument("--profile", default=None, metavar="OUT", help="cProfile one more default-policy round into OUT")
    args = p.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    args.policies = [x for x in args.policies.split(",") if x.strip()]
    cores = sorted(os.sched_getaffinity(0))
    up_port = _free_port()
    upstream = subprocess.Popen([sys.executable, str(BENCH / "fast_upstream.py"), "--port", str(up_port), "--chunk-gap-ms", str(args.chunk_gap_ms)], stdout=subprocess.PIPE)
    try:
        assert upstream.stdout is not None
        upstream.stdout.readline()  # "fast upstream on ..."
        args.load_core = None
        if len(cores) >= 2:
            os.sched_setaffinity(upstream.pid, {cores[1]})
            os.sched_setaffinity(0, {cores[0]})
            args.load_core = cores[1]
        with tempfile.TemporaryDirectory(prefix="bedside-stream-cost-") as tmp:
            import uvloop

            uvloop.run(main_async(args, up_port, Path(tmp)))
    finally:
        upstream.terminate()
        upstream.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

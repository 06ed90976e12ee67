"""Bedside's CPU per request, in process: the default policy on one repeated chat request.

    python bench/request_cpu.py [--policies DIR] [--requests N] [--rounds R] [--concurrency 1,16]
    python bench/request_cpu.py --profile /tmp/prof.pstats      # cProfile over the measured requests
    mkfifo /tmp/ctl /tmp/ack; perf stat -e instructions:u -D -1 --control fifo:/tmp/ctl,/tmp/ack -- \
        python bench/request_cpu.py --perf-control /tmp/ctl,/tmp/ack   # instructions of the measured rounds

The app ``bedside serve`` builds (``create_app`` with the settings from the environment, the same
garbage-collector set-up), driven by raw ASGI calls (no HTTP server, no test client: what is
measured is the app, its pipeline, the upstream client and the writer threads) against
``bench/fast_upstream.py`` in a child process on a loopback port, through the real upstream client.
Every request is ``load.py``'s repeated ~70-word message, so every content cache hits, as in
``overhead.py --distinct 1``'s repeated point. For each concurrency it runs ``R`` interleaved
rounds of ``N`` requests and prints the process CPU (``time.process_time``: every thread, the
audit and outcome writers included) per request, the median and the spread over rounds, and at
concurrency 1 the wall-clock p50 per request. The environment is ``overhead.py``'s
(``BEDSIDE_LOG__LEVEL=warning``, a temporary data directory migrated first, ``policies/``).
"""

from __future__ import annotations

import argparse
import asyncio
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

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from load import SCENARIOS, chat_body, scenario_body  # noqa: E402

PATH = "/v1/chat/completions"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(tmp: Path, up_port: int, policies: Path) -> None:
    upstreams = [{"name": "fast", "base_url": f"http://127.0.0.1:{up_port}/v1", "models": ["gpt-4o-mini"]}]
    os.environ.update(
        BEDSIDE_UPSTREAMS=json.dumps(upstreams),
        BEDSIDE_DATA_DIR=str(tmp / "data"),
        BEDSIDE_LOG__LEVEL=os.environ.get("BEDSIDE_LOG__LEVEL", "warning"),
        BEDSIDE_QUICKSTART="1",
        BEDSIDE_POLICY__DIRECTORY=str(policies),
    )
    for name in ("BEDSIDE_DEMO", "BEDSIDE_UPSTREAM_URL"):
        os.environ.pop(name, None)


class Asgi:
    """Raw ASGI calls into one app: a lifespan task and POSTs of a fixed body."""

    def __init__(self, app: Any, body: bytes, scenario: str = "repeat") -> None:
        self.app = app
        self.body = body
        #: ``repeat``: every POST sends ``body``; another of load.py's SCENARIOS: each POST a new text
        self.scenario = scenario
        self._order = 10_000
        self.headers = [
            (b"host", b"127.0.0.1"),
            (b"authorization", b"Bearer x"),
            (b"content-type", b"application/json"),
            (b"accept", b"application/json"),
            (b"user-agent", b"bedside-bench/1"),
            (b"content-length", str(len(body)).encode()),
        ]
        self._life_in: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._life_out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._life: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._life = asyncio.create_task(self.app(scope, self._life_in.get, self._life_out.put))
        await self._life_in.put({"type": "lifespan.startup"})
        msg = await self._life_out.get()
        if msg["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"start-up failed: {msg}")

    async def stop(self) -> None:
        await self._life_in.put({"type": "lifespan.shutdown"})
        await self._life_out.get()
        if self._life is not None:
            await self._life

    async def post(self) -> bytes:
        body, headers = self.body, self.headers
        if self.scenario != "repeat":
            self._order += 1
            body = scenario_body(self.scenario, False, self._order)
            headers = [*self.headers[:-1], (b"content-length", str(len(body)).encode())]  # content-length is the last
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": PATH, "raw_path": PATH.encode(), "root_path": "", "query_string": b"", "headers": headers,
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(msg: dict[str, Any]) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            elif msg["type"] == "http.response.body":
                chunks.append(msg.get("body", b""))

        await self.app(scope, receive, send)
        if status != 200:
            raise RuntimeError(f"status {status}: {b''.join(chunks)[:300]!r}")
        return b"".join(chunks)


async def _round(client: Asgi, requests: int, concurrency: int) -> tuple[float, float, list[float]]:
    """(CPU seconds per request, of them the event loop thread's, wall seconds of each request)
    over ``requests`` requests."""
    left = requests
    walls: list[float] = []

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            t = time.perf_counter()
            await client.post()
            walls.append(time.perf_counter() - t)

    cpu, main = time.process_time(), time.thread_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    main = time.thread_time() - main
    await asyncio.sleep(0.25)  # let the writer threads' linger end inside the measurement
    return (time.process_time() - cpu) / requests, main / requests, walls


class _PerfControl:
    """``perf stat --control fifo:CTL,ACK -D -1``'s switch: count only the measured rounds."""

    def __init__(self, spec: str) -> None:
        self.ctl = self.ack = None
        if spec:
            ctl, ack = spec.split(",")
            self.ctl, self.ack = open(ctl, "w"), open(ack)

    def _say(self, word: str) -> None:
        if self.ctl is not None and self.ack is not None:
            self.ctl.write(word + "\n")
            self.ctl.flush()
            self.ack.readline()

    def enable(self) -> None:
        self._say("enable")

    def disable(self) -> None:
        self._say("disable")


async def run(args: argparse.Namespace) -> None:
    from proxy.app import create_app
    from proxy.cli.common import configure_cli_logging, load_settings
    from proxy.runtime import prepare_process

    prepare_process()
    settings = load_settings()
    configure_cli_logging(settings.log.level, settings.log.format)
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)
    client = Asgi(app, chat_body(False), args.scenario)
    await client.start()
    try:
        for _ in range(200):
            await client.post()
        concs = [int(c) for c in args.concurrency.split(",")]
        cpu: dict[int, list[float]] = {c: [] for c in concs}
        loop_cpu: dict[int, list[float]] = {c: [] for c in concs}
        walls: dict[int, list[float]] = {c: [] for c in concs}
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
        perf = _PerfControl(args.perf_control)
        for _ in range(args.rounds):
            for c in concs:
                perf.enable()
                if profiler is not None:
                    profiler.enable()
                per, on_loop, w = await _round(client, args.requests, c)
                if profiler is not None:
                    profiler.disable()
                perf.disable()
                cpu[c].append(per)
                loop_cpu[c].append(on_loop)
                walls[c].extend(w)
        for c in concs:
            us = sorted(v * 1e6 for v in cpu[c])
            line = f"c{c}: CPU per request median {statistics.median(us):,.0f} us, min {us[0]:,.0f} us (rounds {', '.join(f'{v:,.0f}' for v in us)})"
            line += f"; event loop thread median {statistics.median(loop_cpu[c]) * 1e6:,.0f} us, min {min(loop_cpu[c]) * 1e6:,.0f} us"
            if c == 1:
                line += f"; wall p50 {statistics.median(walls[c]) * 1e6:,.0f} us"
            print(line, flush=True)
        if profiler is not None:
            profiler.dump_stats(args.profile)
            print(f"profile written to {args.profile}")
    finally:
        await client.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--policies", type=Path, default=ROOT / "policies", help="policy directory (default: policies/; bench/policies/passthrough for the policy stage alone)")
    p.add_argument("--requests", type=int, default=1000, help="requests per round and concurrency")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--concurrency", default="1,16")
    p.add_argument("--scenario", default="repeat", choices=SCENARIOS, help="repeat (one message, every cache hits), first-turn or turn20 (a new text each request: bench/load.py)")
    p.add_argument("--profile", default="", help="write a cProfile of the measured requests to this path")
    p.add_argument("--perf-control", default="", help="CTL,ACK: fifos of `perf stat -D -1 --control fifo:CTL,ACK` (see bench/README.md): count the measured rounds only")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bedside-request-cpu-"))
    up_port = _free_port()
    _environment(tmp, up_port, args.policies.resolve())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "proxy.cli", "db", "upgrade"], env=env, cwd=tmp, capture_output=True, timeout=300, check=True)
    cores = sorted(os.sched_getaffinity(0))
    pin = (lambda: os.sched_setaffinity(0, {cores[-1]})) if len(cores) > 1 else None  # as overhead.py: the upstream on the last core
    upstream = subprocess.Popen([sys.executable, str(BENCH / "fast_upstream.py"), "--port", str(up_port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pin)
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[0]})  # Bedside (this process and its threads) on the first core alone
    try:
        time.sleep(1.0)
        os.chdir(tmp)  # as overhead.py: no developer .env applies
        try:
            import uvloop

            uvloop.run(run(args))
        except ImportError:
            asyncio.run(run(args))
    finally:
        upstream.terminate()
        upstream.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

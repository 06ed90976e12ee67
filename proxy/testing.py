"""The test harness shipped with Bedside: real listening servers, SSE helpers, split points.

Operators testing their own policies and our own suite use the same pieces:

* :class:`FakeUpstream` runs the demo upstream (``proxy.demo.server``) with fault injection and
  request recording on a loopback port, inside the current event loop;
* :class:`ServerProcess` runs any command (``bedside serve``, ``bedside demo-upstream``) as a child
  process and waits until it answers HTTP;
* :class:`ThrowawayPostgres` runs a private PostgreSQL cluster (``initdb`` + ``pg_ctl``) in a
  temporary directory on a free port, which a test may stop and start again (fault tests) without
  disturbing the machine's shared server;
* :func:`sse_payloads` parses an SSE body; :func:`splits` yields every way to cut a text in two or
  three pieces, for streaming checks parametrised over chunk boundaries.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from aiohttp import web

from proxy.demo.server import build_app

_decode = msgspec.json.Decoder().decode


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeUpstream:
    """The demo upstream on 127.0.0.1:<free port>, served from its own thread and event loop.

    Its own loop keeps it answering while a test client blocks the test's loop (Litestar's test
    client does). Use it with ``with`` or ``async with``::

        async with FakeUpstream(faults=True) as up:
            ... up.base_url ... up.recorded
    """

    def __init__(self, *, faults: bool = True, slow_seconds: float = 5.0, responses: bool = True) -> None:
        self.recorded: list[dict[str, Any]] = []
        self._responses = responses
        self._faults = faults
        self._slow = slow_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "FakeUpstream":
        started = threading.Event()
        self.port = free_port()

        async def serve() -> None:
            app = build_app(faults=self._faults, recorder=self.recorded, slow_seconds=self._slow, responses=self._responses)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._stop = asyncio.Event()
            started.set()
            await self._stop.wait()
            await runner.cleanup()

        def main() -> None:
            loop = self._loop = asyncio.new_event_loop()
            loop.run_until_complete(serve())
            pending = asyncio.all_tasks(loop)  # handlers still sleeping (fault-stall, fault-slow)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.wait(pending))
            loop.close()

        self._thread = threading.Thread(target=main, name="fake-upstream", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the fake upstream did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    async def __aenter__(self) -> "FakeUpstream":
        return self.__enter__()

    async def __aexit__(self, *exc: object) -> None:
        self.__exit__()


class ServerProcess:
    """A child process serving HTTP; started and waited for in ``__enter__``, stopped in ``__exit__``.

    ``BEDSIDE_QUICKSTART=1`` is in the child's environment unless the caller's says otherwise, so a
    ``bedside serve`` without a configured KEK keeps one in its data directory (as ``make run`` does)."""

    def __init__(self, argv: Sequence[str], *, port: int, env: dict[str, str] | None = None, ready_path: str = "/healthz", timeout: float = 60.0) -> None:
        self.argv = list(argv)
        self.port = port
        self.env = {"BEDSIDE_QUICKSTART": "1", **os.environ, **(env or {})}
        self.ready_path = ready_path
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "ServerProcess":
        import tempfile

        log = tempfile.NamedTemporaryFile(prefix="bedside-server-", suffix=".log", delete=False)
        self.log_path = log.name
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 - the caller's own command line
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[0]} exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=1) as resp:  # noqa: S310 - loopback only
                    if resp.status < 500:
                        return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"{self.argv} did not answer on port {self.port} in {self.timeout}s:\n{self.output()}")

    def output(self) -> str:
        if self.log_path is None:
            return ""
        with open(self.log_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def postgres_bindir() -> str | None:
    """The directory holding ``initdb`` and ``pg_ctl`` (PATH, then Debian's /usr/lib/postgresql/N/bin), or None."""
    import glob
    import shutil

    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return os.path.dirname(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return os.path.dirname(candidates[-1]) if candidates else None


class ThrowawayPostgres:
    """A private PostgreSQL cluster on 127.0.0.1:<free port> with trust auth, removed on exit.

    ``stop()`` (a fast shutdown: clients are disconnected, what was committed is kept) and
    ``start()`` can be called in between to simulate a database restart. As root the server runs
    as the ``postgres`` user (PostgreSQL refuses root). Raises ``RuntimeError`` when no PostgreSQL
    binaries are installed (:func:`postgres_bindir` says beforehand)."""

    def __init__(self, *, port: int | None = None) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl) are installed")
        self.bindir = bindir
        self.port = port or free_port()
        self.directory = ""
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, os.path.join(self.bindir, tool), *args], check=True, capture_output=True, timeout=120)  # noqa: S603 - fixed tools

    def __enter__(self) -> "ThrowawayPostgres":
        import shutil
        import tempfile

        self.directory = tempfile.mkdtemp(prefix="bedside-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        try:
            self._run("initdb", "-D", os.path.join(self.directory, "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def start(self) -> None:
        data = os.path.join(self.directory, "data")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", data, "-o", options, "-l", os.path.join(self.directory, "server.log"), "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", os.path.join(self.directory, "data"), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def __exit__(self, *exc: object) -> None:
        import shutil

        if self.running:
            try:
                self.stop("immediate")
            except (subprocess.SubprocessError, OSError):
                pass
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)


def bedside_argv(*args: str) -> list[str]:
    """``bedside ARGS`` run with the current interpreter (works without the console script)."""
    return [sys.executable, "-m", "proxy.cli", *args]


def sse_payloads(body: str | bytes) -> list[Any]:
    """The ``data:`` payloads of an SSE body: dicts, and the string ``"[DONE]"``."""
    text = body.decode() if isinstance(body, bytes) else body
    out: list[Any] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
        if not data:
            continue
        payload = "\n".join(data)
        out.append(payload if payload == "[DONE]" else _decode(payload))
    return out


def streamed_text(payloads: Sequence[Any], choice: int = 0) -> str:
    """The assistant text of one choice, joined from SSE payloads."""
    parts: list[str] = []
    for p in payloads:
        if isinstance(p, dict):
            for c in p.get("choices") or ():
                if c.get("index") == choice and (c.get("delta") or {}).get("content"):
                    parts.append(c["delta"]["content"])
    return "".join(parts)


def splits(text: str, *, three: bool = False) -> Iterator[list[str]]:
    """Every cut of ``text`` into two pieces (and, with ``three``, into three)."""
    for i in range(1, len(text)):
        yield [text[:i], text[i:]]
        if three:
            for j in range(i + 1, len(text)):
                yield [text[:i], text[i:j], text[j:]]

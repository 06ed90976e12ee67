"""The probe's harness: a recording fake upstream, Bedside subprocesses, HTTP helpers, outcomes.

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


# ---- canaries ------------------------------------------------------------------------------------


def luhn_card(prefix: str, length: int = 16) -> str:
    """A Luhn-valid card number starting with ``prefix`` (digits only)."""
    body = prefix[: length - 1].ljust(length - 1, "0")
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return body + str((10 - total % 10) % 10)


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() and ch.isascii())


def found_in(canary: str | tuple[str, ...], text: str, text_digits: str) -> bool:
    """A canary (or all parts of a tuple) in ``text``: case-insensitive; numbers with 9+ digits also
    by their digits alone (a phone or card sent as a JSON number, regrouped, or spaced out)."""
    if isinstance(canary, tuple):
        return all(found_in(c, text, text_digits) for c in canary)
    if canary.lower() in text:
        return True
    d = digits(canary)
    return len(d) >= 9 and not re.search(r"[A-Za-z@]", canary) and d in text_digits


# ---- the recording fake upstream ---------------------------------------------------------------

_MODE = re.compile(r"probe-mode:([a-z0-9-]+)")


@dataclass
class Record:
    path: str
    text: str  # raw body (utf-8, replaced) + the body re-serialised unescaped + header values, lower-cased
    body: Any


def _last_user_text(body: dict[str, Any]) -> str:
    for m in reversed(body.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return "\n".join(str(p.get("text")) for p in c if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-probe",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


_GARBAGE: dict[str, bytes] = {
    "garbage": b"<html>502 Bad Gateway</html>",
    "list": b"[]",
    "choices-int": b'{"id":"x","object":"chat.completion","choices":5}',
    "choice-null": b'{"id":"x","object":"chat.completion","choices":[null]}',
    "message-int": b'{"id":"x","object":"chat.completion","choices":[{"index":0,"message":5,"finish_reason":"stop"}]}',
    "content-int": b'{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":5},"finish_reason":"stop"}]}',
    "index-str": b'{"id":"x","object":"chat.completion","choices":[{"index":"a","message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}',
}


class FakeUpstream:
    """An OpenAI-compatible server in a background thread that records every request.

    Chat replies echo the last user message's text (JSON or SSE). ``probe-mode:NAME`` anywhere in
    the request picks a misbehaviour: a key of ``_GARBAGE`` (that body, JSON mode), ``stream-NAME``
    (that body as the first SSE event), ``err400-echo-system`` (a 400 whose message quotes the
    system messages it received).
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.records: list[Record] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-upstream", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/v1"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake upstream did not start")

    def stop(self) -> None:
        if self._loop is not None and self._runner is not None:
            fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            try:
                fut.result(5)
            except Exception:
                pass
            self._loop.call_soon_threadsafe(self._loop.stop)

    def mark(self) -> int:
        with self._lock:
            return len(self.records)

    def since(self, mark: int) -> list[Record]:
        with self._lock:
            return self.records[mark:]

    def leaked(self, canaries: list[Any], mark: int) -> list[str]:
        recs = self.since(mark)
        text = "\n".join(r.text for r in recs)
        dg = digits(text)
        return [str(c) for c in canaries if found_in(c, text, dg)]

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(self._runner.setup())
        loop.run_until_complete(web.TCPSite(self._runner, LOOPBACK, self.port).start())
        self._ready.set()
        loop.run_forever()

    async def _record(self, request: web.Request) -> tuple[bytes, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        parts = [raw.decode("utf-8", "replace"), json.dumps(body, ensure_ascii=False), request.path_qs]
        parts += [f"{k}: {v}" for k, v in request.headers.items()]
        with self._lock:
            self.records.append(Record(request.path, "\n".join(parts).lower(), body))
        return raw, body

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw, body = await self._record(request)
        if not isinstance(body, dict):
            return web.json_response({"error": {"message": "body is not a JSON object", "type": "invalid_request_error"}}, status=400)
        model = str(body.get("model"))
        m = _MODE.search(raw.decode("utf-8", "replace"))
        mode = m.group(1) if m else ""
        if mode == "err400-echo-system":
            system = " | ".join(str(x.get("content")) for x in body.get("messages") or [] if isinstance(x, dict) and x.get("role") in ("system", "developer"))
            return web.json_response({"error": {"message": f"Invalid prompt. System prompt was: {system}", "type": "invalid_request_error", "code": "invalid_prompt"}}, status=400)
        if mode in _GARBAGE and not body.get("stream"):
            return web.Response(body=_GARBAGE[mode], content_type="application/json")
        text = _last_user_text(body)
        if not body.get("stream"):
            return web.json_response(_completion(model, text))
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        if mode.startswith("stream-") and mode[7:] in _GARBAGE:
            await resp.write(b"data: " + _GARBAGE[mode[7:]] + b"\n\n")
            await resp.write(b"data: [DONE]\n\n")
            return resp
        base = {"id": "chatcmpl-probe", "object": "chat.completion.chunk", "created": 1, "model": model}
        events = [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
        events += [{"index": 0, "delta": {"content": text[i : i + 16]}, "finish_reason": None} for i in range(0, len(text), 16)]
        events += [{"index": 0, "delta": {}, "finish_reason": "stop"}]
        for choice in events:
            await resp.write(b"data: " + json.dumps({**base, "choices": [choice]}).encode() + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        return resp

    async def _embeddings(self, request: web.Request) -> web.Response:
        _, body = await self._record(request)
        n = len(body.get("input")) if isinstance(body, dict) and isinstance(body.get("input"), list) else 1
        data = [{"object": "embedding", "index": i, "embedding": [0.0, 0.1, 0.2]} for i in range(n)]
        return web.json_response({"object": "list", "data": data, "model": "probe", "usage": {"prompt_tokens": 1, "total_tokens": 1}})

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "probe"}]})


# ---- Bedside as a subprocess ---------------------------------------------------------------------


class StartError(RuntimeError):
    pass


def _env(data_dir: Path, upstream_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update(
        PYTHONPATH=str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
        PYTHONUNBUFFERED="1",
        BEDSIDE_DATA_DIR=str(data_dir),
        BEDSIDE_POLICY__DIRECTORY=str(ROOT / "policies"),
        BEDSIDE_POLICY__WATCH="false",
        BEDSIDE_UPSTREAM_URL=upstream_url,
        BEDSIDE_LOG__LEVEL="info",
        BEDSIDE_QUICKSTART="1",  # the KEK is kept in the probe's own data directory
    )
    env.update(extra or {})
    return env


@dataclass
class Bedside:
    """``python -m proxy.cli serve`` (what the ``bedside`` console script runs) in a temp dir."""

    name: str
    upstream_url: str
    tenants: list[str] = field(default_factory=list)  # create one key per tenant before starting
    port: int = field(default_factory=free_port)
    keys: dict[str, str] = field(default_factory=dict)
    #: extra BEDSIDE_ settings (the quick run shortens the slow-client limits, as an operator can)
    settings: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bedside-probe-{self.name}-"))
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "server.log"

    @property
    def base(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        env = _env(self.data_dir, self.upstream_url, self.settings)
        for tenant in self.tenants:
            out = subprocess.run([sys.executable, "-m", "proxy.cli", "keys", "create", "--tenant", tenant], cwd=self.workdir, env=env, capture_output=True, text=True, timeout=60)
            if out.returncode != 0 or not out.stdout.strip():
                raise StartError(f"[{self.name}] `bedside keys create --tenant {tenant}` failed ({out.returncode}): {out.stderr.strip()[-800:]}")
            self.keys[tenant] = out.stdout.strip().splitlines()[0]
        log = open(self.log_path, "wb")  # kept open for the process' lifetime
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "proxy.cli", "serve", "--host", LOOPBACK, "--port", str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.popen is not None
            if self.popen.poll() is not None:
                raise StartError(f"[{self.name}] Bedside exited with {self.popen.returncode} before it was ready:\n{self.tail()}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise StartError(f"[{self.name}] Bedside did not answer /healthz within {timeout:.0f} s:\n{self.tail()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def rss_mib(self) -> float | None:
        if self.popen is None:
            return None
        try:
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def requests_total(self, headers: dict[str, str] | None = None) -> float | None:
        try:
            text = httpx.get(self.base + "/metrics", headers=headers or {}, timeout=5).text
        except httpx.HTTPError:
            return None
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("bedside_requests_total{"))

    def stop(self, keep: bool = False) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)


# ---- outcomes ------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int | None  # None: no HTTP response (hang or connection closed)
    text: str = ""
    hang: bool = False
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def content(self) -> str:
        """The reply text a user reads (JSON or SSE), else the raw body."""
        body = self.json()
        if isinstance(body, dict) and isinstance(body.get("choices"), list):
            return "\n".join(str((c.get("message") or {}).get("content")) for c in body["choices"] if isinstance(c, dict))
        if "data:" in self.text:
            out = []
            for line in self.text.splitlines():
                if line.startswith("data: {"):
                    try:
                        for c in json.loads(line[6:]).get("choices") or []:
                            out.append(str((c.get("delta") or {}).get("content") or ""))
                    except ValueError:
                        pass
            return "".join(out)
        return self.text


@dataclass
class Outcome:
    category: str
    name: str
    status: int | None = None
    hang: bool = False
    leaks: list[str] = field(default_factory=list)  # "upstream: value", "reply: value", "log: value"
    odd: list[str] = field(default_factory=list)  # expectations violated that are not leaks
    note: str = ""
    allowed_5xx: tuple[int, ...] = ()  # statuses >= 500 that are the designed answer here (e.g. 502 for a garbage upstream)

    @property
    def is_5xx(self) -> bool:
        return self.status is not None and self.status >= 500 and self.status not in self.allowed_5xx


def post(url: str, *, json_body: Any = None, content: bytes | None = None, headers: Any = None, timeout: float = 30.0) -> Reply:
    """One POST with a bound on every phase; a timeout is a hang, a dropped connection is status None."""
    hdrs = headers if headers is not None else {}
    if json_body is not None:
        content = json.dumps(json_body, ensure_ascii=False).encode()
        if isinstance(hdrs, dict):
            hdrs = {"content-type": "application/json", **hdrs}
    try:
        r = httpx.post(url, content=content, headers=hdrs, timeout=httpx.Timeout(timeout, connect=5.0))
        return Reply(r.status_code, r.text, headers=dict(r.headers))
    except httpx.TimeoutException as exc:
        return Reply(None, hang=True, error=type(exc).__name__)
    except httpx.HTTPError as exc:
        return Reply(None, error=type(exc).__name__)

"""The client side of ``bench/scale.py``: calls spread over the replicas, as a load balancer would.

:class:`Client` sends each call to the next live replica (round robin, or a named one), and does
what a load balancer and a well-behaved client do together: a connection refused or reset before
any answer, or ``503 shutting_down`` (a replica on its way out), is retried on another replica.
Every call is kept as a :class:`Call`; :meth:`Client.judge` says whether a final status was
expected (2xx, or a kind 503 while the database was down) or a failure that should not happen.

The request id of every answer an OpenAI endpoint gave is kept, to be matched one to one with the
audit log's ``request`` entries.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.scale_cluster import Cluster, Replica

#: codes a request may fail with, kindly, while the database is down (and for a few seconds after)
DB_DOWN_CODES = frozenset({"database_unavailable", "audit_unavailable", "thread_store_unavailable", "service_unavailable", "erasure_busy"})
DB_TAIL_SECONDS = 6.0  # the audit writer's backoff reaches 5 s: it may take that long to notice the database is back
OPENAI_PATHS = ("/v1/chat/completions", "/v1/responses")


@dataclass
class Call:
    op: str
    status: int  # 0: no answer at all (every attempt failed to connect)
    replica: int
    seconds: float
    attempts: int = 1
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    broken_stream: bool = False
    started: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)

    def text(self) -> str:
        """The reply's text: a chat completion, its stream, or a Responses object ("" when cut off)."""
        if self.broken_stream or not self.body:
            return ""
        if self.body.startswith(b"data:") or b"\ndata:" in self.body[:200]:
            parts = []
            for line in self.body.decode().splitlines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    event = json.loads(line[6:])
                    for choice in event.get("choices") or ():
                        parts.append((choice.get("delta") or {}).get("content") or "")
            return "".join(parts)
        data = self.json()
        if "choices" in data:
            return str(data["choices"][0]["message"].get("content") or "")
        if data.get("object") == "response":
            return "".join(c.get("text", "") for item in data.get("output") or () for c in item.get("content") or () if isinstance(c, dict))
        return ""


@dataclass
class Window:
    """When the database was down (monotonic seconds), for judging 503s."""

    down_at: float
    up_at: float | None = None

    def covers(self, started: float, ended: float) -> bool:
        return ended >= self.down_at and (self.up_at is None or started <= self.up_at + DB_TAIL_SECONDS)


class Client:
    def __init__(self, cluster: Cluster, *, timeout: float = 60.0) -> None:
        self.cluster = cluster
        self.calls: list[Call] = []
        self.db_windows: list[Window] = []
        #: the replicas calls go to (None: every live one), e.g. the first two for a throughput point
        self.pool: list[Replica] | None = None
        self.killed: set[int] = set()
        #: (monotonic time, phase name): what was going on when a call failed
        self.marks: list[tuple[float, str]] = [(time.monotonic(), "start")]  # replicas ended by kill -9: a stream they were sending is cut, as expected
        self._rr = itertools.count()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Client:
        self.session = aiohttp.ClientSession(timeout=self._timeout, connector=aiohttp.TCPConnector(limit=0, force_close=False))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.session is not None:
            await self.session.close()

    def pick(self, avoid: Replica | None = None) -> Replica:
        live = [r for r in self.cluster.live() if self.pool is None or r in self.pool] or self.cluster.live() or self.cluster.replicas
        choices = [r for r in live if r is not avoid] or live
        return choices[next(self._rr) % len(choices)]

    def auth(self, tenant: str, user: str | None = None, **extra: str) -> dict[str, str]:
        headers = {"authorization": f"Bearer {self.cluster.keys[tenant]}", **extra}
        if user is not None:
            headers["x-bedside-user"] = user
        return headers

    async def call(self, op: str, method: str, path: str, headers: dict[str, str], body: Any = None, *, replica: Replica | None = None) -> Call:
        """One call, retried on another replica when the chosen one is gone or leaving."""
        assert self.session is not None
        started = time.monotonic()
        target = replica or self.pick()
        data = json.dumps(body).encode() if body is not None else None
        send_headers = {**headers, **({"content-type": "application/json"} if data is not None else {})}
        attempts = 0
        call = Call(op, 0, target.index, 0.0, started=started)
        while attempts < 8:
            attempts += 1
            status = 0
            try:
                async with self.session.request(method, target.url + path, data=data, headers=send_headers) as resp:
                    status = resp.status
                    raw = await resp.read()
                    call = Call(op, resp.status, target.index, 0.0, attempts, headers={k.lower(): v for k, v in resp.headers.items()}, body=raw, started=started)
            except (TimeoutError, aiohttp.ClientError) as exc:
                if status:  # the answer had begun and broke off (the replica died mid-stream): not retried
                    call = Call(op, status, target.index, 0.0, attempts, broken_stream=True, started=started, message=f"{type(exc).__name__}: {exc}"[:300])
                    break
                call = Call(op, 0, target.index, 0.0, attempts, started=started)
                await asyncio.sleep(0.1)
                target = self.pick(avoid=target)
                continue
            if resp.status >= 400:
                try:
                    error = json.loads(raw)["error"]
                    call.code, call.message = error.get("code"), error.get("message")
                except (ValueError, KeyError, TypeError):
                    pass
            if call.status == 503 and call.code == "shutting_down":
                target = self.pick(avoid=target)
                continue
            if path.startswith(OPENAI_PATHS) and "x-request-id" in call.headers:
                call.request_id = call.headers["x-request-id"]
            break
        call.seconds = time.monotonic() - started
        self.calls.append(call)
        return call

    def near_db_outage(self, call: Call) -> bool:
        return any(w.covers(call.started, call.started + call.seconds) for w in self.db_windows)

    def expected(self, call: Call) -> bool:
        """A 2xx, a kind 503 while the database was down, a stream cut by a replica's kill -9, or an
        export cut by the database going down (its document then lacks ``"complete": true``)."""
        if 200 <= call.status < 300 and not call.broken_stream:
            return True
        if call.broken_stream and call.replica in self.killed:
            return True
        if call.broken_stream and call.op == "export" and self.near_db_outage(call):
            return True  # documented: an export the database's going down cuts midway ends without "complete": true
        ended = call.started + call.seconds
        if call.status == 503 and call.code in DB_DOWN_CODES and call.message and any(w.covers(call.started, ended) for w in self.db_windows):
            return True
        return False

    def mark(self, name: str) -> None:
        self.marks.append((time.monotonic(), name))

    def when(self, call: Call) -> str:
        at, name = max((m for m in self.marks if m[0] <= call.started), default=self.marks[0])
        return f"{name} +{call.started - at:.1f}s"

    def failures(self) -> list[Call]:
        return [c for c in self.calls if not self.expected(c)]

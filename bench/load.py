"""A closed-loop HTTP load generator cheap enough not to be the bottleneck (used by overhead.py).

    python bench/load.py --port 8080 --concurrency 16 --duration 4 --warmup 1 [--stream]
                         [--host 127.0.0.1] [--api chat|responses] [--model M] [--watch-pid PID ...]

``concurrency`` keep-alive connections send chat requests back to back (HTTP/1.1,
``Authorization: Bearer x``) for ``warmup + duration`` seconds; with ``--api responses`` the same
conversation as a Responses request (``instructions`` and ``input``) to ``/v1/responses``. The ``--distinct`` bodies (default
1024) differ only in an order number and are cycled, so content caches in a proxy miss as they
would in real use. Raw asyncio protocols on uvloop with the httptools response parser (C): a few
tens of microseconds of CPU per request, several times cheaper than an aiohttp client. Requests that complete inside the measured window count.

Prints ONE JSON object on stdout: ``n``, ``rps``, ``errors`` (non-200, broken or incomplete
replies, with a sample), latency percentiles in ms (``lat``: request written -> reply complete;
with ``--stream`` also ``ttft``: -> first SSE event with non-empty ``delta.content``, or a
``response.output_text.delta`` with a non-empty ``delta``), the CPU
share of each ``--watch-pid`` process over the window (1.0 = one core busy), of this process, and
how busy each core was (``core_busy``, from ``/proc/stat``: shows other load on the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import httptools
import msgspec

SYSTEM = "You are Acme's customer support assistant. Answer questions about orders, deliveries and returns. Be brief and friendly, and offer to hand over to a person when you cannot help."
USER = (
    "Hi, I ordered a pair of running shoes two weeks ago (order {order}) and the tracking page still "
    "says 'label created'. I need them for a race on Saturday. Can you tell me where they are, or "
    "should I cancel and buy them locally instead?"
)


def chat_body(stream: bool, order: int = 48213, model: str = "gpt-4o-mini") -> bytes:
    """A realistic small chat request: system + user message, ~70 words; ``order`` varies the text."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER.format(order=order)}],
        "temperature": 0.7,
        "max_tokens": 256,
    }
    if stream:
        body["stream"] = True
    return json.dumps(body, separators=(",", ":")).encode()


def responses_body(stream: bool, order: int = 48213, model: str = "gpt-4o-mini") -> bytes:
    """The same conversation as a Responses request: the system text as ``instructions``, the user's as ``input``."""
    body: dict[str, Any] = {"model": model, "instructions": SYSTEM, "input": USER.format(order=order), "temperature": 0.7, "max_output_tokens": 256}
    if stream:
        body["stream"] = True
    return json.dumps(body, separators=(",", ":")).encode()


#: scenarios of ``--scenario``: ``repeat`` is the ~70-word system + user body above (``--distinct``
#: of them); ``first-turn`` a new ~150-word first message naming a person, a town, an e-mail and a
#: phone (every request a text never sent before: PII analysis with NER runs); ``turn20`` the 20th
#: user turn of a conversation whose 19 earlier turns (and replies) every request resends, as chat
#: clients do: only the new last turn is new
SCENARIOS = ("repeat", "first-turn", "turn20")
_FIRST = ("Maria", "Tom", "Aisha", "Lars", "Chen", "Priya", "Diego", "Hannah", "Kofi", "Elena", "Sam", "Yuki")
_LAST = ("Okafor", "Lindqvist", "Moreau", "Patel", "Nakamura", "Schmidt", "Alvarez", "Kowalski", "Brennan", "Haddad")
_TOWNS = ("Leeds", "Toulouse", "Utrecht", "Porto", "Graz", "Aarhus", "Bristol", "Ghent", "Turin", "Malmo")
FIRST_TURN = (
    "Hello, my name is {name} and I am writing about order {order}, which I placed three weeks ago for a birthday present. "
    "The tracking page has said 'in transit' for nine days now and nobody has answered my two e-mails. I live in {town}, and "
    "the courier claims they tried to deliver on Tuesday, but I was at home all day and nobody rang the bell. You can reach me "
    "at {email} or on {phone} in the evenings. I am honestly getting fed up with this: I paid for express shipping and I would "
    "like to know whether the parcel is lost, whether you can send a replacement before the weekend, and how I get the express "
    "fee back. If the parcel turns up later I am happy to send it back at your cost. Please do not just tell me to wait "
    "another week, because I have already done that twice and the birthday is on Sunday. Thanks for looking into it."
)
_HISTORY_USER = (
    "Hi, I have a question about my order {order}.",
    "It was supposed to arrive on Monday but it has not come yet.",
    "The tracking number ends in 7731 if that helps.",
    "I ordered the blue running jacket in size medium.",
    "Yes, the delivery address is the one on my account.",
    "No, I did not get any e-mail from the courier.",
    "Could you check whether it left the warehouse?",
    "Okay, so it is at the local depot now?",
    "When will the next delivery attempt be?",
    "I work during the day, can it be left with a neighbour?",
    "The neighbour at number 12 is usually at home.",
    "Great. And if that fails, can I pick it up myself?",
    "Where is the nearest pickup point?",
    "Is it open on Saturdays?",
    "Do I need to bring an ID or just the order number?",
    "Fine. Can I also change the size if it does not fit?",
    "How long do I have to return it?",
    "Is the return shipping free?",
    "Thanks, that is very helpful.",
)
_HISTORY_ASSISTANT = "Thanks for the details. I have checked this for you: {i}. Is there anything else I can look at?"
TURN20 = "One more thing about order {order}: the jacket I received in the end is the wrong colour, can I exchange it for the blue one or do I have to return it first?"


def scenario_messages(scenario: str, order: int) -> list[dict[str, Any]]:
    """The messages of a ``--scenario`` request; ``order`` varies the new text (see SCENARIOS)."""
    if scenario == "repeat":
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER.format(order=order)}]
    if scenario == "first-turn":
        name = f"{_FIRST[order % len(_FIRST)]} {_LAST[(order // len(_FIRST)) % len(_LAST)]}"
        email = f"{name.split()[0].lower()}.{order}@example.com"
        phone = f"+44 20 7946 {order % 10000:04d}"
        text = FIRST_TURN.format(name=name, order=order, town=_TOWNS[order % len(_TOWNS)], email=email, phone=phone)
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
    if scenario == "turn20":
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
        for i, said in enumerate(_HISTORY_USER):
            messages.append({"role": "user", "content": said.format(order=48213)})
            messages.append({"role": "assistant", "content": _HISTORY_ASSISTANT.format(i=i + 1)})
        messages.append({"role": "user", "content": TURN20.format(order=order)})
        return messages
    raise ValueError(f"unknown scenario {scenario!r}")


def scenario_body(scenario: str, stream: bool, order: int, model: str = "gpt-4o-mini") -> bytes:
    """A chat request of ``scenario`` (``repeat`` is :func:`chat_body`)."""
    if scenario == "repeat":
        return chat_body(stream, order, model)
    body: dict[str, Any] = {"model": model, "messages": scenario_messages(scenario, order), "temperature": 0.7, "max_tokens": 256}
    if stream:
        body["stream"] = True
    return json.dumps(body, separators=(",", ":")).encode()


def request_bytes(host: str, port: int, path: str, stream: bool, order: int = 48213, *, api: str = "chat", model: str | None = None, scenario: str = "repeat") -> bytes:
    if api == "responses":
        body = responses_body(stream, order, model or "gpt-4o-mini")
    else:
        body = scenario_body(scenario, stream, order, model or "gpt-4o-mini")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer x\r\n"
        f"Content-Type: application/json\r\nAccept: {'text/event-stream' if stream else 'application/json'}\r\n"
        f"User-Agent: bedside-bench/1\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


_decode = msgspec.json.Decoder().decode


class Conn(asyncio.Protocol):
    """One keep-alive connection; ``send()`` returns a future completed by the whole reply."""

    def __init__(self, payloads: list[bytes], counter: Iterator[int], stream: bool) -> None:
        self.payloads = payloads
        self.counter = counter
        self.stream = stream
        self.parser = httptools.HttpResponseParser(self)
        self.transport: Any = None
        self.waiter: asyncio.Future[None] | None = None
        self.status = 0
        self.first = 0.0  # perf_counter of the first content event (stream only)
        self.buf = bytearray()
        self.scan = 0
        self.closed = False
        self.keep_alive = True

    # asyncio
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"bad HTTP reply: {exc}"))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("connection closed before the reply was complete"))

    # httptools
    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        if self.status != 200:
            if len(self.buf) < 400:
                self.buf += body
            return
        if self.stream and not self.first:
            self.buf += body
            if self._has_content():
                self.first = time.perf_counter()

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if not self.keep_alive:
            self.transport.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # helpers
    def _has_content(self) -> bool:
        buf = self.buf
        while True:
            end = buf.find(b"\n\n", self.scan)
            if end < 0:
                return False
            block = bytes(buf[self.scan : end]).strip()
            self.scan = end + 2
            data = [ln[5:].strip() for ln in block.split(b"\n") if ln.startswith(b"data:")]  # after an optional event: line
            if not data:
                continue
            payload = data[0]
            if payload == b"[DONE]":
                return False
            try:
                event = _decode(payload)
            except msgspec.DecodeError:
                continue
            if event.get("type") == "response.output_text.delta" and event.get("delta"):
                return True
            for choice in event.get("choices") or ():
                if (choice.get("delta") or {}).get("content"):
                    return True

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def send(self) -> asyncio.Future[None]:
        self.waiter = asyncio.get_running_loop().create_future()
        self.status = 0
        self.first = 0.0
        self.buf.clear()
        self.scan = 0
        self.transport.write(self.payloads[next(self.counter) % len(self.payloads)])
        return self.waiter


def _cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _cpu_busy() -> dict[str, float]:
    """Busy seconds per CPU since boot (``/proc/stat``: everything but idle and iowait)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and line[3].isdigit():
                    name, *vals = line.split()
                    v = [int(x) for x in vals]
                    out[name[3:]] = (sum(v[:8]) - v[3] - v[4]) / tick
    except (OSError, ValueError, IndexError):
        pass
    return out


def percentiles(values: list[float]) -> dict[str, float] | None:
    """Nearest-rank p50/p90/p99/max and the mean, in milliseconds."""
    if not values:
        return None
    s = sorted(values)
    n = len(s)

    def rank(p: float) -> float:
        return s[max(0, math.ceil(p / 100 * n) - 1)] * 1000

    return {"p50": rank(50), "p90": rank(90), "p99": rank(99), "max": s[-1] * 1000, "mean": sum(s) / n * 1000}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    # distinct user texts (the order number varies), so content caches in the proxy see realistic misses
    counter = itertools.count()  # shared: every request takes the next body
    path = args.path or ("/v1/responses" if args.api == "responses" else "/v1/chat/completions")
    payloads = [
        request_bytes(args.host, args.port, path, args.stream, 10000 + ((i + args.offset) * 7919) % 90000, api=args.api, model=args.model, scenario=args.scenario)
        for i in range(args.distinct)
    ]
    lat: list[float] = []
    ttft: list[float] = []
    errors: dict[str, int] = {}
    samples: list[str] = []

    def error(kind: str, sample: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1
        if len(samples) < 3:
            samples.append(sample[:300])

    async def connect() -> Conn:
        _, conn = await loop.create_connection(lambda: Conn(payloads, counter, args.stream), args.host, args.port)
        return conn

    conns = await asyncio.gather(*(connect() for _ in range(args.concurrency)))
    start = time.perf_counter()
    measure_from = start + args.warmup
    until = measure_from + args.duration
    cpu: dict[str, Any] = {}

    def sample_cpu(key: str) -> None:
        cpu[key] = ({pid: _cpu_seconds(pid) for pid in args.watch_pid}, time.process_time(), time.perf_counter(), _cpu_busy())

    loop.call_at(loop.time() + args.warmup, sample_cpu, "from")
    loop.call_at(loop.time() + args.warmup + args.duration, sample_cpu, "to")

    async def worker(conn: Conn) -> None:
        while True:
            t0 = time.perf_counter()
            if t0 >= until:
                return
            if conn.closed:
                try:
                    conn = await connect()
                except OSError as exc:
                    error("connect", repr(exc))
                    await asyncio.sleep(0.05)
                    continue
            try:
                await conn.send()
            except ConnectionError as exc:
                error("connection", str(exc))
                continue
            t1 = time.perf_counter()
            if t1 < measure_from or t1 > until:
                continue
            if conn.status != 200:
                error(f"http_{conn.status}", conn.buf.decode(errors="replace"))
                continue
            if args.stream:
                if not conn.first:
                    error("no_content", "stream ended without a content chunk")
                    continue
                ttft.append(conn.first - t0)
            lat.append(t1 - t0)

    tasks = [asyncio.ensure_future(worker(c)) for c in conns]
    _, pending = await asyncio.wait(tasks, timeout=args.warmup + args.duration + args.timeout)
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()
    if pending:
        errors["timeout"] = len(pending)
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=2)

    window = args.duration
    result: dict[str, Any] = {
        "concurrency": args.concurrency,
        "stream": args.stream,
        "n": len(lat),
        "rps": len(lat) / window,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "error_samples": samples,
        "lat": percentiles(lat),
        "ttft": percentiles(ttft) if args.stream else None,
    }
    if "from" in cpu and "to" in cpu:
        (p0, g0, t0, b0), (p1, g1, t1, b1) = cpu["from"], cpu["to"]
        wall = t1 - t0
        result["core_busy"] = {core: (b1[core] - b0[core]) / wall for core in b1 if core in b0}
        result["cpu"] = {str(pid): (None if p0[pid] is None or p1[pid] is None else (p1[pid] - p0[pid]) / wall) for pid in args.watch_pid}
        result["gen_cpu"] = (g1 - g0) / wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="closed-loop load generator for the chat route")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default=None, help="default /v1/chat/completions, or /v1/responses with --api responses")
    parser.add_argument("--api", choices=("chat", "responses"), default="chat", help="the request's API (chat completions, or the Responses API)")
    parser.add_argument("--model", default=None, help="the model the request names (default gpt-4o-mini)")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--timeout", type=float, default=30.0, help="grace after the window before giving up on replies")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--offset", type=int, default=0, help="start the bodies' order numbers this far on (runs that must not resend another run's texts)")
    parser.add_argument("--scenario", choices=SCENARIOS, default="repeat", help="which chat conversation (see SCENARIOS; chat API only)")
    parser.add_argument("--distinct", type=int, default=1024, help="distinct request bodies, cycled (1 = the same body every time)")
    parser.add_argument("--watch-pid", type=int, action="append", default=[], help="report this process's CPU share")
    args = parser.parse_args()
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0 or not 1 <= args.distinct <= 100_000:
        parser.error("concurrency >= 1, duration > 0, warmup >= 0 and 1 <= distinct <= 100000 please")
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        result = asyncio.run(run(args))
    else:
        result = uvloop.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

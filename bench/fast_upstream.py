"""A fake OpenAI upstream that is cheap enough never to be the bottleneck of a proxy benchmark.

    python bench/fast_upstream.py [--host 127.0.0.1] [--port 8091] [--chunk-gap-ms 0]

Raw asyncio protocol on uvloop with the httptools parser (what uvicorn uses): every POST answers
a fixed ``chat.completion`` JSON, or, when the body says ``"stream": true``, a fixed SSE stream of
22 events (role, 20 content words, finish) and ``data: [DONE]``, sent with chunked encoding. Any
GET answers ``{"ok": true}`` (readiness). No routing, no validation: it costs a few microseconds
per request, so one core serves tens of thousands of requests per second.

``--chunk-gap-ms`` sleeps between stream events, like a model producing tokens (0: the whole
stream in one write). ``[DONE]`` and the end of the chunked body always go out in one write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

import httptools
import msgspec

MODEL = "gpt-4o-mini"
CREATED = 1732240000
REPLY_WORDS = ("I understand how frustrating a late delivery is. Your order shipped yesterday and should arrive by Friday; I can send you the tracking link now if you like.").split(" ")
CONTENT_EVENTS = 20


def _chat_body() -> bytes:
    text = " ".join(REPLY_WORDS)
    body = {
        "id": "chatcmpl-bench0001",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 92, "completion_tokens": 34, "total_tokens": 126},
        "system_fingerprint": "fp_bench",
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _sse_events() -> list[bytes]:
    """22 events: role, 20 content pieces (the reply's words, grouped), finish; then [DONE]."""

    def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
        body = {
            "id": "chatcmpl-bench0001",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "system_fingerprint": "fp_bench",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"

    words = [w + " " for w in REPLY_WORDS[:-1]] + [REPLY_WORDS[-1]]
    extra = len(words) - CONTENT_EVENTS  # the first `extra` pieces carry two words
    pieces: list[str] = []
    at = 0
    for i in range(CONTENT_EVENTS):
        n = 2 if i < extra else 1
        pieces.append("".join(words[at : at + n]))
        at += n
    assert at == len(words)
    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": p}) for p in pieces]
    events.append(chunk({}, "stop"))
    events.append(b"data: [DONE]\n\n")
    return events


CHAT = _chat_body()
EVENTS = _sse_events()


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


JSON_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(CHAT), CHAT)
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
SSE_CHUNKS = [_http_chunk(e) for e in EVENTS]
SSE_RESPONSE = SSE_HEAD + b"".join(SSE_CHUNKS) + b"0\r\n\r\n"
OK_BODY = b'{"ok":true}'
GET_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_BODY), OK_BODY)


class _StreamFlag(msgspec.Struct):
    stream: bool = False


_decode_flag = msgspec.json.Decoder(_StreamFlag).decode


STATS = {"connections": 0, "requests": 0}


class UpstreamProtocol(asyncio.Protocol):
    __slots__ = ("body", "gap", "parser", "parser_url", "transport")

    def __init__(self, gap: float) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.body: list[bytes] = []
        self.parser_url = b""
        self.gap = gap

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        STATS["connections"] += 1
        self.transport = transport  # type: ignore[assignment]  # uvloop's TCPTransport is no asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.parser_url = url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        transport = self.transport
        assert transport is not None
        if self.parser.get_method() != b"POST":
            if self.parser_url == b"/_stats":
                body = json.dumps(STATS).encode()
                transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            else:
                transport.write(GET_RESPONSE)
            return
        STATS["requests"] += 1
        raw = b"".join(self.body)
        self.body.clear()
        try:
            stream = _decode_flag(raw).stream
        except msgspec.DecodeError:
            stream = False
        if not stream:
            transport.write(JSON_RESPONSE)
        elif self.gap <= 0:
            transport.write(SSE_RESPONSE)
        else:
            asyncio.get_running_loop().create_task(self._slow_stream(transport))

    async def _slow_stream(self, transport: asyncio.Transport) -> None:
        transport.write(SSE_HEAD)
        for part in SSE_CHUNKS[:-1]:
            if transport.is_closing():
                return
            transport.write(part)
            await asyncio.sleep(self.gap)
        if not transport.is_closing():
            transport.write(SSE_CHUNKS[-1] + b"0\r\n\r\n")  # [DONE] and the end of the body together, as real servers do


async def serve(host: str, port: int, gap: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: UpstreamProtocol(gap), host, port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"fast upstream on http://{host}:{port}/v1", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--chunk-gap-ms", type=float, default=0.0)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        asyncio.run(serve(args.host, args.port, args.chunk_gap_ms / 1000.0))
    else:
        uvloop.run(serve(args.host, args.port, args.chunk_gap_ms / 1000.0))


if __name__ == "__main__":
    main()

"""A fake OpenAI upstream that is cheap enough never to be the bottleneck of a proxy benchmark.

    python bench/fast_upstream.py [--host 127.0.0.1] [--port 8091] [--chunk-gap-ms 0]

Raw asyncio protocol on uvloop with the httptools parser (what uvicorn uses): every POST answers
a fixed ``chat.completion`` JSON, or, when the body says ``"stream": true``, a fixed SSE stream of
22 events (role, 20 content words, finish) and ``data: [DONE]``, sent with chunked encoding. A
POST to a path ending in ``/responses`` answers the same reply as a Responses API ``response``
object (stored: ``store`` true), or as its 28 typed events (created, in progress, item and part
added, the 20 text deltas, text, part and item done, completed). `GET .../models` lists the one model
(a proxy's readiness check); any other GET answers ``{"ok": true}``. No validation: it costs a few microseconds per request, so one core
serves tens of thousands of requests per second.

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


def _pieces() -> list[str]:
    words = [w + " " for w in REPLY_WORDS[:-1]] + [REPLY_WORDS[-1]]
    extra = len(words) - CONTENT_EVENTS
    pieces: list[str] = []
    at = 0
    for i in range(CONTENT_EVENTS):
        n = 2 if i < extra else 1
        pieces.append("".join(words[at : at + n]))
        at += n
    return pieces


def _response(status: str, text: str | None) -> dict[str, object]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    output = [] if text is None else [{"id": "msg_bench0001", "type": "message", "status": "completed", "role": "assistant", "content": [part]}]
    usage = {"input_tokens": 92, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}, "output_tokens": 34, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 126}
    return {
        "id": "resp_bench0001", "object": "response", "created_at": CREATED, "status": status, "error": None, "incomplete_details": None,
        "instructions": None, "model": MODEL, "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
        "temperature": 0.7, "top_p": 1.0, "metadata": {}, "store": True, **({"usage": usage} if text is not None else {}),
    }  # fmt: skip


def _responses_events() -> list[bytes]:
    """28 typed events of the same reply, ending with response.completed (no [DONE] in this API)."""
    text = " ".join(REPLY_WORDS)
    item = {"id": "msg_bench0001", "type": "message", "status": "in_progress", "role": "assistant", "content": []}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    where = {"item_id": "msg_bench0001", "output_index": 0, "content_index": 0}
    events: list[dict[str, object]] = [
        {"type": "response.created", "response": _response("in_progress", None)},
        {"type": "response.in_progress", "response": _response("in_progress", None)},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", **where, "part": part},
    ]
    events += [{"type": "response.output_text.delta", **where, "delta": p, "logprobs": []} for p in _pieces()]
    done_part = {**part, "text": text}
    events += [
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": done_part},
        {"type": "response.output_item.done", "output_index": 0, "item": {**item, "status": "completed", "content": [done_part]}},
        {"type": "response.completed", "response": _response("completed", text)},
    ]
    out = []
    for number, event in enumerate(events):
        event["sequence_number"] = number
        out.append(b"event: " + str(event["type"]).encode() + b"\ndata: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n")
    return out


CHAT = _chat_body()
EVENTS = _sse_events()
RESPONSE = json.dumps(_response("completed", " ".join(REPLY_WORDS)), separators=(",", ":")).encode()
RESPONSE_EVENTS = _responses_events()


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


JSON_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(CHAT), CHAT)
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
SSE_CHUNKS = [_http_chunk(e) for e in EVENTS]
SSE_RESPONSE = SSE_HEAD + b"".join(SSE_CHUNKS) + b"0\r\n\r\n"
RESPONSES_JSON = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(RESPONSE), RESPONSE)
RESPONSES_CHUNKS = [_http_chunk(e) for e in RESPONSE_EVENTS]
RESPONSES_SSE = SSE_HEAD + b"".join(RESPONSES_CHUNKS) + b"0\r\n\r\n"
OK_BODY = b'{"ok":true}'
MODELS_BODY = b'{"object":"list","data":[{"id":"%s","object":"model","created":%d,"owned_by":"bench"}]}' % (MODEL.encode(), CREATED)
MODELS_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(MODELS_BODY), MODELS_BODY)
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
            elif self.parser_url.endswith(b"/models"):  # a proxy's readiness check lists the models
                transport.write(MODELS_RESPONSE)
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
        responses = self.parser_url.endswith(b"/responses")
        if not stream:
            transport.write(RESPONSES_JSON if responses else JSON_RESPONSE)
        elif self.gap <= 0:
            transport.write(RESPONSES_SSE if responses else SSE_RESPONSE)
        else:
            asyncio.get_running_loop().create_task(self._slow_stream(transport, RESPONSES_CHUNKS if responses else SSE_CHUNKS))

    async def _slow_stream(self, transport: asyncio.Transport, chunks: list[bytes]) -> None:
        transport.write(SSE_HEAD)
        for part in chunks[:-1]:
            if transport.is_closing():
                return
            transport.write(part)
            await asyncio.sleep(self.gap)
        if not transport.is_closing():
            transport.write(chunks[-1] + b"0\r\n\r\n")  # the last event and the end of the body together, as real servers do


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

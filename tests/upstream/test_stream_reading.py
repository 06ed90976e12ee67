"""How a streamed upstream reply is read: the events of one read go on as one window (text pieces
joined; tool-call arguments and everything else as they came), a fault after some events still lets those through first, and the
wait for each chunk is bounded by one timer per stream (:class:`ChunkTimer`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from proxy.errors import UpstreamStatusError, UpstreamTimeout
from proxy.pipeline.deltas import Delta, ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta, coalesce
from proxy.settings import Timeouts, UpstreamSettings
from proxy.upstream.chunk_timer import ChunkTimer
from proxy.upstream.httpx_transport import HttpxTransport
from proxy.upstream.openai import OpenAIUpstream

FAST = Timeouts(connect=2, read=5, total=10, stream_idle=0.5)


def _event(delta: dict[str, object], finish: str | None = None, **extra: object) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


async def _deltas(body: bytes) -> list[Delta]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    transport = HttpxTransport(transport=httpx.MockTransport(handler))
    up = OpenAIUpstream(UpstreamSettings(name="m", base_url="http://up.test/v1"), transport, FAST)
    completion = await up.chat({"model": "m", "messages": [], "stream": True})
    try:
        return [d async for d in completion.deltas]
    finally:
        await transport.aclose()


def test_coalesce_joins_runs_of_text_of_one_choice_and_nothing_else() -> None:
    got = coalesce(
        [
            TextDelta("Hel"),
            TextDelta("lo "),
            TextDelta("there", choice=1),
            TextDelta("!", choice=1),
            TextDelta("with logprobs", logprobs={"content": []}),
            TextDelta(" and after"),
            ToolCallDelta(0, id="call_1", name="f", arguments='{"a"'),
            ToolCallDelta(0, arguments=": 1", type=None),
            ToolCallDelta(0, arguments="}", type=None),
            ToolCallDelta(1, id="call_2", name="g", arguments="{}"),
            ExtraDelta({"refusal": "no"}),
            TextDelta("x"),
            FinishDelta("stop"),
            UsageDelta({"total_tokens": 3}),
        ]
    )
    assert got == [
        TextDelta("Hello "),
        TextDelta("there!", choice=1),
        TextDelta("with logprobs", logprobs={"content": []}),
        TextDelta(" and after"),
        ToolCallDelta(0, id="call_1", name="f", arguments='{"a"'),
        ToolCallDelta(0, arguments=": 1", type=None),
        ToolCallDelta(0, arguments="}", type=None),
        ToolCallDelta(1, id="call_2", name="g", arguments="{}"),
        ExtraDelta({"refusal": "no"}),
        TextDelta("x"),
        FinishDelta("stop"),
        UsageDelta({"total_tokens": 3}),
    ]


async def test_the_events_of_one_read_go_on_as_one_text_piece() -> None:
    body = _event({"role": "assistant", "content": ""}) + b"".join(_event({"content": w}) for w in ("I ", "can ", "help.")) + _event({}, "stop") + b"data: [DONE]\n\n"
    assert await _deltas(body) == [TextDelta("I can help."), FinishDelta("stop")]


async def test_a_fault_after_some_events_of_a_read_comes_after_them() -> None:
    error = b'data: {"error": {"message": "overloaded", "type": "server_error", "code": 503}}\n\n'
    body = _event({"content": "Part "}) + _event({"content": "one"}) + error
    got: list[Delta] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    transport = HttpxTransport(transport=httpx.MockTransport(handler))
    up = OpenAIUpstream(UpstreamSettings(name="m", base_url="http://up.test/v1"), transport, FAST)
    completion = await up.chat({"model": "m", "messages": [], "stream": True})
    with pytest.raises(UpstreamStatusError):
        async for d in completion.deltas:
            got.append(d)
    await transport.aclose()
    assert got == [TextDelta("Part one")]


async def _chunks(gaps: list[float]) -> AsyncIterator[bytes]:
    for gap in gaps:
        await asyncio.sleep(gap)
        yield b"x"


async def test_the_chunk_timer_lets_a_steady_stream_through_and_ends_a_silent_one() -> None:
    steady = ChunkTimer(0.2, time.monotonic() + 10)
    source = _chunks([0.05] * 12)  # 0.6 s in all, never 0.2 s of silence
    got = [c async for c in _until_none(steady, source)]
    steady.close()
    assert len(got) == 12

    silent = ChunkTimer(0.2, time.monotonic() + 10)
    source = _chunks([0.01, 0.5])
    assert await silent.next(source) == b"x"
    with pytest.raises(UpstreamTimeout) as err:
        await silent.next(source)
    assert err.value.kind == "upstream_stream_idle"
    silent.close()


async def test_the_chunk_timer_keeps_the_exchange_deadline() -> None:
    timer = ChunkTimer(5.0, time.monotonic() + 0.2)
    source = _chunks([0.1, 0.1, 0.1, 0.1])
    with pytest.raises(UpstreamTimeout) as err:
        async for _ in _until_none(timer, source):
            pass
    assert err.value.kind in ("upstream_stream_idle", "upstream_total_timeout")
    timer.close()
    with pytest.raises(UpstreamTimeout) as late:
        await ChunkTimer(5.0, time.monotonic() - 1).next(_chunks([0]))
    assert late.value.kind == "upstream_total_timeout"


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    timer = ChunkTimer(5.0, time.monotonic() + 10)
    task = asyncio.create_task(timer.next(_chunks([1.0])))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    timer.close()


async def _until_none(timer: ChunkTimer, source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    while (chunk := await timer.next(source)) is not None:
        yield chunk

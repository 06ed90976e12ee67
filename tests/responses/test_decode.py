"""An upstream's Responses reply (JSON, or typed SSE events) -> the pipeline's deltas."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.errors import UpstreamProtocolError, UpstreamStatusError
from proxy.pipeline.deltas import Delta, ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta
from proxy.responses.decode import OUTPUT_ITEM, EventReader, response_completion
from proxy.responses.encode import events_from_deltas

REASONING = {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "hm"}]}
USAGE = {"input_tokens": 3, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0}, "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 1}, "total_tokens": 5}


def _response(output: list[Any], **fields: Any) -> dict[str, Any]:
    return {"id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "m", "output": output, "usage": USAGE, "store": True, **fields}


async def _all(completion: Any) -> list[Delta]:
    return [d async for d in completion.deltas]


async def test_a_response_object_becomes_deltas_in_order() -> None:
    output = [
        REASONING,
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [
                {"type": "output_text", "text": "Hello <PERSON_1>.", "annotations": [{"type": "url_citation", "url": "https://a.example"}], "logprobs": [{"token": "Hello", "logprob": 0.0}]},
                {"type": "refusal", "refusal": "no"},
            ],
        },
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "lookup", "arguments": '{"q": 1}', "status": "completed"},
    ]
    completion = response_completion(_response(output, instructions="persona", temperature=0.5))
    assert completion.kept_as == "resp_1"
    assert completion.meta == {"id": "resp_1", "object": "response", "created_at": 1, "model": "m", "store": True, "instructions": "persona", "temperature": 0.5}
    assert await _all(completion) == [
        ExtraDelta({OUTPUT_ITEM: REASONING}),
        ExtraDelta({OUTPUT_ITEM: {"type": "message", "id": "msg_1", "role": "assistant"}}),
        TextDelta("Hello <PERSON_1>.", 0, {"content": [{"token": "Hello", "logprob": 0.0}], "refusal": None}),
        ExtraDelta({"annotations": [{"type": "url_citation", "url": "https://a.example"}]}),
        ExtraDelta({"refusal": "no"}),
        ExtraDelta({OUTPUT_ITEM: {"type": "function_call", "id": "fc_1", "call_id": "call_1"}}),
        ToolCallDelta(0, 0, "call_1", "lookup", '{"q": 1}', "function"),
        FinishDelta("tool_calls"),
        UsageDelta(USAGE),
    ]


@pytest.mark.parametrize(
    "status,details,finish",
    [("completed", None, "stop"), ("incomplete", {"reason": "max_output_tokens"}, "length"), ("incomplete", {"reason": "content_filter"}, "content_filter")],
)
async def test_the_status_is_the_finish(status: str, details: Any, finish: str) -> None:
    deltas = await _all(response_completion(_response([], status=status, incomplete_details=details)))
    assert FinishDelta(finish) in deltas


def test_a_response_not_kept_has_no_kept_id() -> None:
    assert response_completion(_response([], store=False)).kept_as is None


@pytest.mark.parametrize(("code", "status"), [("server_error", 502), ("rate_limit_exceeded", 429)])
def test_a_failed_response_is_an_upstream_error(code: str, status: int) -> None:
    with pytest.raises(UpstreamStatusError) as err:
        response_completion(_response([], status="failed", error={"code": code, "message": "quoting the prompt"}))
    assert err.value.http_status == status
    assert "quoting" not in err.value.to_body()["error"]["message"], "the upstream's message is not passed on"


@pytest.mark.parametrize("body", [{"choices": []}, {"output": "text"}, {"object": "response"}])
def test_what_is_not_a_response_is_a_protocol_error(body: dict[str, Any]) -> None:
    with pytest.raises(UpstreamProtocolError):
        response_completion(body)


def _read(events: list[dict[str, Any]]) -> tuple[EventReader, list[Delta]]:
    reader = EventReader()
    reader.first(events[0])
    return reader, [d for e in events for d in reader.deltas(e)]


@pytest.mark.parametrize("pieces", [["Hello <PERSON_1>."], ["Hel", "lo <PER", "SON_1>", "."]])
def test_stream_events_become_the_deltas_they_were_written_from(pieces: list[str]) -> None:
    written: list[Delta] = [
        ExtraDelta({OUTPUT_ITEM: {"type": "message", "id": "msg_1", "role": "assistant"}}),
        *(TextDelta(p) for p in pieces),
        ExtraDelta({OUTPUT_ITEM: REASONING}),
        ExtraDelta({OUTPUT_ITEM: {"type": "function_call", "id": "fc_9", "call_id": "call_9"}}),
        ToolCallDelta(0, 0, "call_9", "lookup", "", "function"),
        ToolCallDelta(0, 0, arguments='{"q":', type=None),
        ToolCallDelta(0, 0, arguments=" 1}", type=None),
        FinishDelta("tool_calls"),
        UsageDelta(USAGE),
    ]
    events = events_from_deltas({"id": "resp_7", "created_at": 1, "model": "m"}, {}, written)
    reader, read = _read(events)
    assert reader.meta["id"] == "resp_7" and reader.kept_as == "resp_7" and reader.finished
    texts = "".join(d.text for d in read if isinstance(d, TextDelta))
    assert texts == "Hello <PERSON_1>." and [d.text for d in read if isinstance(d, TextDelta)] == pieces
    calls = [d for d in read if isinstance(d, ToolCallDelta)]
    assert calls[0] == ToolCallDelta(0, 0, "call_9", "lookup", "", "function")
    assert "".join(c.arguments for c in calls) == '{"q": 1}'
    assert ExtraDelta({OUTPUT_ITEM: REASONING}) in read
    assert read[-2:] == [FinishDelta("tool_calls"), UsageDelta(USAGE)]


def test_text_and_arguments_sent_only_in_done_events_are_read() -> None:
    reader = EventReader()
    reader.first({"type": "response.created", "response": _response([], status="in_progress")})
    events = [
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": []}},
        {"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": "All at once."},
        {"type": "response.output_item.added", "output_index": 1, "item": {"type": "function_call", "id": "fc_1", "call_id": "c", "name": "f", "arguments": ""}},
        {"type": "response.output_item.done", "output_index": 1, "item": {"type": "function_call", "id": "fc_1", "call_id": "c", "name": "f", "arguments": "{}"}},
        {"type": "response.incomplete", "response": _response([], status="incomplete", incomplete_details={"reason": "max_output_tokens"})},
    ]
    read = [d for e in events for d in reader.deltas(e)]
    assert TextDelta("All at once.") in read
    assert ToolCallDelta(0, 0, arguments="{}", type=None) in read
    assert FinishDelta("length") in read


def test_an_error_first_is_the_requests_status_and_later_a_stream_error() -> None:
    with pytest.raises(UpstreamStatusError) as err:
        EventReader().first({"type": "error", "code": "rate_limit_exceeded", "message": "slow down", "param": None, "sequence_number": 0})
    assert err.value.http_status == 429
    reader = EventReader()
    reader.first({"type": "response.created", "response": _response([], status="in_progress")})
    with pytest.raises(UpstreamStatusError):
        list(reader.deltas({"type": "response.failed", "response": _response([], status="failed", error={"code": "server_error", "message": "x"})}))

"""Deltas -> the Responses object and its typed stream events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from proxy.errors import UpstreamTimeout
from proxy.pipeline.completion import Completion
from proxy.pipeline.deltas import Delta, ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta
from proxy.responses.decode import OUTPUT_ITEM, response_completion
from proxy.responses.encode import OutputAssembler, collect_response, error_event, events_from_deltas, response_object, usage_out

META = {"id": "resp_1", "created_at": 5, "model": "m"}


async def _gen(deltas: list[Delta]) -> AsyncIterator[Delta]:
    for d in deltas:
        yield d


def test_text_then_a_tool_call_open_and_close_their_items_in_order() -> None:
    assembler = OutputAssembler()
    events: list[dict[str, Any]] = []
    for delta in [TextDelta("Let me "), TextDelta("check."), ToolCallDelta(0, 0, "call_1", "lookup", '{"q"', "function"), ToolCallDelta(0, 0, arguments=": 1}", type=None), FinishDelta("tool_calls")]:
        events += assembler.feed(delta)
    events += assembler.close()
    assert [e["type"] for e in events] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ]
    message, call = assembler.output
    assert message["content"] == [{"type": "output_text", "text": "Let me check.", "annotations": [], "logprobs": []}] and message["status"] == "completed"
    assert {k: call[k] for k in ("type", "call_id", "name", "arguments", "status")} == {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": '{"q": 1}', "status": "completed"}
    assert events[0]["item"]["content"] == [] and events[0]["item"]["status"] == "in_progress", "an added event shows the item as it was then"
    assert events[4]["text"] == "Let me check." and events[10]["arguments"] == '{"q": 1}'
    assert assembler.status == ("completed", None)


def test_the_upstreams_item_ids_are_kept_and_other_items_added_whole() -> None:
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": []}
    assembler = OutputAssembler()
    for delta in [
        ExtraDelta({OUTPUT_ITEM: reasoning}),
        ExtraDelta({OUTPUT_ITEM: {"type": "message", "id": "msg_up", "role": "assistant"}}),
        TextDelta("Hi."),
        ExtraDelta({"refusal": "I can't say more."}),
        ExtraDelta({OUTPUT_ITEM: {"type": "function_call", "id": "fc_up", "call_id": "call_up"}}),
        ToolCallDelta(0, 0, "call_up", "f", "{}", "function"),
    ]:
        assembler.feed(delta)
    assembler.close()
    assert [i["id"] for i in assembler.output] == ["rs_1", "msg_up", "fc_up"]
    assert assembler.output[1]["content"] == [{"type": "output_text", "text": "Hi.", "annotations": [], "logprobs": []}, {"type": "refusal", "refusal": "I can't say more."}]


def test_a_stopped_reply_is_incomplete_for_content_filter_and_a_long_one_for_max_output_tokens() -> None:
    for finish, details in (("content_filter", {"reason": "content_filter"}), ("length", {"reason": "max_output_tokens"})):
        assembler = OutputAssembler()
        assembler.feed(TextDelta("I'm sorry, I can't help with that here."))
        assembler.feed(FinishDelta(finish))
        assembler.close()
        assert assembler.status == ("incomplete", details)
        assert assembler.output[0]["status"] == "incomplete"


def test_chat_usage_is_converted_and_missing_details_filled() -> None:
    assert usage_out({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10, "prompt_tokens_details": {"cached_tokens": 2}}) == {
        "input_tokens": 7,
        "input_tokens_details": {"cached_tokens": 2, "cache_write_tokens": 0},
        "output_tokens": 3,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 10,
    }
    assert usage_out({"input_tokens": 1, "output_tokens": 2})["total_tokens"] == 3  # type: ignore[index]
    assert usage_out(None) is None


def test_the_reply_shows_the_clients_own_fields_never_what_bedside_sent() -> None:
    upstream_meta = {
        **META,
        "instructions": "[bedside:persona] You are Ava.",
        "metadata": {"name": "<PERSON_1>"},
        "user": "u-1234",
        "previous_response_id": "resp_upstream_0",
        "temperature": 0.3,
        "max_output_tokens": 800,
    }
    body = response_object(upstream_meta, {"metadata": {"name": "Ann"}, "previous_response_id": "resp_chatcmpl-bedside-1", "conversation": "conv_1"}, output=[], status="completed")
    assert body["instructions"] is None and "user" not in body
    assert body["metadata"] == {"name": "Ann"} and body["previous_response_id"] == "resp_chatcmpl-bedside-1"
    assert body["conversation"] == {"id": "conv_1"}
    assert (body["temperature"], body["max_output_tokens"]) == (0.3, 800), "the values the model ran with (clamped) are shown"
    assert body["id"] == "resp_1" and body["object"] == "response" and "completed_at" in body


def test_replies_bedside_wrote_get_a_response_id() -> None:
    body = response_object({"id": "chatcmpl-bedside-abc", "created": 9, "model": "m"}, {}, output=[], status="completed")
    assert (body["id"], body["created_at"]) == ("resp_chatcmpl-bedside-abc", 9)


async def test_a_response_comes_back_the_same_through_the_pipeline_shapes() -> None:
    original = {
        **META,
        "object": "response",
        "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": [{"type": "output_text", "text": "Hello.", "annotations": [], "logprobs": []}]},
            {"type": "function_call", "id": "fc_1", "status": "completed", "call_id": "call_1", "name": "f", "arguments": "{}"},
        ],
        "usage": usage_out({"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}),
    }
    again = await collect_response(response_completion(original), {})
    assert again["output"] == original["output"] and again["usage"] == original["usage"] and again["status"] == "completed"


def test_a_whole_reply_as_events_numbers_them_and_ends_with_the_final_response() -> None:
    events = events_from_deltas(META, {}, [TextDelta("Hi."), FinishDelta("stop"), UsageDelta({"input_tokens": 1, "output_tokens": 1})])
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[0]["type"] == "response.created" and events[0]["response"]["status"] == "in_progress" and events[0]["response"]["output"] == []
    assert events[-1]["type"] == "response.completed" and events[-1]["response"]["output"][0]["content"][0]["text"] == "Hi."


async def test_collect_closes_the_completion_and_errors_escape() -> None:
    closed: list[bool] = []

    async def failing() -> AsyncIterator[Delta]:
        try:
            yield TextDelta("partial")
            raise UpstreamTimeout("The model server went silent in the middle of its reply.", kind="upstream_stream_idle")
        finally:
            closed.append(True)

    try:
        await collect_response(Completion(deltas=failing(), meta=META), {})
    except UpstreamTimeout as exc:
        event = error_event(exc, exc.to_body())
        assert event == {"type": "error", "code": "upstream_timeout", "message": "The model server went silent in the middle of its reply.", "param": None}
    else:  # pragma: no cover - the test fails here
        raise AssertionError("the upstream fault should escape")
    assert closed == [True]

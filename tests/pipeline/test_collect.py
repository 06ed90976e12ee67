"""``collect()``: a completion's deltas become one ``chat.completion`` body, on top of the
upstream's own choices so fields Bedside does not model survive."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from proxy.pipeline.collect import collect
from proxy.pipeline.completion import Completion
from proxy.pipeline.deltas import Delta, ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta

META = {"id": "chatcmpl-1", "created": 1700000000, "model": "gpt-4o-mini", "system_fingerprint": "fp_1", "service_tier": "default"}


def _completion(deltas: Sequence[Delta], *, template: list[dict[str, Any]] | None = None, closed: list[bool] | None = None) -> Completion:
    async def gen() -> AsyncIterator[Delta]:
        try:
            for d in deltas:
                yield d
        finally:
            if closed is not None:
                closed.append(True)

    return Completion(deltas=gen(), meta=dict(META), template=template)


async def test_text_pieces_finish_and_usage_become_one_body() -> None:
    closed: list[bool] = []
    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    body = await collect(_completion([TextDelta("Hel"), TextDelta("lo"), TextDelta("!"), FinishDelta("length"), UsageDelta(usage)], closed=closed))
    assert body == {
        **META,
        "object": "chat.completion",
        "choices": [{"index": 0, "logprobs": None, "message": {"role": "assistant", "content": "Hello!", "refusal": None}, "finish_reason": "length"}],
        "usage": usage,
    }
    assert closed == [True]  # the iterator is closed (the upstream released) once drained


async def test_no_text_is_null_content_and_a_missing_finish_is_stop() -> None:
    body = await collect(_completion([ToolCallDelta(0, id="call_1", name="f", arguments="{}")]))
    choice = body["choices"][0]
    assert choice["message"]["content"] is None
    assert choice["finish_reason"] == "stop"
    assert "usage" not in body


async def test_template_fields_survive_and_rewritten_fields_are_rebuilt() -> None:
    template = [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Call me at 555-0100.", "refusal": None, "annotations": [{"type": "url_citation"}], "vendor_note": "kept"},
            "logprobs": None,
            "finish_reason": "stop",
            "vendor_choice_field": {"a": 1},
        }
    ]
    body = await collect(_completion([TextDelta("Call me at <PHONE_1>."), FinishDelta("stop")], template=template))
    choice = body["choices"][0]
    assert choice["vendor_choice_field"] == {"a": 1}
    assert choice["message"]["annotations"] == [{"type": "url_citation"}]
    assert choice["message"]["vendor_note"] == "kept"
    assert choice["message"]["content"] == "Call me at <PHONE_1>."
    assert template[0]["message"]["content"] == "Call me at 555-0100."  # the template itself is not edited


async def test_a_stopped_choice_keeps_its_template_and_takes_the_new_finish() -> None:
    template = [{"index": 0, "message": {"role": "assistant", "content": "long text"}, "logprobs": {"content": [{"token": "long"}]}, "finish_reason": "stop"}]
    body = await collect(_completion([TextDelta("I can't share that."), FinishDelta("content_filter")], template=template))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "content_filter"
    assert choice["logprobs"] is None  # withheld with the text they described


async def test_tool_calls_removed_by_a_stage_are_dropped_from_the_template() -> None:
    template = [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}]
    body = await collect(_completion([TextDelta("Done."), FinishDelta("stop")], template=template))
    message = body["choices"][0]["message"]
    assert "tool_calls" not in message and message["content"] == "Done."


async def test_several_choices_are_rebuilt_in_index_order() -> None:
    deltas: list[Delta] = [TextDelta("B1", 1), TextDelta("A1", 0), TextDelta("B2", 1), FinishDelta("stop", 1), TextDelta("A2", 0), FinishDelta("length", 0)]
    body = await collect(_completion(deltas))
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in body["choices"]] == [(0, "A1A2", "length"), (1, "B1B2", "stop")]


async def test_a_template_choice_without_deltas_is_kept() -> None:
    template = [{"index": 0, "message": {"role": "assistant", "content": "a"}, "finish_reason": "stop"}, {"index": 1, "message": {"role": "assistant", "content": "b"}, "finish_reason": "stop"}]
    body = await collect(_completion([TextDelta("a", 0), FinishDelta("stop", 0)], template=template))
    assert [c["message"]["content"] for c in body["choices"]] == ["a", "b"]


async def test_tool_call_pieces_are_joined_per_call() -> None:
    deltas: list[Delta] = [
        ToolCallDelta(0, id="call_a", name="lookup_order", arguments='{"id": '),
        ToolCallDelta(1, id="call_b", name="get_weather", arguments=""),
        ToolCallDelta(0, arguments='"A-1"}'),
        ToolCallDelta(1, arguments='{"city": "Oslo"}'),
        FinishDelta("tool_calls"),
    ]
    body = await collect(_completion(deltas))
    message = body["choices"][0]["message"]
    assert message["tool_calls"] == [
        {"id": "call_a", "type": "function", "function": {"name": "lookup_order", "arguments": '{"id": "A-1"}'}},
        {"id": "call_b", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
    ]
    assert message["content"] is None
    assert body["choices"][0]["finish_reason"] == "tool_calls"


async def test_extra_fields_are_passed_through_and_string_pieces_joined() -> None:
    deltas: list[Delta] = [ExtraDelta({"refusal": "I can't "}), ExtraDelta({"refusal": "do that."}), ExtraDelta({"reasoning": {"steps": 2}}), FinishDelta("stop")]
    message = (await collect(_completion(deltas)))["choices"][0]["message"]
    assert message["refusal"] == "I can't do that."
    assert message["reasoning"] == {"steps": 2}


async def test_logprobs_one_part_passes_as_is_several_are_merged() -> None:
    one = {"content": [{"token": "Hi", "logprob": -0.1}], "refusal": None, "vendor": 1}
    body = await collect(_completion([TextDelta("Hi", logprobs=one), FinishDelta("stop")]))
    assert body["choices"][0]["logprobs"] is one
    parts = [{"content": [{"token": "Hi", "logprob": -0.1}]}, {"content": [{"token": "!", "logprob": -0.2}]}]
    body = await collect(_completion([TextDelta("Hi", logprobs=parts[0]), TextDelta("!", logprobs=parts[1]), FinishDelta("stop")]))
    assert body["choices"][0]["logprobs"] == {"content": [{"token": "Hi", "logprob": -0.1}, {"token": "!", "logprob": -0.2}], "refusal": None}


async def test_an_untouched_upstream_body_is_returned_as_it_came() -> None:
    upstream = {**META, "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}], "x_vendor": True}
    closed: list[bool] = []
    completion = _completion([TextDelta("hi"), FinishDelta("stop")], template=upstream["choices"], closed=closed)
    completion.passthrough = upstream
    completion._passthrough_of = completion.deltas
    assert await collect(completion) is upstream

    wrapped = _completion([TextDelta("hi"), FinishDelta("stop")], template=upstream["choices"])
    wrapped.passthrough = upstream
    wrapped._passthrough_of = wrapped.deltas

    async def same(deltas: AsyncIterator[Delta]) -> AsyncIterator[Delta]:
        async for d in deltas:
            yield d

    body = await collect(wrapped.map_deltas(same))  # a stage wrapped it: rebuilt (same content)
    assert body is not upstream and body["choices"][0]["message"]["content"] == "hi"
    assert "x_vendor" not in body  # only meta fields are carried on a rebuilt body

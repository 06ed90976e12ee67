"""Responses requests for an upstream that serves only chat completions: what is carried, dropped, refused."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.errors import InvalidRequest
from proxy.responses.request import from_responses
from proxy.responses.translate import responses_meta, to_chat


def _chat(request: dict[str, Any]) -> dict[str, Any]:
    body, _, thread = from_responses({"model": "m", **request})
    return to_chat(body, thread)


def test_a_conversation_with_a_function_round_trip_becomes_a_clean_chat_request() -> None:
    out = _chat(
        {
            "instructions": "Be brief.",
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "Where is A-1?"}], "id": "msg_0"},
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}", "id": "fc_1", "status": "completed"},
                {"type": "reasoning", "id": "rs_2", "summary": []},
                {"type": "function_call", "call_id": "c2", "name": "lookup", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "shipped", "id": "fco_1"},
                {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "late"}]},
            ],
            "tools": [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}],
            "tool_choice": "required",
            "max_output_tokens": 50,
            "text": {"format": {"type": "json_object"}, "verbosity": "low"},
            "reasoning": {"effort": "high", "summary": "auto"},
            "store": True,
            "include": ["message.output_text.logprobs"],
            "truncation": "auto",
            "stream": True,
            "metadata": {"k": "v"},
        }
    )
    assert out == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Where is A-1?"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [  # the reasoning items that separated them are gone: the calls are one turn again
                    {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "lookup", "arguments": "{}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "shipped"},
            {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "late"}]},
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        "tool_choice": "required",
        "max_completion_tokens": 50,
        "response_format": {"type": "json_object"},
        "verbosity": "low",
        "reasoning_effort": "high",
        "stream": True,
        "metadata": {"k": "v"},
        "logprobs": True,
        "stream_options": {"include_usage": True},
    }


@pytest.mark.parametrize(
    "request_,param",
    [
        ({"input": "hi", "previous_response_id": "resp_1"}, "previous_response_id"),
        ({"input": "hi", "conversation": "conv_1"}, "conversation"),
        ({"input": "hi", "tools": [{"type": "web_search"}]}, "tools"),
        ({"input": "hi", "tool_choice": {"type": "web_search"}}, "tool_choice"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input"),
        ({"input": [{"type": "web_search_call", "id": "ws_1", "status": "completed"}]}, "input"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1", "detail": "auto"}]}]}, "input"),
        ({"input": [{"role": "user", "content": [{"type": "input_file", "file_url": "https://x.example/a.pdf"}]}]}, "input"),
        ({"input": [{"type": "function_call_output", "call_id": "c", "output": [{"type": "input_image", "image_url": "https://x.example/a.png"}]}]}, "input"),
        ({"input": "hi", "prompt": {"id": "pmpt_1"}}, "prompt"),
    ],
)
def test_what_chat_cannot_carry_is_refused_kindly(request_: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        _chat(request_)
    assert err.value.param == param
    assert err.value.message.startswith("The model server behind this model speaks only chat completions")
    assert err.value.code in ("unsupported_by_model_server", "unsupported_parameter")


def test_the_reply_gets_a_response_id() -> None:
    meta = responses_meta({"id": "chatcmpl-1", "created": 1700000000, "model": "llama", "system_fingerprint": "fp"})
    assert meta["id"].startswith("resp_") and meta["created_at"] == 1700000000 and meta["model"] == "llama"
    assert "system_fingerprint" not in meta

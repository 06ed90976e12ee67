"""A Responses request <-> the pipeline's request: both ways, and what the stages may do between."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from proxy.api.chat_checks import check_chat
from proxy.marks import PERSONA_MARK, TONE_MARK
from proxy.responses.request import OPAQUE_KEY, from_responses, to_responses

REASONING = {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Thinking about it."}], "encrypted_content": "gAAAAB"}

#: a request with every shape the mapping knows, in the form to_responses writes it back
RICH: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "instructions": "Be brief.",
    "input": [
        {"type": "message", "role": "developer", "content": "Docs: the shop opens at 9."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi, look at this"}, {"type": "input_image", "detail": "low", "image_url": "https://x.example/a.png"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Looking.", "annotations": [{"type": "url_citation", "url": "https://x.example"}]}], "id": "msg_1", "status": "completed"},
        REASONING,
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": '{"q": "a"}', "id": "fc_1", "status": "completed"},
        {"type": "function_call", "call_id": "call_2", "name": "lookup", "arguments": '{"q": "b"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "found a"},
        {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "found b"}]},
        {"type": "item_reference", "id": "msg_0"},
        {"type": "message", "role": "user", "content": [{"type": "input_file", "filename": "a.pdf", "file_data": "data:application/pdf;base64,AAAA"}]},
    ],
    "tools": [{"type": "function", "name": "lookup", "description": "Look up.", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}, "strict": True}, {"type": "web_search"}],
    "tool_choice": {"type": "function", "name": "lookup"},
    "max_output_tokens": 300,
    "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}, "strict": True}, "verbosity": "low"},
    "reasoning": {"effort": "low", "summary": "auto"},
    "metadata": {"ticket": "T-1"},
    "user": "ann",
    "store": False,
    "temperature": 0.2,
    "include": ["reasoning.encrypted_content"],
    "x_vendor": {"anything": "goes"},
}


def test_a_rich_request_comes_back_as_it_was_sent() -> None:
    body, wire, thread = from_responses(copy.deepcopy(RICH))
    assert thread.continues is None and thread.keep is False  # store: false
    assert to_responses(body, wire, thread) == RICH


def test_the_pipeline_body_is_a_chat_request_the_stages_understand() -> None:
    body, _, _ = from_responses(copy.deepcopy(RICH))
    check_chat(body)  # every message, part, tool call and tool the stages read has its chat shape
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "developer", "user", "assistant", "assistant", "tool", "tool", "user"]
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    calls = body["messages"][4]["tool_calls"]
    assert [c["id"] for c in calls] == ["call_1", "call_2"], "consecutive function calls share one assistant message"
    assert calls[0]["function"] == {"name": "lookup", "arguments": '{"q": "a"}'}
    assert body["messages"][2]["content"][1] == {"type": "image_url", "image_url": {"detail": "low", "url": "https://x.example/a.png"}}
    assert body["messages"][7]["content"][0] == {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,AAAA"}}
    assert body["tools"][0] == {"type": "function", "function": {"name": "lookup", "description": "Look up.", "parameters": RICH["tools"][0]["parameters"], "strict": True}}
    assert body["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert body["max_completion_tokens"] == 300 and "max_output_tokens" not in body
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True}}
    assert (body["verbosity"], body["reasoning_effort"], body["reasoning"]) == ("low", "low", {"summary": "auto"})
    assert body[OPAQUE_KEY] == [REASONING, {"type": "item_reference", "id": "msg_0"}]


def test_what_the_stages_did_is_what_goes_upstream() -> None:
    body, wire, thread = from_responses(copy.deepcopy(RICH))
    messages = body["messages"]
    messages.insert(0, {"role": "system", "content": f"{PERSONA_MARK} You are Ava."})  # policy: persona first
    messages.insert(len(messages) - 1, {"role": "system", "content": f"{TONE_MARK} Be gentle."})  # tone: before the last user turn
    messages[2]["content"] = "Docs: the shop opens at <TIME_1>."  # pii: redacted in place
    body["max_completion_tokens"] = 200  # policy: clamped
    body["tools"] = body["tools"][:1]  # policy: the built-in tool removed
    out = to_responses(body, wire, thread)
    assert out["instructions"] == f"{PERSONA_MARK} You are Ava.\n\nBe brief.\n\n{TONE_MARK} Be gentle."
    assert out["input"][0] == {"type": "message", "role": "developer", "content": "Docs: the shop opens at <TIME_1>."}
    assert len(out["input"]) == len(RICH["input"]), "Bedside's guidance goes to instructions, never into the stored input"
    assert out["max_output_tokens"] == 200
    assert [t["type"] for t in out["tools"]] == ["function"]


def test_kept_items_stay_after_the_message_they_followed_when_it_is_dropped() -> None:
    request = {
        "model": "m",
        "input": [
            {"role": "system", "content": "client system"},
            {"type": "reasoning", "id": "rs_1", "summary": []},
            {"role": "user", "content": "hi"},
        ],
    }
    body, wire, thread = from_responses(request)
    del body["messages"][0]  # a policy that drops client system messages
    out = to_responses(body, wire, thread)
    assert [i.get("type") for i in out["input"]] == ["reasoning", "message"]


def test_instructions_as_a_list_come_back_as_a_list() -> None:
    request = {"model": "m", "instructions": [{"role": "developer", "content": [{"type": "input_text", "text": "Rule one."}]}], "input": "hi"}
    body, wire, thread = from_responses(copy.deepcopy(request))
    body["messages"].insert(0, {"role": "system", "content": f"{PERSONA_MARK} P"})
    out = to_responses(body, wire, thread)
    assert out["instructions"] == [
        {"type": "message", "role": "system", "content": f"{PERSONA_MARK} P"},
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Rule one."}]},
    ]
    assert out["input"] == [{"type": "message", "role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    "fields,kind,continues",
    [
        ({"previous_response_id": "resp_9"}, "response", "resp_9"),
        ({"previous_response_id": "resp_chatcmpl-bedside-abc"}, "response", "chatcmpl-bedside-abc"),
        ({"conversation": "conv_1"}, "conversation", "conv_1"),
        ({"conversation": {"id": "conv_2"}}, "conversation", "conv_2"),
        ({}, "response", None),
    ],
)
def test_the_thread_is_kept_out_of_the_body(fields: dict[str, Any], kind: str, continues: str | None) -> None:
    body, wire, thread = from_responses({"model": "m", "input": "hi", **fields})
    assert "previous_response_id" not in body and "conversation" not in body
    assert (thread.kind, thread.continues, thread.keep) == (kind, continues, True)
    thread.resume_from = "resp_upstream"
    out = to_responses(body, wire, thread)
    assert out["conversation" if kind == "conversation" else "previous_response_id"] == "resp_upstream"


def test_the_echo_is_a_copy_the_stages_cannot_change() -> None:
    body, wire, _ = from_responses({"model": "m", "input": "hi", "metadata": {"name": "Ann"}, "instructions": "I"})
    body["metadata"]["name"] = "<PERSON_1>"
    assert wire.echo == {"metadata": {"name": "Ann"}, "instructions": "I"}

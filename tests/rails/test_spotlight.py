"""Spotlighting marks untrusted text (delimit, datamark, encode) and leaves everything else alone."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from proxy.marks import PERSONA_MARK, SPOTLIGHT_MARK
from proxy.rails.spotlight import mark, spotlight_messages

PASTED = "Summarise this e-mail:\n\nFrom: Dana <d@x.example>\nSubject: Order\n\nYour order left the warehouse today and should arrive on Friday morning."


def conversation() -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": f"{PERSONA_MARK} Be kind."},
        {"role": "system", "content": "You are the shop's assistant."},
        {"role": "user", "content": "What does the order page say?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "fetch", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "Order shipped on Monday."},
        {"role": "user", "content": [{"type": "text", "text": "And this one?"}, {"type": "text", "text": "Invoice 7 is paid in full.", "document": True}]},
    ]


@pytest.mark.parametrize("mode", ["delimit", "datamark", "encode"])
def test_marks(mode: str) -> None:
    marked = mark("Order shipped on Monday.", mode, "^", "ab12")
    assert marked.startswith("«data-ab12»") and marked.endswith("«/data-ab12»")
    body = marked[len("«data-ab12»") : -len("«/data-ab12»")]
    expected = {"delimit": "Order shipped on Monday.", "datamark": "Order^shipped^on^Monday.", "encode": base64.b64encode(b"Order shipped on Monday.").decode()}
    assert body == expected[mode]


def test_tool_results_and_document_parts_are_marked_the_rest_untouched() -> None:
    messages = conversation()
    n = spotlight_messages(messages, mode="datamark", marker="ˆ", sources=["tool", "pasted"], tag="t1")
    assert n == 2
    assert messages[0]["content"] == f"{PERSONA_MARK} Be kind."
    assert messages[1]["content"] == "You are the shop's assistant."  # the client's instructions: not data by default
    assert messages[2]["content"] == "What does the order page say?"
    assert messages[4]["content"] == "«data-t1»OrderˆshippedˆonˆMonday.«/data-t1»"
    note = messages[5]  # right before the latest user turn
    assert note["role"] == "system" and note["content"].startswith(SPOTLIGHT_MARK) and "«data-t1»" in note["content"]
    user = messages[6]["content"]
    assert user[0] == {"type": "text", "text": "And this one?"}
    assert user[1] == {"type": "text", "text": "«data-t1»Invoiceˆ7ˆisˆpaidˆinˆfull.«/data-t1»", "document": True}


def test_a_pasted_block_is_marked_inside_the_persons_message() -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": PASTED}]
    assert spotlight_messages(messages, mode="delimit", marker="ˆ", sources=["pasted"], tag="z9") == 1
    text = messages[1]["content"]
    assert text.startswith("Summarise this e-mail:\n\n«data-z9»From: Dana") and text.endswith("Friday morning.«/data-z9»")
    assert messages[0]["content"].startswith(SPOTLIGHT_MARK)


def test_nothing_untrusted_means_no_note_and_a_fresh_tag_per_request() -> None:
    plain: list[dict[str, Any]] = [{"role": "user", "content": "Where is my parcel?"}]
    assert spotlight_messages(plain, mode="encode", marker="ˆ", sources=["tool", "pasted"]) == 0
    assert plain == [{"role": "user", "content": "Where is my parcel?"}]
    a, b = conversation(), conversation()
    spotlight_messages(a, mode="delimit", marker="ˆ", sources=["tool"])
    spotlight_messages(b, mode="delimit", marker="ˆ", sources=["tool"])
    assert a[4]["content"] != b[4]["content"]  # the tag is random: data cannot forge the end marker

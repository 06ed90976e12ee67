"""The demo model says what reached it, in a form Bedside's output stages leave readable."""

from __future__ import annotations

import json

from proxy.demo import replies
from proxy.marks import PERSONA_MARK, TONE_MARK
from proxy.privacy.pseudonyms import PseudonymVault, restore
from proxy.rails.text import OVERLAP_WORDS, word_spans

PERSONA = PERSONA_MARK + "\nYou are Ava, Acme's customer-service assistant. You help customers with orders, deliveries and refunds."
TONE = TONE_MARK + " Guidance for your next reply, based on how the user seems to feel. Follow it quietly.\n- Acknowledge the frustration in one short sentence.\n- No exclamation marks."


def _body(**extra: object) -> dict[str, object]:
    messages = [
        {"role": "system", "content": PERSONA},
        {"role": "system", "content": TONE},
        {"role": "user", "content": "I am <PERSON_1>, my order <ORDER_ID_1> is late. Mail <EMAIL_ADDRESS_1>."},
    ]
    return {"model": "gpt-4o-mini", "messages": messages, **extra}


def test_the_reply_says_what_reached_the_model() -> None:
    text = replies.reply_text(_body(tools=[{"type": "function", "function": {"name": "lookup_order"}}]))
    assert 'You said: "I am <PERSON_1>, my order <ORDER_ID_1> is late. Mail <EMAIL_ADDRESS_1>."' in text
    assert "3 message(s), 2 of them system guidance" in text
    assert f'- persona ({len(PERSONA)} characters): "You are Ava, Acme\'s customer-service..."' in text
    assert '- tone guidance: "Acknowledge the frustration in one short sentence. No exclamation marks."' in text
    assert "PERSON #1, ORDER_ID #1, EMAIL_ADDRESS #1" in text
    assert "tools offered: lookup_order" in text
    assert "[bedside:" not in text, "a client resending this reply would be refused for Bedside's mark"


def test_placeholders_listed_survive_restoration_and_the_echo_does_not() -> None:
    vault = PseudonymVault()
    for entity, value in (("PERSON", "Ann Lee"), ("ORDER_ID", "A-1042"), ("EMAIL_ADDRESS", "ann@example.com")):
        vault.placeholder_for(entity, value)
    restored = restore(replies.reply_text(_body()), vault)
    assert 'You said: "I am Ann Lee, my order A-1042 is late. Mail ann@example.com."' in restored
    assert "PERSON #1, ORDER_ID #1, EMAIL_ADDRESS #1" in restored


def test_the_persona_is_never_quoted_long_enough_to_count_as_a_leak() -> None:
    text = replies.reply_text(_body())
    prompt = [w for w, _, _ in word_spans(PERSONA.removeprefix(PERSONA_MARK))]
    said = [w for w, _, _ in word_spans(text)]
    runs = {tuple(prompt[i : i + OVERLAP_WORDS]) for i in range(len(prompt) - OVERLAP_WORDS + 1)}
    assert not any(tuple(said[i : i + OVERLAP_WORDS]) in runs for i in range(len(said) - OVERLAP_WORDS + 1))


def test_json_object_mode_answers_json() -> None:
    answer = json.loads(replies.chat_body(_body(response_format={"type": "json_object"}))["choices"][0]["message"]["content"])
    assert answer["received"]["placeholders"] == ["PERSON #1", "ORDER_ID #1", "EMAIL_ADDRESS #1"]
    assert answer["received"]["persona"]["characters"] == len(PERSONA)


def test_json_schema_mode_and_streams_agree() -> None:
    body = _body(response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}})
    whole = replies.chat_body(body)["choices"][0]["message"]["content"]
    streamed = "".join(c["choices"][0]["delta"].get("content") or "" for c in replies.chat_chunks({**body, "stream": True}) if c["choices"])
    assert json.loads(whole) == {"order_id": "<ORDER_ID_1>"} and streamed == whole


def test_a_forced_tool_call_fills_its_parameters() -> None:
    tool = {"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}, "notify": {"type": "boolean"}}, "required": ["order_id"]}}}
    call = replies.tool_call(_body(tools=[tool], tool_choice="required"))
    assert call is not None and json.loads(call["function"]["arguments"]) == {"order_id": "<ORDER_ID_1>", "notify": False}
    assert replies.tool_call(_body(tools=[tool])) is None, "no call unless tool_choice forces one"

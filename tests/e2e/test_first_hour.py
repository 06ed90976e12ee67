"""A newcomer's first hour (issue 18): ``bedside serve`` with no upstream (the demo model, in
process), the repository's ``policies/``, and the official ``openai`` client changing only its
base URL. What Bedside did shows in the response headers, and the demo model says what reached it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel

from proxy.testing import FakeUpstream, ServerProcess, bedside_argv, free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
#: the README's before/after message: a frustrated customer who gives their name, e-mail and phone
ANGRY = (
    "I'm Ann Lee (ann.lee@example.com, +1 415 555 0100). This is ridiculous: I have asked three times "
    "and my order A-1042 still has not arrived. I am so fed up with this."
)
TOOLS: Any = [
    {"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}},
    {"type": "function", "function": {"name": "issue_refund", "parameters": {"type": "object", "properties": {"amount": {"type": "number"}}}}},
]


@pytest.fixture(scope="module")
def bedside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, ready_path="/healthz", timeout=90)
    server.env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    server.env.update(
        {
            "BEDSIDE_DATA_DIR": str(tmp_path_factory.mktemp("first-hour")),
            "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"),
            "BEDSIDE_POLICY__WATCH": "false",
            "BEDSIDE_QUICKSTART": "1",  # as `make run`: the KEK is kept in the data directory
        }
    )
    with server:
        yield server


@pytest.fixture(scope="module")
def client(bedside: ServerProcess) -> Iterator[openai.OpenAI]:
    c = openai.OpenAI(base_url=f"{bedside.url}/v1", api_key="unused-in-open-mode", max_retries=0, timeout=30)
    yield c
    c.close()


def test_headers_say_what_bedside_did_and_the_demo_says_what_it_received(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="support-agent", messages=[{"role": "user", "content": ANGRY}])
    headers = raw.headers
    assert headers["x-bedside-pii"] == "PERSON=1, EMAIL_ADDRESS=1, PHONE_NUMBER=1, ORDER_ID=1"
    assert headers["x-bedside-tone"].split(", ")[0] == "frustration_high"
    assert headers["x-bedside-clamps"] == "max_tokens_set, temperature_set"
    reply = raw.parse().choices[0].message.content or ""
    assert f'You said: "{ANGRY}"' in reply, "the user reads their own values back (restored)"
    assert "PERSON #1, EMAIL_ADDRESS #1, PHONE_NUMBER #1, ORDER_ID #1" in reply, "the placeholders the model saw"
    assert 'persona (' in reply and '"You are Ava, Acme\'s customer-service..."' in reply
    assert "tone guidance: \"Acknowledge the frustration in one short sentence." in reply
    assert "[bedside:" not in reply
    for header in ("x-bedside-pii", "x-bedside-tone", "x-bedside-clamps"):
        assert "Ann" not in headers[header] and "@" not in headers[header]


def test_a_stream_sends_the_same_headers_with_its_head(client: openai.OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(model="support-agent", messages=[{"role": "user", "content": ANGRY}], stream=True) as resp:
        headers = dict(resp.headers)
        text = "".join(c.choices[0].delta.content or "" for c in resp.parse() if c.choices)
    assert headers["x-bedside-pii"] == "PERSON=1, EMAIL_ADDRESS=1, PHONE_NUMBER=1, ORDER_ID=1"
    assert headers["x-bedside-tone"].startswith("frustration_high")
    assert "ORDER_ID #1" in text and "A-1042" in text


def test_a_removed_tool_is_said_and_a_forced_one_is_refused(client: openai.OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "Where is my order A-1042?"}]
    raw = client.chat.completions.with_raw_response.create(model="support-agent", messages=messages, tools=TOOLS)
    assert raw.headers["x-bedside-clamps"].startswith("tools_removed=1")
    assert "tools offered: lookup_order (" in (raw.parse().choices[0].message.content or "")
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="support-agent", messages=messages, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "issue_refund"}})
    error = refused.value.body
    assert isinstance(error, dict)
    assert (error["code"], error["param"]) == ("tool_choice_not_allowed", "tool_choice")
    assert "'customer-service'" in error["message"] and "lookup_order, create_ticket" in error["message"] and "issue_refund" in error["message"]


def test_a_forced_tool_gets_arguments_that_fit_its_schema(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="support-agent", messages=[{"role": "user", "content": "Where is my order A-1042?"}], tools=TOOLS[:1], tool_choice="required"
    )
    (call,) = completion.choices[0].message.tool_calls or []
    args = json.loads(call.function.arguments)  # type: ignore[union-attr]
    jsonschema.validate(args, TOOLS[0]["function"]["parameters"])
    assert args == {"order_id": "A-1042"}, "the order number the model saw as <ORDER_ID_1>, restored"


class Ticket(BaseModel):
    order_id: str
    summary: str
    priority: int
    tags: list[str]


def test_json_modes(client: openai.OpenAI) -> None:
    messages: Any = [{"role": "user", "content": "Please open a ticket for order A-1042, it never arrived."}]
    parsed = client.chat.completions.parse(model="support-agent", messages=messages, response_format=Ticket).choices[0].message.parsed
    assert parsed is not None and parsed.order_id == "A-1042" and parsed.tags
    plain = client.chat.completions.create(model="support-agent", messages=messages, response_format={"type": "json_object"})
    answer = json.loads(plain.choices[0].message.content or "")
    assert answer["received"]["placeholders"] == ["ORDER_ID #1"] and "A-1042" in answer["you_said"]


def _readme_block(after: str) -> list[str]:
    """The lines of the first fenced block following the README paragraph that starts with ``after``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    rest = text[text.index(after) :]
    match = re.search(r"```\w*\n(.*?)```", rest, re.S)
    assert match is not None
    return match.group(1).splitlines()


def test_the_readme_before_and_after_pair_is_what_happens(bedside: ServerProcess) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    body = json.loads(re.search(r"^BODY='(.*)'$", readme, re.M).group(1))  # type: ignore[union-attr]
    with FakeUpstream(faults=False) as alone:  # the demo model served on its own, as `bedside demo-upstream`
        before = httpx.post(f"{alone.base_url}/chat/completions", json=body, timeout=30).json()["choices"][0]["message"]["content"]
    for line in _readme_block("Before, the model received"):
        assert line.removesuffix('..."') in before
    after = httpx.post(f"{bedside.url}/v1/chat/completions", json=body, timeout=30)
    content = after.json()["choices"][0]["message"]["content"]
    shown = _readme_block("After, the headers")
    headers = [line for line in shown if line.startswith("x-bedside-")]
    assert len(headers) == 5
    for line in headers:
        name, value = line.split(": ", 1)
        assert after.headers[name] == value, f"README says {line!r}"
    for line in shown[len(headers) + 1 :]:
        assert line.split("...")[0] in content, f"README says the reply has {line!r}"

"""PII end to end: the official ``openai`` client -> a listening ``bedside serve`` -> a listening fake
upstream (``bedside demo-upstream --record``) that records every body it receives.

The demo model echoes the last user message, so its reply carries the placeholders Bedside sent
(upstream side) and the user must read the real values back (client side). The repository's own
``policies/`` are used: the default policy pseudonymises and restores.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from proxy.testing import ServerProcess, bedside_argv, free_port

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
NAME = "Ann Lee"
MAIL = "ann.lee@example.com"
PHONE = "+1 415 555 0100"
SAID = f"Hi, I am {NAME}, my e-mail is {MAIL} and my phone is {PHONE}."
REDACTED = "Hi, I am <PERSON_1>, my e-mail is <EMAIL_ADDRESS_1> and my phone is <PHONE_NUMBER_1>."


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env["BEDSIDE_QUICKSTART"] = "1"  # serve keeps its KEK in the test's data directory
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def recording_upstream() -> Iterator[ServerProcess]:
    port = free_port()
    server = ServerProcess(bedside_argv("demo-upstream", "--record", "--port", str(port)), port=port, ready_path="/_recorded")
    server.env = _env({})
    with server:
        yield server


@pytest.fixture(scope="module")
def bedside(recording_upstream: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, ready_path="/healthz", timeout=90)
    server.env = _env(
        {
            "BEDSIDE_UPSTREAM_URL": f"{recording_upstream.url}/v1",
            "BEDSIDE_DATA_DIR": str(tmp_path_factory.mktemp("bedside-pii-e2e")),
            "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"),
            "BEDSIDE_POLICY__WATCH": "false",
        }
    )
    with server:
        yield server


@pytest.fixture
def client(bedside: ServerProcess) -> Iterator[openai.OpenAI]:
    c = openai.OpenAI(base_url=f"{bedside.url}/v1", api_key="x", max_retries=0, timeout=30)
    yield c
    c.close()


@pytest.fixture
def recorded(recording_upstream: ServerProcess) -> Any:
    """Clears the fake's record now; returns a function giving the bodies received since."""

    def call(method: str) -> list[dict[str, Any]]:
        req = urllib.request.Request(f"{recording_upstream.url}/_recorded", method=method)
        with urllib.request.urlopen(req, timeout=5) as resp:
            data: list[dict[str, Any]] = json.loads(resp.read())
        return data

    call("DELETE")
    return lambda: [e["body"] for e in call("GET") if "event" not in e]


def _assert_no_pii(bodies: list[dict[str, Any]]) -> None:
    assert bodies, "nothing reached the upstream"
    raw = json.dumps(bodies, ensure_ascii=False)
    for value in (NAME, "Ann", MAIL, "415 555 0100"):
        assert value not in raw


def test_json_reply_restored_and_upstream_never_sees_pii(client: openai.OpenAI, recorded: Any) -> None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": SAID}])
    content = completion.choices[0].message.content or ""
    assert f'You said: "{SAID}"' in content
    assert "<PERSON_1>" not in content
    bodies = recorded()
    _assert_no_pii(bodies)
    assert bodies[-1]["messages"][-1]["content"] == REDACTED


def test_stream_reply_identical_to_json(client: openai.OpenAI, recorded: Any) -> None:
    messages: Any = [{"role": "user", "content": SAID}]
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=messages).choices[0].message.content
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert streamed == plain
    assert NAME in streamed and MAIL in streamed and PHONE in streamed
    _assert_no_pii(recorded())


def test_later_turn_keeps_numbers_and_history_stays_redacted(client: openai.OpenAI, recorded: Any) -> None:
    first: Any = [{"role": "user", "content": f"I am {NAME}. My friend Bob Stone says hi."}]
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=first).choices[0].message.content or ""
    assert NAME in reply and "Bob Stone" in reply
    later: Any = [*first, {"role": "assistant", "content": reply}, {"role": "user", "content": f"Please tell Bob Stone that {NAME} says thanks."}]
    reply2 = client.chat.completions.create(model="gpt-4o-mini", messages=later).choices[0].message.content or ""
    assert f"Please tell Bob Stone that {NAME} says thanks." in reply2
    bodies = recorded()
    _assert_no_pii(bodies)
    assert bodies[-1]["messages"][-1]["content"] == "Please tell <PERSON_2> that <PERSON_1> says thanks."
    first_user = [next(m["content"] for m in b["messages"] if m["role"] == "user") for b in (bodies[0], bodies[-1])]
    assert first_user[0] == first_user[1], "the resent first turn is redacted with the same numbers"


def test_tool_call_arguments_restored(client: openai.OpenAI, recorded: Any) -> None:
    tools: Any = [{"type": "function", "function": {"name": "lookup_customer", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}}]
    messages: Any = [{"role": "user", "content": f"Find the account of {MAIL}"}]
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=tools, tool_choice="required")
    call = (completion.choices[0].message.tool_calls or [])[0]
    assert json.loads(call.function.arguments) == {"query": f"Find the account of {MAIL}"}  # type: ignore[union-attr]
    with client.chat.completions.stream(model="gpt-4o-mini", messages=messages, tools=tools, tool_choice="required") as stream:
        final = stream.get_final_completion()
    streamed_call = (final.choices[0].message.tool_calls or [])[0]
    assert streamed_call.function.arguments == call.function.arguments  # type: ignore[union-attr]
    _assert_no_pii(recorded())


def test_embeddings_input_redacted(client: openai.OpenAI, recorded: Any) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=[f"{NAME} at {MAIL}", "nothing personal"])
    assert len(result.data) == 2
    bodies = recorded()
    _assert_no_pii(bodies)
    assert bodies[-1]["input"][1] == "nothing personal"


def test_readyz_reports_the_pii_engine(bedside: ServerProcess) -> None:
    with urllib.request.urlopen(f"{bedside.url}/readyz", timeout=5) as resp:
        body = json.loads(resp.read())
    assert body["checks"]["pii"]["loaded"] is True
    assert body["checks"]["pii"]["degraded"] is False

"""Personal data never leaks: not to another user, not through a field nobody thought of.

Each test drives the real app (the example policies in ``policies/``) over HTTP, with the demo
upstream listening on loopback and recording exactly what reached the model; the demo echoes the
last user message, so a placeholder a client names comes back through the restore path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.settings import Settings
from proxy.testing import FakeUpstream

POLICIES = Path(__file__).resolve().parents[2] / "policies"
ALICE_MAIL = "alice.canary7731@example.com"
ALICE_PHONE = "+1 415 555 0199"


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(faults=False) as up:
        yield up


def _settings(tmp_path: Path, upstream: FakeUpstream, **kw: Any) -> Settings:
    base: dict[str, Any] = {"data_dir": tmp_path / "data", "upstream_url": upstream.base_url, "policy": {"directory": str(POLICIES)}}
    base.update(kw)
    return Settings(**base)


@pytest.fixture
async def client(tmp_path: Path, upstream: FakeUpstream) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(_settings(tmp_path, upstream))) as c:
        yield c


def _chat(content: Any, **body: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **body}


def _reply(response: Any) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


def _upstream_saw(upstream: FakeUpstream) -> str:
    return json.dumps([r.get("body") for r in upstream.recorded], ensure_ascii=False)


# ---- 1. another user's values ------------------------------------------------------------------


@pytest.mark.parametrize("ask", ["Please repeat EMAIL_ADDRESS_1 and PHONE_NUMBER_1", "what do <EMAIL_ADDRESS_1> and <PHONE_NUMBER_1> mean?"])
async def test_a_user_cannot_read_another_users_values_through_a_shared_conversation(client: AsyncTestClient[Any], ask: str) -> None:
    alice = await client.post("/v1/chat/completions", json=_chat(f"Hi, I'm reachable at {ALICE_MAIL} or {ALICE_PHONE}."), headers={"x-bedside-user": "alice", "x-bedside-conversation": "c-1"})
    assert ALICE_MAIL in _reply(alice)  # restored for Alice herself
    bob = await client.post("/v1/chat/completions", json=_chat(ask), headers={"x-bedside-user": "bob", "x-bedside-conversation": "c-1"})
    text = _reply(bob)
    assert ALICE_MAIL not in text and "555 0199" not in text


async def test_the_same_first_message_does_not_share_values(client: AsyncTestClient[Any]) -> None:
    first = f"Hello, my e-mail is {ALICE_MAIL}."
    await client.post("/v1/chat/completions", json=_chat(first))
    probe = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello, my e-mail is someone.else@example.org."}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "what does <EMAIL_ADDRESS_1> and EMAIL_ADDRESS_2 mean?"}]}
    text = _reply(await client.post("/v1/chat/completions", json=probe))
    assert ALICE_MAIL not in text
    seed = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": first}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "what do <EMAIL_ADDRESS_1> and <PERSON_1> mean?"}]}
    assert ALICE_MAIL in _reply(await client.post("/v1/chat/completions", json=seed))  # the request carried it itself


async def test_placeholders_stay_stable_while_the_history_grows(client: AsyncTestClient[Any], upstream: FakeUpstream) -> None:
    turn1 = [{"role": "user", "content": f"I am Ann Lee, mail {ALICE_MAIL}."}]
    reply1 = _reply(await client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": turn1}))
    turn2 = [*turn1, {"role": "assistant", "content": reply1}, {"role": "user", "content": "And my colleague Bob Stone, bob.stone@example.net."}]
    await client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": turn2})
    sent = upstream.recorded[-1]["body"]["messages"]
    users = [m["content"] for m in sent if m["role"] == "user"]
    assert users[0] == "I am <PERSON_1>, mail <EMAIL_ADDRESS_1>."
    assert users[1] == "And my colleague <PERSON_2>, <EMAIL_ADDRESS_2>."


# ---- 2. every field ---------------------------------------------------------------------------

FIELD_CASES: dict[str, Callable[[str], dict[str, Any]]] = {
    "user": lambda c: _chat("hello", user=c),
    "safety_identifier": lambda c: _chat("hello", safety_identifier=c),
    "metadata value": lambda c: _chat("hello", metadata={"contact": c}),
    "metadata key": lambda c: _chat("hello", metadata={c: "contact"}),
    "message name": lambda c: {"model": "gpt-4o-mini", "messages": [{"role": "user", "name": c.replace("@", "_at_").replace(".", "_"), "content": "hello"}]},
    "refusal part": lambda c: {"model": "gpt-4o-mini", "messages": [{"role": "assistant", "content": [{"type": "refusal", "refusal": f"I will not mail {c}"}]}, {"role": "user", "content": "ok"}]},
    "file name": lambda c: _chat([{"type": "text", "text": "see file"}, {"type": "file", "file": {"filename": f"{c}.pdf", "file_id": "file-abc"}}]),
    "image url query": lambda c: _chat([{"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": f"https://img.example/a.png?owner={c}"}}]),
    "unknown part type": lambda c: _chat([{"type": "note", "note": f"mail {c}"}]),
    "part without type": lambda c: _chat([{"text": f"mail {c}"}]),
    "bare string part": lambda c: _chat([f"mail {c}"]),
    "arguments as object": lambda c: {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": "send it"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "send_mail", "arguments": {"to": c}}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "sent"},
            {"role": "user", "content": "thanks"},
        ],
    },
    "tool result key": lambda c: {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": "who?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({c: "primary contact"})},
        ],
    },
    "prediction": lambda c: _chat("rewrite it", prediction={"type": "content", "content": f"Dear customer, we wrote to {c}."}),
    "tool description": lambda c: _chat("hi", tools=[{"type": "function", "function": {"name": "notify", "description": f"Notify {c} about orders", "parameters": {"type": "object", "properties": {}}}}]),
    "parameter description": lambda c: _chat("hi", tools=[{"type": "function", "function": {"name": "notify", "parameters": {"type": "object", "properties": {"to": {"type": "string", "description": f"default {c}"}}}}}]),
    "response_format schema": lambda c: _chat("hi", response_format={"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object", "description": f"for {c}"}}}),
    "stop sequence": lambda c: _chat("hi", stop=[c]),
    "unknown top-level string": lambda c: _chat("hi", x_contact=c),
    "unknown top-level object": lambda c: _chat("hi", x_extra={"deep": [{"contact": c}]}),
}


@pytest.mark.parametrize("case", list(FIELD_CASES))
async def test_no_field_reaches_the_model_unredacted(client: AsyncTestClient[Any], upstream: FakeUpstream, case: str) -> None:
    canary = f"canary.{hashlib.sha256(case.encode()).hexdigest()[:8]}@example.com"
    body = FIELD_CASES[case](canary)
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code < 500, response.text
    seen = _upstream_saw(upstream).casefold()
    assert canary.split("@")[0].casefold() not in seen.replace("_at_", "@").replace("_", ".")


@pytest.mark.parametrize(
    ("case", "value", "digits"),
    [
        ("card as a JSON number in a tool result", 4111111111111111, "4111111111111111"),
        ("phone as a JSON number in a tool result", 4155550199, "4155550199"),
    ],
)
async def test_numbers_in_tool_results_are_redacted(client: AsyncTestClient[Any], upstream: FakeUpstream, case: str, value: int, digits: str) -> None:
    key = "card_number" if "card" in case else "phone"
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": "what is on file?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({key: value, "status": "active"})},
        ],
    }
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert digits not in _upstream_saw(upstream)
    tool = json.loads(upstream.recorded[-1]["body"]["messages"][-1]["content"])
    assert tool["status"] == "active" and str(tool[key]).startswith("<")


async def test_identifiers_go_upstream_as_keyed_hashes(client: AsyncTestClient[Any], upstream: FakeUpstream) -> None:
    await client.post("/v1/chat/completions", json=_chat("hello", user=ALICE_MAIL, safety_identifier=ALICE_MAIL))
    sent = upstream.recorded[-1]["body"]
    assert sent["user"].startswith("u-") and sent["safety_identifier"] == sent["user"]
    assert ALICE_MAIL not in json.dumps(sent)


@pytest.mark.parametrize(
    "part",
    [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="}},
        {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZFZm10IBAAAAABAAEA", "format": "wav"}},
        {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQK"}},
    ],
)
async def test_content_bedside_cannot_analyse_is_refused_by_default(client: AsyncTestClient[Any], upstream: FakeUpstream, part: dict[str, Any]) -> None:
    response = await client.post("/v1/chat/completions", json=_chat([{"type": "text", "text": "what is this?"}, part]))
    assert response.status_code == 400
    err = response.json()["error"]
    assert err["code"] == "unanalysable_content" and err["param"].startswith("messages[0].content[1]")
    assert upstream.recorded == []


async def test_token_ids_for_embeddings_are_refused(client: AsyncTestClient[Any], upstream: FakeUpstream) -> None:
    response = await client.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": [[9906, 11, 358, 1097]]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "unanalysable_content"
    assert upstream.recorded == []


@pytest.mark.parametrize(
    "body",
    [
        _chat("hi", tools=[{"type": "function", "function": {"name": "mail_alice.canary7731@example.com", "parameters": {"type": "object"}}}]),
        _chat("hi", response_format={"type": "json_schema", "json_schema": {"name": "cust_14155550146", "schema": {"type": "object"}}}),
    ],
)
async def test_a_name_with_personal_data_is_refused(client: AsyncTestClient[Any], upstream: FakeUpstream, body: dict[str, Any]) -> None:
    response = await client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "pii_in_name"
    assert upstream.recorded == []


# ---- 3. a shadow policy does not switch redaction off ---------------------------------------------


async def test_the_shadow_alias_still_redacts(client: AsyncTestClient[Any], upstream: FakeUpstream) -> None:
    response = await client.post("/v1/chat/completions", json={"model": "onboarding-guide", "messages": [{"role": "user", "content": f"Verify {ALICE_MAIL} please"}]})
    assert response.status_code == 200
    assert ALICE_MAIL not in _upstream_saw(upstream)
    assert ALICE_MAIL in _reply(response)


async def test_a_policy_can_be_restricted_to_tenants(tmp_path: Path, upstream: FakeUpstream) -> None:
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / "default.yaml").write_text("description: fallback\nowner: tests\n")
    (pdir / "vip.yaml").write_text("description: only acme\nowner: tests\nrouting: {aliases: [vip], tenants: [acme]}\n")
    keys = [{"tenant": t, "sha256": hashlib.sha256(f"key-{t}".encode()).hexdigest()} for t in ("acme", "globex")]
    settings = Settings(data_dir=tmp_path / "data", upstream_url=upstream.base_url, policy={"directory": str(pdir), "unknown_model": "refuse"}, api_keys=keys)
    async with AsyncTestClient(create_app(settings)) as c:
        ok = await c.post("/v1/chat/completions", json={"model": "vip", "messages": [{"role": "user", "content": "hi"}]}, headers={"authorization": "Bearer key-acme"})
        assert ok.status_code == 200
        other = await c.post("/v1/chat/completions", json={"model": "vip", "messages": [{"role": "user", "content": "hi"}]}, headers={"authorization": "Bearer key-globex"})
        unknown = await c.post("/v1/chat/completions", json={"model": "no-such", "messages": [{"role": "user", "content": "hi"}]}, headers={"authorization": "Bearer key-globex"})
        assert other.status_code == unknown.status_code == 404
        assert other.json()["error"]["message"].replace("'vip'", "'no-such'") == unknown.json()["error"]["message"]  # "not yours" reads as "does not exist"
        listed = {m["id"] for m in (await c.get("/v1/models", headers={"authorization": "Bearer key-globex"})).json()["data"]}
        assert "vip" not in listed
        assert "vip" in {m["id"] for m in (await c.get("/v1/models", headers={"authorization": "Bearer key-acme"})).json()["data"]}
        assert (await c.get("/v1/models/vip", headers={"authorization": "Bearer key-globex"})).status_code == 404


# ---- 4. obfuscated values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("write to alice.zw\u200bcanary@example.com", "canary@example.com"),
        ("write to alice.fw＠example．com", "alice.fw"),
        ("write to alice.pct%40example.com", "alice.pct"),
        ("call me on 4 1 5 5 5 5 0 1 9 9 tonight", "4 1 5 5 5 5 0 1 9 9"),
        ("my card 41-1111-1111-1111-11 was charged twice", "41-1111-1111-1111-11"),
        ("mail john dot doe at example dot com", "john dot doe"),
        ("mail jane (at) example (dot) org", "jane (at)"),
    ],
)
async def test_obfuscated_values_are_redacted(client: AsyncTestClient[Any], upstream: FakeUpstream, text: str, secret: str) -> None:
    await client.post("/v1/chat/completions", json=_chat(text))
    assert secret not in _upstream_saw(upstream)


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "my card number is 4111 1111"}, {"role": "user", "content": "1111 1111, please refund"}],
        [{"role": "user", "content": "My card starts 4111 1111"}, {"role": "assistant", "content": "And the rest?"}, {"role": "user", "content": "then 1111 1111."}],
    ],
)
async def test_a_card_split_across_two_messages_is_redacted(client: AsyncTestClient[Any], upstream: FakeUpstream, messages: list[dict[str, str]]) -> None:
    await client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": messages})
    seen = _upstream_saw(upstream)
    assert "4111 1111" not in seen and "1111 1111" not in seen


# ---- 10. bounded work -------------------------------------------------------------------------


async def test_too_many_distinct_values_are_refused_kindly(client: AsyncTestClient[Any], upstream: FakeUpstream) -> None:
    text = " ".join(f"user{i}@example.com" for i in range(600))
    response = await client.post("/v1/chat/completions", json=_chat(text))
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_much_personal_data"
    assert upstream.recorded == []


async def test_too_much_new_text_is_refused_before_analysis(client: AsyncTestClient[Any], upstream: FakeUpstream) -> None:
    # under the policy's 60,000-character clamp, over pii.max_new_chars (40,000): never analysed
    text = "My neighbour Ann Lee wrote again today. " * 1200
    response = await client.post("/v1/chat/completions", json=_chat(text))
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_much_text_to_check"
    assert upstream.recorded == []


@pytest.mark.parametrize("where", ["arguments", "tool result"])
async def test_deeply_nested_json_inside_a_string_is_read_as_text(client: AsyncTestClient[Any], upstream: FakeUpstream, where: str) -> None:
    deep = "[" * 1200 + json.dumps(ALICE_MAIL) + "]" * 1200  # deeper than json.loads can recurse
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": deep if where == "arguments" else "{}"}}
    messages = [
        {"role": "user", "content": "look it up"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": deep if where == "tool result" else "ok"},
    ]
    response = await client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": messages})
    assert response.status_code == 200, response.text
    assert ALICE_MAIL not in _upstream_saw(upstream)

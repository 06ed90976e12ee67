"""Policy stage: tools outside ``clamps.allowed_tools`` are removed and said to be (header and log
field); a ``tool_choice`` that forces a tool the policy does not allow is a 400 naming the policy and
its allowed tools, never a silent plain-text reply. The repository's own policies, a real fake
upstream that records what reached it."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.logs import configure_logging
from proxy.settings import Settings
from proxy.testing import FakeUpstream, sse_payloads

REPO = Path(__file__).resolve().parents[2]
ASK: Any = [{"role": "user", "content": "Can you cancel my account?"}]


def tool(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}}


def forced(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name}}


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(faults=False) as up:
        yield up


@pytest.fixture
async def client(fake: FakeUpstream, tmp_path: Path) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = Settings(data_dir=tmp_path, upstream_url=fake.base_url, policy={"directory": REPO / "policies", "watch": False})
    async with AsyncTestClient(create_app(settings)) as c:
        yield c


async def test_a_removed_tool_is_said_in_a_header_and_the_log_line(client: AsyncTestClient[Any], fake: FakeUpstream) -> None:
    sink = io.StringIO()
    configure_logging("info", "json", stream=sink)
    try:
        r = await client.post("/v1/chat/completions", json={"model": "support-agent", "messages": ASK, "tools": [tool("lookup_order"), tool("delete_account")]})
    finally:
        configure_logging("info", "json")
    assert r.status_code == 200, r.text
    assert r.headers["x-bedside-clamps"] == "tools_removed=1, max_tokens_set, temperature_set"
    sent = fake.recorded[-1]["body"]
    assert [t["function"]["name"] for t in sent["tools"]] == ["lookup_order"]
    line = next(json.loads(x) for x in sink.getvalue().splitlines() if '"event": "request"' in x)
    assert line["clamps"] == "tools_removed=1, max_tokens_set, temperature_set"


async def test_nothing_clamped_says_none(client: AsyncTestClient[Any]) -> None:
    r = await client.post("/v1/chat/completions", json={"model": "support-agent", "messages": ASK, "max_tokens": 100, "temperature": 0.2})
    assert r.headers["x-bedside-clamps"] == "none"


@pytest.mark.parametrize("stream", [False, True])
async def test_a_forced_removed_tool_is_a_400_naming_the_policy_and_its_tools(client: AsyncTestClient[Any], fake: FakeUpstream, stream: bool) -> None:
    body = {"model": "support-agent", "messages": ASK, "tools": [tool("lookup_order"), tool("delete_account")], "tool_choice": forced("delete_account"), "stream": stream}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status_code == 400
    err = r.json()["error"]
    assert (err["code"], err["param"], err["type"]) == ("tool_choice_not_allowed", "tool_choice", "invalid_request_error")
    assert "'delete_account'" in err["message"] and "'customer-service'" in err["message"]
    assert "lookup_order, create_ticket" in err["message"] and "tool_choice 'auto'" in err["message"]
    assert fake.recorded == [], "nothing reaches the model"


async def test_required_with_only_disallowed_tools_is_refused(client: AsyncTestClient[Any], fake: FakeUpstream) -> None:
    r = await client.post("/v1/chat/completions", json={"model": "support-agent", "messages": ASK, "tools": [tool("delete_account")], "tool_choice": "required"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "tool_choice_not_allowed"
    assert "'that tool'" not in r.json()["error"]["message"]
    assert fake.recorded == []


async def test_auto_with_only_disallowed_tools_drops_them_and_the_choice(client: AsyncTestClient[Any], fake: FakeUpstream) -> None:
    r = await client.post("/v1/chat/completions", json={"model": "support-agent", "messages": ASK, "tools": [tool("delete_account")], "tool_choice": "auto"})
    assert r.status_code == 200
    assert r.headers["x-bedside-clamps"].startswith("tools_removed=1, tool_choice_removed")
    assert "tools" not in fake.recorded[-1]["body"] and "tool_choice" not in fake.recorded[-1]["body"]


async def test_a_policy_without_tools_says_so(client: AsyncTestClient[Any]) -> None:
    r = await client.post("/v1/chat/completions", json={"model": "intake-assistant", "messages": ASK, "tools": [tool("book_visit")], "tool_choice": forced("book_visit")})
    err = r.json()["error"]
    assert r.status_code == 400 and err["code"] == "tool_choice_not_allowed"
    assert "'healthcare-intake'" in err["message"] and "allows no tools at all" in err["message"]


async def test_a_tool_name_that_is_not_a_name_is_not_echoed(client: AsyncTestClient[Any]) -> None:
    odd = "mail ann.lee@example.com"
    r = await client.post("/v1/chat/completions", json={"model": "support-agent", "messages": ASK, "tools": [tool("lookup_order")], "tool_choice": forced(odd)})
    assert r.status_code == 400
    assert "ann.lee" not in r.text and "that tool" in r.json()["error"]["message"]


async def test_shadow_mode_records_but_does_not_refuse(client: AsyncTestClient[Any], fake: FakeUpstream) -> None:
    body = {"model": "onboarding-guide", "messages": ASK, "tools": [tool("get_account_status"), tool("delete_account")], "stream": True}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200 and sse_payloads(r.content)[-1] == "[DONE]"
    assert r.headers["x-bedside-clamps"] == "tools_removed=1, max_tokens_set, temperature_set; shadow"
    assert len(fake.recorded[-1]["body"]["tools"]) == 2, "shadow mode changes nothing"
    r = await client.post("/v1/chat/completions", json={**body, "stream": False, "tool_choice": forced("delete_account")})
    assert r.status_code == 200, "shadow mode records the refusal instead"

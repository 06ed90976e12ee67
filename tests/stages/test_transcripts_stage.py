"""The transcripts stage through the app: a turn is recorded, encrypted, only under consent and for standard conversations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.settings import Settings
from proxy.testing import FakeUpstream

POLICIES = Path(__file__).resolve().parents[2] / "policies"
MAIL = "ines.transcript@example.com"


@pytest.fixture
async def client(tmp_path: Path) -> Any:
    async with FakeUpstream(faults=False) as up:
        settings = Settings(data_dir=tmp_path / "data", upstream_url=up.base_url, policy={"directory": str(POLICIES)})
        async with AsyncTestClient(create_app(settings)) as c:
            c.upstream = up  # type: ignore[attr-defined]
            yield c


def _chat(text: str, **headers: str) -> dict[str, Any]:
    return {"json": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}, "headers": {"x-bedside-user": "ines", **headers}}


async def test_nothing_is_recorded_without_consent(client: AsyncTestClient[Any]) -> None:
    assert (await client.post("/v1/chat/completions", **_chat(f"Write to {MAIL}"))).status_code == 200
    listed = await client.get("/v1/users/ines/conversations")
    assert listed.status_code == 404 and listed.json()["error"]["code"] == "user_not_found"  # Bedside holds nothing of her


async def test_a_turn_is_recorded_with_the_users_own_values_under_consent(client: AsyncTestClient[Any]) -> None:
    granted = await client.put("/v1/users/ines/consent", json={"purpose": "transcripts", "granted": True})
    assert granted.status_code == 200, granted.text
    reply = await client.post("/v1/chat/completions", **_chat(f"Please write to {MAIL}", **{"x-bedside-conversation": "c-1"}))
    assert reply.status_code == 200
    assert MAIL not in str(client.upstream.recorded[-1]["body"])  # type: ignore[attr-defined]  # the model saw a placeholder
    listed = (await client.get("/v1/users/ines/conversations")).json()["data"]
    assert len(listed) == 1
    turns = (await client.get("/v1/users/ines/conversations/c-1")).json()
    text = str(turns)
    assert MAIL in text  # the user's own record holds the real value, restored from the request's vault
    assert "<EMAIL_ADDRESS_1>" not in text


@pytest.mark.parametrize("level", ["sensitive", "no-store"])
async def test_sensitive_conversations_are_never_recorded(client: AsyncTestClient[Any], level: str) -> None:
    await client.put("/v1/users/ines/consent", json={"purpose": "transcripts", "granted": True})
    await client.post("/v1/chat/completions", **_chat("hello there", **{"x-bedside-sensitivity": level}))
    assert (await client.get("/v1/users/ines/conversations")).json()["data"] == []

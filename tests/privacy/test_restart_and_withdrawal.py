"""Through the real app: withdrawing ``transcripts`` erases the user's recorded turns, and a restart in the
middle of a conversation keeps its placeholders restoring (one vault per request, rebuilt from the history)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.settings import Settings
from proxy.testing import FakeUpstream

POLICIES = Path(__file__).resolve().parents[2] / "policies"
MAIL = "oskar.restart@example.com"
PHONE = "+1 415 555 0142"


def _settings(data_dir: Path, upstream: str) -> Settings:
    return Settings(data_dir=data_dir, upstream_url=upstream, policy={"directory": str(POLICIES), "watch": False})


def _chat(messages: list[dict[str, str]], user: str = "oskar", conversation: str = "c-1") -> dict[str, Any]:
    return {"json": {"model": "gpt-4o-mini", "messages": messages}, "headers": {"x-bedside-user": user, "x-bedside-conversation": conversation}}


async def test_withdrawing_transcripts_consent_deletes_the_users_transcripts(tmp_path: Path) -> None:
    async with FakeUpstream(faults=False) as up:
        async with AsyncTestClient(create_app(_settings(tmp_path / "data", up.base_url))) as client:
            assert (await client.put("/v1/users/oskar/consent", json={"purpose": "transcripts", "granted": True})).status_code == 200
            await client.put("/v1/users/other/consent", json={"purpose": "transcripts", "granted": True})
            for user in ("oskar", "other"):
                reply = await client.post("/v1/chat/completions", **_chat([{"role": "user", "content": f"Please write to {MAIL}"}], user=user))
                assert reply.status_code == 200, reply.text
            assert len((await client.get("/v1/users/oskar/conversations")).json()["data"]) == 1

            withdrawn = await client.put("/v1/users/oskar/consent", json={"purpose": "transcripts", "granted": False})
            assert withdrawn.status_code == 200, withdrawn.text
            assert (await client.get("/v1/users/oskar/conversations")).json()["data"] == []
            assert len((await client.get("/v1/users/other/conversations")).json()["data"]) == 1  # only that user's turns go


async def test_a_restart_mid_conversation_keeps_placeholders_restoring(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with FakeUpstream(faults=False) as up:
        first = [{"role": "user", "content": f"{MAIL} is my address, call {PHONE}"}]
        async with AsyncTestClient(create_app(_settings(data, up.base_url))) as client:
            turn1 = await client.post("/v1/chat/completions", **_chat(first))
            assert turn1.status_code == 200, turn1.text
        seen1 = str(up.recorded[-1]["body"]["messages"])
        reply1 = turn1.json()["choices"][0]["message"]["content"]
        assert MAIL not in seen1 and MAIL in reply1  # the model saw a placeholder, the user reads the value

        history = [*first, {"role": "assistant", "content": reply1}, {"role": "user", "content": f"Again: {MAIL}, and {PHONE}?"}]
        async with AsyncTestClient(create_app(_settings(data, up.base_url))) as client:  # a new process on the same data directory
            turn2 = await client.post("/v1/chat/completions", **_chat(history))
            assert turn2.status_code == 200, turn2.text
        seen2 = up.recorded[-1]["body"]["messages"]
        reply2 = turn2.json()["choices"][0]["message"]["content"]

    placeholders1 = set(re.findall(r"<[A-Z_]+_\d+>", seen1))
    user_turns2 = [m["content"] for m in seen2 if m["role"] == "user"]
    assert placeholders1 and MAIL not in str(seen2)
    assert set(re.findall(r"<[A-Z_]+_\d+>", user_turns2[0])) == placeholders1  # turn 1 redacted to the same placeholders
    assert set(re.findall(r"<[A-Z_]+_\d+>", user_turns2[-1])) <= placeholders1  # the same values keep their placeholders
    assert MAIL in reply2 and not re.search(r"<[A-Z_]+_\d+>", reply2)  # and restore to the real values

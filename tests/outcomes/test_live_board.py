"""The live board behind the console: per-tenant snapshots, merging, bounds, and subscribers that fall behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from proxy.outcomes.live import LiveBoard
from proxy.storage.outcomes import OutcomeUpdate


def _u(conversation: str = "c" * 64, tenant: str = "acme", turns: int = 1, **kw: Any) -> OutcomeUpdate:
    trajectory = tuple(("confusion" if i == turns - 1 else "neutral", 0.5, 0.2, 1 if i == turns - 1 else 0) for i in range(turns))
    base: dict[str, Any] = {"tenant": tenant, "conversation": conversation, "subject": None, "policy_name": "p", "policy_version": "v1", "at": datetime.now(UTC), "turns": turns, "trajectory": trajectory}
    base.update(kw)
    return OutcomeUpdate(**base)


def test_updates_merge_per_conversation_and_tenants_see_only_their_own() -> None:
    board = LiveBoard()
    board.update(_u(turns=1, rails=("input:pass",)))
    entry = board.update(_u(turns=2, rails=("input:block",), tone_rules=("confusion",), handoff=True))
    assert entry["id"] == "c" * 12 and entry["requests"] == 2 and entry["turns"] == 2 and len(entry["trajectory"]) == 2
    assert entry["rails"] == {"input:pass": 1, "input:block": 1} and entry["last_rails"] == ["input:block"] and entry["handoff"] is True
    assert {"kind": "distress", "turn": 2} in entry["events"] and {"kind": "confusion", "turn": 2} in entry["events"]
    board.update(_u("d" * 64, tenant="globex"))
    assert [e["id"] for e in board.snapshot("acme")] == ["c" * 12]
    assert [e["id"] for e in board.snapshot("globex")] == ["d" * 12]


def test_the_board_keeps_the_most_recent_and_forgets_idle_ones() -> None:
    board = LiveBoard(capacity=3)
    for i in range(5):
        board.update(_u(str(i) * 64))
    assert [e["id"] for e in board.snapshot("acme")] == [str(i) * 12 for i in (4, 3, 2)]
    idle = LiveBoard(idle_seconds=0.0)
    idle.update(_u())
    assert idle.snapshot("acme") == []


async def test_a_subscriber_gets_a_snapshot_then_updates_and_a_fresh_snapshot_when_it_falls_behind() -> None:
    board = LiveBoard()
    board.update(_u())
    stream = board.subscribe("acme", heartbeat=0.05)
    first = await anext(stream)
    assert first["type"] == "snapshot" and len(first["conversations"]) == 1
    board.update(_u(turns=2))
    board.update(_u("e" * 64, tenant="globex"))  # another tenant's: not sent
    event = await anext(stream)
    assert event["type"] == "conversation" and event["conversation"]["turns"] == 2
    assert (await anext(stream))["type"] == "ping"
    for i in range(300):  # more than the subscriber's queue holds
        board.update(_u(f"{i:064x}"))
    behind = await anext(stream)
    assert behind["type"] == "snapshot"
    assert board.subscribers == 1
    await stream.aclose()
    await asyncio.sleep(0)
    assert board.subscribers == 0

"""Outcome facts through the app: a conversation driven through the proxy leaves one row of machine
values (no text, no PII, no raw ids), no-store leaves none, and feedback lands on the row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlmodel import Session, select

from proxy.app import create_app
from proxy.settings import Settings
from proxy.storage.tables import ConversationOutcome
from proxy.testing import FakeUpstream
from tests.api.conftest import assert_openai_error

POLICIES = Path(__file__).resolve().parents[2] / "policies"
MAIL = "quentin.canary@example.com"
USER = "user-canary-7731"
CONV = "conv-canary-4410"
TURNS = [
    f"Hi, my order never arrived. You can mail me at {MAIL}.",
    "I have waited three weeks and nobody answers. This is ridiculous and I am really annoyed!",
    "Still nothing?! This is the worst service, I am furious and fed up with you.",
]


@pytest.fixture
async def client(tmp_path: Path) -> Any:
    async with FakeUpstream(faults=False) as up:
        settings = Settings(data_dir=tmp_path / "data", upstream_url=up.base_url, policy={"directory": str(POLICIES)})
        app = create_app(settings)
        async with AsyncTestClient(app) as c:
            c.services = app.state.services  # type: ignore[attr-defined]
            yield c


async def _converse(client: AsyncTestClient[Any], turns: list[str], **headers: str) -> list[Any]:
    messages: list[dict[str, Any]] = []
    replies = []
    for text in turns:
        messages.append({"role": "user", "content": text})
        r = await client.post("/v1/chat/completions", json={"model": "support-agent", "messages": messages}, headers=headers)
        assert r.status_code == 200, r.text
        replies.append(r)
        messages.append({"role": "assistant", "content": r.json()["choices"][0]["message"]["content"]})
    return replies


def _rows(client: AsyncTestClient[Any]) -> list[ConversationOutcome]:
    services = client.services  # type: ignore[attr-defined]
    assert services.outcomes.recorder.flush(5.0)
    with Session(services.engine) as session:
        return list(session.exec(select(ConversationOutcome)))


async def test_a_conversation_leaves_one_row_of_facts_without_text_or_ids(client: AsyncTestClient[Any]) -> None:
    await _converse(client, TURNS, **{"x-bedside-user": USER, "x-bedside-conversation": CONV})
    rows = _rows(client)
    assert len(rows) == 1
    row = rows[0]
    assert row.tenant == "open" and row.policy_name == "customer-service" and row.requests == 3 and row.turns == 3
    assert len(row.trajectory) == 3 and all(len(t) == 4 for t in row.trajectory)
    labels = [t[0] for t in row.trajectory]
    assert labels[-1] in {"frustration", "anger"}, labels
    assert row.trajectory[-1][2] > row.trajectory[0][2]  # frustration rose over the conversation
    assert row.sentiment_shift is not None and row.sentiment_shift < 0
    assert sum(row.tone_rules.values()) >= 1 and set(row.tone_rules) & {"frustration", "frustration_high"}
    assert row.rails.get("input:pass") == 3  # the policy's input rails ran on every request and passed
    assert row.subject is not None and len(row.subject) == 64 and len(row.conversation) == 64
    assert row.ended_at >= row.started_at and row.handoff_at is None and row.rating is None

    # canary scan: every column of every row, as stored
    stored = json.dumps([r.model_dump(mode="json") for r in rows])
    for canary in (MAIL, "quentin", USER, CONV, "ridiculous", "furious", "order never arrived"):
        assert canary not in stored, canary


@pytest.mark.parametrize("level", ["no-store"])
async def test_no_store_conversations_keep_nothing(client: AsyncTestClient[Any], level: str) -> None:
    await _converse(client, TURNS[:2], **{"x-bedside-user": USER, "x-bedside-sensitivity": level})
    assert _rows(client) == []
    assert b'bedside_outcomes_total{result="skipped"} 2.0' in client.services.metrics.render()  # type: ignore[attr-defined]


async def test_a_sensitive_conversation_keeps_facts(client: AsyncTestClient[Any]) -> None:
    await _converse(client, TURNS[:1], **{"x-bedside-sensitivity": "sensitive"})
    assert len(_rows(client)) == 1


async def test_feedback_lands_on_the_conversation_named_by_header_or_by_the_returned_id(client: AsyncTestClient[Any]) -> None:
    await _converse(client, TURNS[:2], **{"x-bedside-conversation": CONV})
    derived = (await _converse(client, ["How do I reset my password?"]))[0].headers["x-bedside-conversation"]
    assert derived.startswith("conv-")

    r = await client.post("/v1/feedback", json={"rating": 2, "resolved": False}, headers={"x-bedside-conversation": CONV})
    assert r.status_code == 200, r.text
    assert r.json() == {"object": "feedback", "conversation": CONV, "rating": 2, "resolved": False, "comment_kept": False}
    r = await client.post("/v1/feedback", json={"conversation": derived, "rating": 5})
    assert r.status_code == 200 and r.json()["rating"] == 5 and r.json()["resolved"] is None
    r = await client.post("/v1/feedback", json={"conversation": derived, "resolved": True})  # a later feedback adds to it
    assert r.json()["rating"] == 5 and r.json()["resolved"] is True

    by_turns = {row.turns: row for row in _rows(client)}
    assert (by_turns[2].rating, by_turns[2].resolved) == (2, False)
    assert (by_turns[1].rating, by_turns[1].resolved) == (5, True) and by_turns[1].feedback_at is not None


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"conversation": CONV, "rating": 6}, "invalid_rating", "rating"),
        ({"conversation": CONV, "rating": True}, "invalid_rating", "rating"),
        ({"conversation": CONV, "resolved": "yes"}, "invalid_type", "resolved"),
        ({"conversation": CONV}, "missing_feedback", "rating"),
        ({"rating": 3}, "missing_conversation", "conversation"),
        ({"conversation": CONV, "rating": 3, "stars": 5}, "unknown_parameter", "stars"),
    ],
)
async def test_bad_feedback_gets_an_error_that_says_what_to_send(client: AsyncTestClient[Any], body: dict[str, Any], code: str, param: str) -> None:
    r = await client.post("/v1/feedback", json=body)
    assert r.status_code == 400
    err = assert_openai_error(r.json(), code)
    assert err["param"] == param


async def test_feedback_on_an_unknown_conversation_is_404(client: AsyncTestClient[Any]) -> None:
    r = await client.post("/v1/feedback", json={"conversation": "never-seen", "rating": 4})
    assert r.status_code == 404
    assert assert_openai_error(r.json(), "conversation_not_found")["param"] == "conversation"


async def test_a_comment_is_kept_redacted_only_under_transcripts_consent(client: AsyncTestClient[Any]) -> None:
    await _converse(client, TURNS[:1], **{"x-bedside-user": USER, "x-bedside-conversation": CONV})
    comment = f"Fine in the end, but write to {MAIL} next time."
    r = await client.post("/v1/feedback", json={"rating": 4, "comment": comment}, headers={"x-bedside-conversation": CONV, "x-bedside-user": USER})
    assert r.json()["comment_kept"] is False and "consent" in r.json()["comment_note"]

    assert (await client.put(f"/v1/users/{USER}/consent", json={"purpose": "transcripts", "granted": True})).status_code == 200
    r = await client.post("/v1/feedback", json={"rating": 4, "comment": comment}, headers={"x-bedside-conversation": CONV, "x-bedside-user": USER})
    assert r.status_code == 200 and r.json()["comment_kept"] is True, r.text
    turns = (await client.get(f"/v1/users/{USER}/conversations/{CONV}")).json()
    kept = [t for t in turns["turns"] if t["readings"].get("kind") == "feedback"]
    assert len(kept) == 1 and kept[0]["readings"]["rating"] == 4
    assert "Fine in the end" in kept[0]["user"] and MAIL not in json.dumps(turns) and "<EMAIL_ADDRESS>" in kept[0]["user"]
    assert MAIL not in json.dumps([r.model_dump(mode="json") for r in _rows(client)])


async def test_a_streamed_reply_is_recorded_once_the_stream_has_ended(client: AsyncTestClient[Any]) -> None:
    body = {"model": "support-agent", "stream": True, "messages": [{"role": "user", "content": TURNS[1]}]}
    async with client.stream("POST", "/v1/chat/completions", json=body, headers={"x-bedside-conversation": CONV}) as r:
        assert r.status_code == 200
        text = "".join([chunk async for chunk in r.aiter_text()])
    assert text.rstrip().endswith("data: [DONE]")
    rows = _rows(client)
    assert len(rows) == 1 and rows[0].turns == 1 and rows[0].rails.get("output:pass") == 1 and rows[0].rails.get("input:pass") == 1

"""``RequestContext``: the per-request state the stages share."""

from __future__ import annotations

from proxy.pipeline.context import Facts, RequestContext


def _ctx(body: dict[str, object] | None = None, endpoint: str = "chat") -> RequestContext:
    return RequestContext(request_id="r", endpoint=endpoint, body=dict(body or {}), headers={})


def test_the_conversation_is_derived_once_and_only_when_read() -> None:
    calls: list[int] = []
    ctx = _ctx()
    ctx._conversation_derive = lambda: calls.append(1) or "conv-1"
    assert calls == []
    assert ctx.conversation_id == "conv-1" and ctx.conversation_id == "conv-1"
    assert calls == [1]


def test_setting_the_conversation_drops_the_derivation() -> None:
    ctx = _ctx()
    ctx._conversation_derive = lambda: "derived"
    ctx.conversation_id = "from-header"
    assert ctx.conversation_id == "from-header"


def test_stream_and_model_read_the_body() -> None:
    assert _ctx({"stream": True, "model": "m"}).stream is True
    assert _ctx({"stream": True}, endpoint="embeddings").stream is False
    assert _ctx({"model": 3}).model == "" and _ctx({"model": "m"}).model == "m"


def test_decisions_merge_per_stage_and_facts_start_empty() -> None:
    ctx = _ctx()
    ctx.decide("pii", redacted=2)
    ctx.decide("pii", blocked=False)
    assert ctx.decisions == {"pii": {"redacted": 2, "blocked": False}}
    assert ctx.facts == Facts() and ctx.facts.get("route") is None and ctx.policy is None
    ctx.facts["route"] = "azure"
    assert _ctx().facts == {}  # never shared between requests

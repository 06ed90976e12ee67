"""The handoff webhook against a REAL listening receiver on 127.0.0.1: retries with back-off, a valid
signature on every attempt, the same event id, and no raw PII in the payload."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from proxy.metrics import Metrics
from proxy.pipeline.context import RequestContext
from proxy.policy.sections.rails import Handoff
from proxy.rails.handoff import SIGNATURE_HEADER, HandoffNotifier, HandoffTarget, sign, verify_signature
from proxy.secrets_store import SubjectHasher
from proxy.testing import free_port

SECRET = "test-handoff-secret"
CANARIES = ("alice.canary@example.com", "+1 415 555 0199", "4111 1111 1111 1111", "123-45-6789", "user-canary-42")


@dataclass
class Receiver:
    """An aiohttp server that answers ``fail_first`` requests with ``fail_status``, then 200."""

    fail_first: int = 0
    fail_status: int = 503
    delay: float = 0.0
    hits: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.hits.append({"at": time.monotonic(), "headers": request.headers.copy(), "body": body})
        if self.delay:
            await asyncio.sleep(self.delay)
        if len(self.hits) <= self.fail_first:
            return web.Response(status=self.fail_status)
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rec.url = f"http://127.0.0.1:{port}/hook"
    yield rec
    await runner.cleanup()


def _ctx(url: str, **handoff: Any) -> RequestContext:
    from proxy.policy.schema import Policy

    policy = Policy.model_validate(
        {"name": "intake", "description": "d", "owner": "o", "rails": {"handoff": {"webhook_url": url, "secret_env": "HANDOFF_SECRET", "context_turns": 3, **handoff}}},
        strict=False,
    )
    body = {
        "messages": [
            {"role": "system", "content": "[bedside:persona]\nYou are the intake assistant."},
            {"role": "user", "content": "Hi, I'm <PERSON_1>."},  # what the PII stage leaves
            {"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": f"Email me at {CANARIES[0]} or call {CANARIES[1]}."},
            {"role": "assistant", "content": "Thanks, noted."},
            {"role": "user", "content": f"My card {CANARIES[2]} and SSN {CANARIES[3]}. I want to end my life."},
        ]
    }
    ctx = RequestContext(request_id="req-7", endpoint="chat", body=body, headers={})
    ctx.policy = policy
    ctx.tenant = "acme"
    ctx.user_id = CANARIES[4]
    ctx.conversation_id = "conv-9"
    return ctx


def _notifier(metrics: Metrics, **kw: Any) -> HandoffNotifier:
    return HandoffNotifier(SubjectHasher(b"k" * 32), metrics, backoff_seconds=0.05, environ={"HANDOFF_SECRET": SECRET}, **kw)


async def _wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _sample(metrics: Metrics, result: str) -> float:
    return metrics.registry.get_sample_value("bedside_handoff_deliveries_total", {"policy": "intake", "result": result}) or 0.0


async def test_retries_until_the_receiver_accepts_with_a_valid_signature_and_no_pii(receiver: Receiver, network_attempts: Callable[[], list[str]]) -> None:
    receiver.fail_first = 2
    metrics = Metrics()
    notifier = _notifier(metrics)
    ctx = _ctx(receiver.url)
    event_id = await notifier.notify(ctx, reason="crisis", reasons=("self_harm", "wish_dead"))
    await _wait_for(lambda: _sample(metrics, "delivered") == 1)
    await notifier.aclose()

    assert len(receiver.hits) == 3
    assert [h["headers"]["X-Bedside-Attempt"] for h in receiver.hits] == ["1", "2", "3"]
    assert {h["headers"]["X-Bedside-Event"] for h in receiver.hits} == {event_id}
    gaps = [b["at"] - a["at"] for a, b in zip(receiver.hits, receiver.hits[1:], strict=False)]
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09  # exponential back-off: 0.05 s, then 0.1 s
    for hit in receiver.hits:
        assert verify_signature(SECRET.encode(), hit["headers"][SIGNATURE_HEADER], hit["body"])
        assert not verify_signature(b"wrong", hit["headers"][SIGNATURE_HEADER], hit["body"])
        assert not verify_signature(SECRET.encode(), hit["headers"][SIGNATURE_HEADER], hit["body"] + b" ")
    raw = receiver.hits[-1]["body"].decode()
    for canary in CANARIES:
        assert canary not in raw
    event = json.loads(raw)
    assert event["id"] == event_id and event["type"] == "bedside.handoff"
    assert (event["policy"], event["reason"], event["reasons"], event["tenant"], event["conversation"], event["reference"]) == (
        "intake",
        "crisis",
        ["self_harm", "wish_dead"],
        "acme",
        "conv-9",
        "req-7",
    )
    assert event["subject"] == SubjectHasher(b"k" * 32)(CANARIES[4])
    assert [t["role"] for t in event["context"]] == ["user", "assistant", "user"]  # the last 3 turns, no system prompt
    assert event["context"][0]["content"] == "Email me at <EMAIL_ADDRESS> or call <PHONE_NUMBER>."
    assert "<CREDIT_CARD>" in event["context"][2]["content"] and "<US_SSN>" in event["context"][2]["content"]
    assert _sample(metrics, "retry") == 2
    assert metrics.registry.get_sample_value("bedside_handoffs_total", {"policy": "intake", "reason": "crisis"}) == 1
    assert network_attempts() == []


async def test_gives_up_after_the_configured_retries(receiver: Receiver) -> None:
    receiver.fail_first = 99
    metrics = Metrics()
    notifier = _notifier(metrics)
    await notifier.notify(_ctx(receiver.url, retries=2), reason="crisis")
    await _wait_for(lambda: _sample(metrics, "failed") == 1)
    await notifier.aclose()
    assert len(receiver.hits) == 3


async def test_a_permanent_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.fail_first, receiver.fail_status = 99, 400
    metrics = Metrics()
    notifier = _notifier(metrics)
    await notifier.notify(_ctx(receiver.url), reason="crisis")
    await _wait_for(lambda: _sample(metrics, "failed") == 1)
    await notifier.aclose()
    assert len(receiver.hits) == 1


async def test_connection_refused_is_retried_and_never_blocks_notify() -> None:
    metrics = Metrics()
    notifier = _notifier(metrics)
    started = time.perf_counter()
    await notifier.notify(_ctx(f"http://127.0.0.1:{free_port()}/hook", retries=1), reason="crisis")
    assert time.perf_counter() - started < 0.05  # queued, not sent inline
    await _wait_for(lambda: _sample(metrics, "failed") == 1)
    assert _sample(metrics, "retry") == 1
    await notifier.aclose()


async def test_a_full_queue_drops_and_counts(receiver: Receiver) -> None:
    receiver.delay = 0.3
    metrics = Metrics()
    notifier = _notifier(metrics, queue_size=1, workers=1)
    ctx = _ctx(receiver.url)
    results = [await notifier.submit(notifier.build_event(ctx, reason="crisis"), HandoffTarget.from_policy(ctx.policy.rails.handoff)) for _ in range(4)]
    assert results[0] and not all(results)
    assert _sample(metrics, "dropped") >= 1
    await notifier.aclose(timeout=3)


async def test_no_webhook_is_recorded_and_nothing_is_sent() -> None:
    metrics = Metrics()
    notifier = _notifier(metrics)
    ctx = _ctx("x")
    ctx.policy = ctx.policy.model_copy(update={"rails": ctx.policy.rails.model_copy(update={"handoff": Handoff()})})
    await notifier.notify(ctx, reason="crisis")
    assert _sample(metrics, "no_webhook") == 1
    await notifier.aclose()


async def test_unsigned_when_the_secret_is_not_set(receiver: Receiver) -> None:
    metrics = Metrics()
    notifier = HandoffNotifier(SubjectHasher(b"k" * 32), metrics, environ={})
    await notifier.notify(_ctx(receiver.url), reason="crisis")
    await _wait_for(lambda: _sample(metrics, "delivered") == 1)
    await notifier.aclose()
    assert SIGNATURE_HEADER not in receiver.hits[0]["headers"]


def test_signature_format_and_expiry() -> None:
    header = sign(b"s", b"{}", 1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(b"s", header, b"{}", now=1_700_000_100)
    assert not verify_signature(b"s", header, b"{}", now=1_700_001_000)
    assert not verify_signature(b"s", "garbage", b"{}")

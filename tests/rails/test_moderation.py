"""The moderation judge against a fake endpoint (``httpx.MockTransport``): verdicts, categories,
timeouts and the declared failure mode, and the cache by content hash."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from proxy.policy.sections.rails import Moderation
from proxy.rails.moderation import ModerationJudge


class Fake:
    """A moderation endpoint: answers what the test scripts, records every request."""

    def __init__(self, answer: Any = None, *, status: int = 200, fail: Exception | None = None) -> None:
        self.answer, self.status, self.fail = answer, status, fail
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail is not None:
            raise self.fail
        return httpx.Response(self.status, json=self.answer)


def moderations(flagged: bool, **categories: bool) -> dict[str, Any]:
    return {"id": "modr-1", "model": "omni-moderation-latest", "results": [{"flagged": flagged, "categories": categories}]}


def guard(text: str) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}


def judge(fake: Fake, categories: dict[str, str] | None = None, **config: Any) -> ModerationJudge:
    settings = Moderation(url="http://moderation.invalid/v1", **config)
    return ModerationJudge(settings, categories or {}, transport=httpx.MockTransport(fake))


async def test_openai_moderations_flag_by_category() -> None:
    fake = Fake(moderations(True, violence=True, harassment=False, **{"self-harm": True}))
    j = judge(fake, {"self-harm": "handoff", "violence": "block"}, model="omni-moderation-latest", api_key_env="MOD_KEY_FOR_TEST")
    assert await j("some text") == ("moderation:self-harm", "also:violence")  # the strongest action first
    sent = json.loads(fake.requests[0].content)
    assert fake.requests[0].url.path == "/v1/moderations" and sent == {"input": "some text", "model": "omni-moderation-latest"}


async def test_categories_the_policy_does_not_name_pass() -> None:
    j = judge(Fake(moderations(True, harassment=True)), {"violence": "block"})
    assert await j("text") == ()
    assert await judge(Fake(moderations(True, harassment=True)))("text") == ("moderation:harassment",)
    assert await judge(Fake(moderations(False, harassment=False)))("text") == ()


async def test_api_key_comes_from_the_named_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOD_KEY_FOR_TEST", "sk-test-123")
    fake = Fake(moderations(False))
    await judge(fake, api_key_env="MOD_KEY_FOR_TEST")("text")
    assert fake.requests[0].headers["authorization"] == "Bearer sk-test-123"


async def test_a_guard_model_behind_a_chat_api() -> None:
    fake = Fake(guard("unsafe\nS1,S10"))
    j = judge(fake, style="guard_chat", model="llama-guard-3-8b")
    assert await j("text") == ("moderation:S1", "also:S10")
    sent = json.loads(fake.requests[0].content)
    assert fake.requests[0].url.path == "/v1/chat/completions"
    assert sent["model"] == "llama-guard-3-8b" and sent["messages"] == [{"role": "user", "content": "text"}]
    assert await judge(Fake(guard("safe")), style="guard_chat")("text") == ()


@pytest.mark.parametrize(
    "fake",
    [
        Fake(fail=httpx.ReadTimeout("slow")),
        Fake(fail=httpx.ConnectError("refused")),
        Fake(moderations(False), status=503),
        Fake({"unexpected": True}),
        Fake(guard("maybe")),
    ],
    ids=["timeout", "refused", "503", "garbage", "unreadable-guard"],
)
async def test_failures_follow_the_declared_mode(fake: Fake) -> None:
    style = "guard_chat" if fake.answer and "choices" in fake.answer else "moderations"
    assert await judge(fake, style=style)("text") == ("moderation_error",)  # block: fail closed (default)
    assert await judge(fake, style=style, on_error="pass")("text") == ()  # pass: fail open


async def test_verdicts_are_cached_by_content_hash_and_errors_are_not() -> None:
    fake = Fake(moderations(True, violence=True))
    j = judge(fake)
    for _ in range(3):
        assert await j("the same text") == ("moderation:violence",)
    assert len(fake.requests) == 1
    await j("another text")
    assert len(fake.requests) == 2
    broken = Fake(fail=httpx.ConnectError("down"))
    j2 = judge(broken)
    await j2("text")
    await j2("text")
    assert len(broken.requests) == 2
    uncached = Fake(moderations(False))
    j3 = judge(uncached, cache_size=0)
    await j3("text")
    await j3("text")
    assert len(uncached.requests) == 2
    await j.aclose()

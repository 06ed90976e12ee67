"""The emotion stage reads off the event loop (a worker thread, or the classifier's own ``submit``
worker), and a policy naming an emotion reader this installation cannot load is rejected when the
policy set loads or reloads, not at the first request."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest

from proxy.detectors.emotion import EmotionReading, neutral_reading
from proxy.metrics import Metrics
from proxy.pipeline.context import RequestContext
from proxy.policy import PolicyLoadError, PolicyStore
from proxy.stages.emotion import EmotionStage, emotion_policy_issues

POLICY = """description: off-loop test
owner: tests
routing: {{aliases: [bot]}}
persona: {{system_prompt: "You are Bot."}}
emotion: {{enabled: {enabled}, classifier: "{classifier}"}}
"""


class Waiting:
    """A plug-in classifier whose read blocks until the test releases it (from the event loop), and
    that records the thread each read ran on. A read on the event loop would never be released."""

    name = "waiting"
    release = threading.Event()
    threads: ClassVar[list[int]] = []
    released: ClassVar[list[bool]] = []

    def classify(self, text: str) -> EmotionReading:
        Waiting.threads.append(threading.get_ident())
        Waiting.released.append(Waiting.release.wait(timeout=20))
        return neutral_reading()


def waiting() -> Waiting:
    return Waiting()


class Submitting:
    """A plug-in classifier offering ``submit`` (as the contextual reader does), counting its reads."""

    name = "submitting"
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-submit")
    submitted: ClassVar[list[str]] = []
    threads: ClassVar[list[int]] = []

    def classify(self, text: str) -> EmotionReading:
        Submitting.threads.append(threading.get_ident())
        return neutral_reading()

    def submit(self, text: str) -> Future[EmotionReading]:
        Submitting.submitted.append(text)
        return Submitting.pool.submit(self.classify, text)


def submitting() -> Submitting:
    return Submitting()


def _store(tmp_path: Path, classifier: str, *, enabled: str = "true", check: Any = None) -> PolicyStore:
    pdir = tmp_path / "p"
    pdir.mkdir(parents=True, exist_ok=True)
    (pdir / "bot.yaml").write_text(POLICY.format(classifier=classifier, enabled=enabled))
    return PolicyStore(pdir, default_policy=None, check=check)


async def _run(stage: EmotionStage, store: PolicyStore, messages: list[dict[str, Any]]) -> RequestContext:
    ctx = RequestContext(request_id="r", endpoint="chat", body={"model": "bot", "messages": messages}, headers={})
    ctx.policy = store.current.policies["bot"]

    async def done(_: RequestContext) -> Any:
        return None

    await stage(ctx, done)
    return ctx


async def test_the_read_runs_off_the_event_loop_which_keeps_serving(tmp_path: Path) -> None:
    store = _store(tmp_path, "tests.stages.test_emotion_off_loop:waiting")
    stage = EmotionStage(Metrics())
    Waiting.release.clear()
    Waiting.threads.clear()
    Waiting.released.clear()

    async def release_from_the_loop() -> None:
        while not Waiting.threads:  # the loop keeps running while the read waits
            await asyncio.sleep(0.01)
        Waiting.release.set()

    ctx, _ = await asyncio.gather(_run(stage, store, [{"role": "user", "content": "hello there"}]), release_from_the_loop())
    assert Waiting.released == [True], "the read was released by the event loop while it ran"
    assert threading.get_ident() not in Waiting.threads
    assert ctx.facts["emotion"].current.label == "neutral"


async def test_a_classifier_with_submit_reads_new_turns_on_its_worker_once(tmp_path: Path) -> None:
    store = _store(tmp_path, "tests.stages.test_emotion_off_loop:submitting")
    stage = EmotionStage(Metrics())
    Submitting.submitted.clear()
    Submitting.threads.clear()
    first = [{"role": "user", "content": "my order is late"}]
    await _run(stage, store, first)
    later = [*first, {"role": "assistant", "content": "sorry"}, {"role": "user", "content": "still late"}]
    ctx = await _run(stage, store, later)
    assert Submitting.submitted == ["my order is late", "still late"], "each turn read once, through submit"
    assert threading.get_ident() not in Submitting.threads
    assert len(Submitting.threads) == 2
    assert len(ctx.facts["emotion"].turns) == 2


async def test_builtin_reader_gives_the_same_reading_off_the_loop(tmp_path: Path) -> None:
    from proxy.detectors.emotion import load_classifier
    from proxy.detectors.emotion_conversation import read_conversation

    store = _store(tmp_path, "builtin")
    text = "This is the third time I'm asking and it STILL doesn't work!!!"
    ctx = await _run(EmotionStage(Metrics()), store, [{"role": "user", "content": text}])
    assert ctx.facts["emotion"] == read_conversation(load_classifier("builtin"), [text])


def _hide_onnxruntime(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name, *a))


def test_contextual_without_its_extra_is_rejected_when_the_policies_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_onnxruntime(monkeypatch)
    with pytest.raises(PolicyLoadError) as caught:
        _store(tmp_path, "contextual", check=emotion_policy_issues)
    (issue,) = caught.value.issues
    assert issue.path == "emotion.classifier" and issue.file.name == "bot.yaml"
    assert "policy 'bot' selects the contextual emotion reader" in issue.message
    assert "onnxruntime not installed" in issue.message and "bedside[contextual]" in issue.message


def test_a_reload_to_contextual_without_its_extra_keeps_the_last_good_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path, "builtin", check=emotion_policy_issues)
    good = store.current
    _hide_onnxruntime(monkeypatch)
    (tmp_path / "p" / "bot.yaml").write_text(POLICY.format(classifier="contextual", enabled="true"))
    result = store.reload()
    assert not result.ok and store.current is good
    assert [i.path for i in result.issues] == ["emotion.classifier"]


def test_contextual_with_emotion_disabled_or_installed_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from proxy.detectors.emotion_contextual_base import contextual_missing

    if contextual_missing() is None:  # installed here: the policy loads
        assert emotion_policy_issues(_store(tmp_path / "a", "contextual").current) == []
    _hide_onnxruntime(monkeypatch)
    assert emotion_policy_issues(_store(tmp_path / "b", "contextual", enabled="false").current) == []
    assert emotion_policy_issues(_store(tmp_path / "c", "builtin").current) == []


async def test_one_users_text_is_never_a_cache_hit_for_another(tmp_path: Path) -> None:
    """The text cache is per tenant and user: a second user sending the very same text is read
    again (no one can time whether someone else sent it); the same user's resend is not."""
    store = _store(tmp_path, "tests.stages.test_emotion_off_loop:submitting")
    stage = EmotionStage(Metrics())
    Submitting.submitted.clear()
    said = [{"role": "user", "content": "my order 4411 never arrived"}]

    async def as_user(tenant: str, user: str | None) -> None:
        ctx = RequestContext(request_id="r", endpoint="chat", body={"model": "bot", "messages": said}, headers={}, tenant=tenant, user_id=user)
        ctx.policy = store.current.policies["bot"]

        async def done(_: RequestContext) -> Any:
            return None

        await stage(ctx, done)
        assert ctx.facts["emotion"].current.label == "neutral"

    await as_user("acme", "alice")
    await as_user("acme", "alice")
    assert Submitting.submitted == ["my order 4411 never arrived"], "the same user's resend is a cache hit"
    await as_user("acme", "bob")
    await as_user("globex", "alice")
    await as_user("acme", None)
    assert len(Submitting.submitted) == 4, "another user, another tenant or no user: read again"

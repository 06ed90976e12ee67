"""Emotion and tone stages through a real pipeline: the right rule reaches the upstream, in the
declared place, with the header and metrics; escalation on rising frustration; shadow; fail open."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from proxy.auth import KeyRing
from proxy.detectors.emotion import EMOTIONS, EmotionReading
from proxy.metrics import Metrics
from proxy.pipeline.collect import collect
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Pipeline
from proxy.policy import PolicyStore
from proxy.secrets_store import SubjectHasher
from proxy.settings import Timeouts, UpstreamSettings
from proxy.stages.emotion import EmotionStage, build_emotion_stage
from proxy.stages.forward import Forwarder
from proxy.stages.identity import IdentityStage
from proxy.stages.policy import PolicyStage
from proxy.stages.tone import TONE_MARK, ToneStage
from proxy.upstream.httpx_transport import HttpxTransport
from proxy.upstream.openai import OpenAIUpstream
from proxy.upstream.router import UpstreamRouter

POLICY = """description: tone test
owner: tests
mode: {mode}
routing: {{aliases: [bot]}}
persona: {{system_prompt: "You are Bot."}}
microcopy: {{support_url: "https://help.example"}}
emotion: {{enabled: true, classifier: "{classifier}"}}
tone:
  enabled: true
  placement: {placement}
  rules:
    - name: frustration_high
      when: {{emotion: [frustration, anger], min_intensity: 0.3}}
      say: "Acknowledge the frustration in one short sentence. Give numbered next steps."
    - name: confusion
      when: {{emotion: [confusion], min_intensity: 0.55}}
      say: "Slow down, one step at a time, and check understanding at the end."
    - name: joy
      when: {{emotion: [joy, gratitude]}}
      say: "Match the warmth briefly."
  escalation: {{enabled: true, min_turns: 3, min_intensity: 0.3}}
"""


class Broken:
    """A plug-in classifier that always fails (for the fail-open test)."""

    name = "broken"

    def classify(self, text: str) -> EmotionReading:
        raise RuntimeError("model exploded")


def broken() -> Broken:
    return Broken()


def _pipeline(tmp_path: Path, *, mode: str = "enforce", placement: str = "before_last_user", classifier: str = "builtin") -> tuple[Pipeline, list[dict[str, Any]], Metrics]:
    pdir = tmp_path / f"p-{mode}-{placement}-{classifier.replace(':', '_').replace('.', '_')}"
    pdir.mkdir()
    (pdir / "bot.yaml").write_text(POLICY.format(mode=mode, placement=placement, classifier=classifier))
    store = PolicyStore(pdir, default_policy=None)
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        seen.append(body)
        return httpx.Response(200, json={"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})

    metrics = Metrics()
    up = OpenAIUpstream(UpstreamSettings(name="u", base_url="http://up.test/v1"), HttpxTransport(transport=httpx.MockTransport(handler)), Timeouts())
    stages = [IdentityStage(KeyRing(), SubjectHasher(b"t" * 32)), PolicyStage(store, metrics), EmotionStage(metrics), ToneStage(metrics)]
    return Pipeline(stages, Forwarder(UpstreamRouter([up]), metrics)), seen, metrics


async def _send(pipe: Pipeline, messages: list[dict[str, Any]]) -> RequestContext:
    ctx = RequestContext(request_id="r1", endpoint="chat", body={"model": "bot", "messages": messages}, headers={})
    await collect(await pipe(ctx))
    return ctx


def _tone_message(body: dict[str, Any]) -> tuple[int, str] | None:
    for i, m in enumerate(body["messages"]):
        if m["role"] == "system" and m["content"].startswith(TONE_MARK):
            return i, m["content"]
    return None


async def test_frustrated_user_gets_the_frustration_rule_before_the_last_turn(tmp_path: Path) -> None:
    pipe, seen, metrics = _pipeline(tmp_path)
    ctx = await _send(pipe, [{"role": "user", "content": "This is the THIRD time I'm asking and it STILL doesn't work!!! Ridiculous."}])
    found = _tone_message(seen[0])
    assert found is not None
    index, text = found
    assert "Acknowledge the frustration" in text and "Slow down" not in text
    assert seen[0]["messages"][index + 1]["role"] == "user", "placed right before the last user turn"
    assert ctx.response_headers["x-bedside-emotion"].startswith(ctx.facts["emotion"].current.label)
    assert ctx.decisions["tone"]["rules"] == ["frustration_high"]
    assert ctx.decisions["emotion"]["emotion"] in ("frustration", "anger")
    assert "bedside_tone_rules_total" in metrics.render().decode()


async def test_confused_user_gets_the_slow_down_rule_after_system(tmp_path: Path) -> None:
    pipe, seen, _ = _pipeline(tmp_path, placement="after_system")
    await _send(pipe, [{"role": "system", "content": "client"}, {"role": "user", "content": "I don't understand what this means. Which button do I press? I'm lost."}])
    found = _tone_message(seen[0])
    assert found is not None
    index, text = found
    assert "Slow down" in text
    roles = [m["role"] for m in seen[0]["messages"]]
    assert index == max(i for i, r in enumerate(roles) if r == "system")
    assert 'bedside_perception_events_total{kind="confusion"}' in _metrics_text(pipe)


def _metrics_text(pipe: Pipeline) -> str:
    for stage in pipe.stages:
        if isinstance(stage, EmotionStage):
            return stage._metrics.render().decode()
    return ""


async def test_neutral_request_gets_no_tone_message(tmp_path: Path) -> None:
    pipe, seen, _ = _pipeline(tmp_path)
    ctx = await _send(pipe, [{"role": "user", "content": "What are your opening hours on Saturday?"}])
    assert _tone_message(seen[0]) is None
    assert "emotion" in ctx.decisions and "tone" not in ctx.decisions


async def test_rising_frustration_over_turns_escalates_to_a_human(tmp_path: Path) -> None:
    pipe, seen, _ = _pipeline(tmp_path)
    turns = [
        "Hi, my order hasn't arrived yet, can you check?",
        "It's been two weeks now and still nothing. This is annoying.",
        "This is ridiculous, I've asked three times and nobody helps!!",
        "I am SO fed up. This STILL isn't fixed and I want my money back NOW!!!",
    ]
    messages: list[dict[str, Any]] = []
    for t in turns:
        messages += [{"role": "user", "content": t}, {"role": "assistant", "content": "Let me check."}]
    ctx = await _send(pipe, messages[:-1])
    found = _tone_message(seen[0])
    assert found is not None
    assert ctx.decisions["tone"]["escalated"] is True, ctx.decisions
    assert "human colleague" in found[1] and "https://help.example" in found[1]
    assert ctx.facts["emotion"].trend == "rising"


async def test_shadow_mode_records_but_injects_nothing(tmp_path: Path) -> None:
    pipe, seen, _ = _pipeline(tmp_path, mode="shadow")
    ctx = await _send(pipe, [{"role": "user", "content": "Thank you so much, that fixed it! You're great."}])
    assert _tone_message(seen[0]) is None
    assert ctx.decisions["tone"]["injected"] is False
    assert ctx.decisions["tone"]["rules"] == ["joy"]


async def test_a_failing_classifier_fails_open(tmp_path: Path) -> None:
    pipe, seen, metrics = _pipeline(tmp_path, classifier="tests.stages.test_emotion_tone:broken")
    ctx = await _send(pipe, [{"role": "user", "content": "This STILL doesn't work!!!"}])
    assert seen, "the request still reached the upstream"
    assert "emotion" not in ctx.facts and _tone_message(seen[0]) is None
    assert 'bedside_stage_failures_total{mode="open",stage="emotion"} 1.0' in metrics.render().decode()


@pytest.mark.parametrize("label", EMOTIONS)
def test_every_emotion_label_is_known_to_the_policy_schema(label: str) -> None:
    from proxy.policy.sections.tone import Emotion

    assert label in Emotion.__args__  # type: ignore[attr-defined]


class Counting:
    """A plug-in classifier that counts how often it is built and used (for the warm-up tests)."""

    name = "counting"
    built = 0
    read: ClassVar[list[str]] = []

    def __init__(self) -> None:
        Counting.built += 1

    def classify(self, text: str) -> EmotionReading:
        Counting.read.append(text)
        from proxy.detectors.emotion import neutral_reading

        return neutral_reading()


def counting() -> Counting:
    return Counting()


def test_build_emotion_stage_loads_the_models_of_loaded_policies_at_start_up(tmp_path: Path) -> None:
    pdir = tmp_path / "p"
    pdir.mkdir()
    (pdir / "bot.yaml").write_text(POLICY.format(mode="enforce", placement="before_last_user", classifier="tests.stages.test_emotion_tone:counting"))
    store = PolicyStore(pdir, default_policy=None)
    Counting.built, Counting.read = 0, []
    stage = build_emotion_stage(Metrics(), store)
    assert Counting.built == 1 and len(Counting.read) == 1  # loaded and exercised once, before any request
    assert stage.classifier("tests.stages.test_emotion_tone:counting").inner.__class__ is Counting
    assert stage.warm_policies(store) == ["tests.stages.test_emotion_tone:counting"]
    assert Counting.built == 1  # once per spec


def test_build_emotion_stage_loads_nothing_without_policies() -> None:
    Counting.built = 0
    stage = build_emotion_stage(Metrics(), None)
    assert stage.warm_policies(None) == [] and Counting.built == 0


def test_warm_builtin_classifier() -> None:
    stage = EmotionStage(Metrics())
    warmed = stage.warm("builtin")
    assert warmed is stage.classifier("builtin") and warmed.name.startswith("bedside-linear")

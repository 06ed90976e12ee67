"""The emotion read and the PII analysis of one request run at the same time (issue 16): the emotion
stage starts the PII analysis just before its own model read, the PII stage takes it. Shown by
event order through a real pipeline (identity, policy, emotion, tone, pii, forward), with a
classifier and a PII detector plugged in through their extension points (a ``module:factory``
classifier spec, ``PiiEngine(build)``) that meet at a barrier: each waits until the other has
started, which only works when both run at once. Nothing here measures time.

And everything else is as before: the same forwarded body, headers, decisions and metrics as the
sequential wiring; a failed read fails open while the analysis still serves the PII stage; a failed
analysis fails closed; analysis nobody took is cancelled.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from proxy.auth import KeyRing
from proxy.detectors.emotion import EmotionReading, neutral_reading
from proxy.detectors.pii import PiiDetector, PiiSpan
from proxy.errors import ServiceUnavailable
from proxy.metrics import Metrics
from proxy.pipeline.collect import collect
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.early import EarlyWork
from proxy.pipeline.stage import Next, Pipeline, Stage
from proxy.policy import PolicyStore
from proxy.secrets_store import SubjectHasher
from proxy.settings import Timeouts, UpstreamSettings
from proxy.stages.emotion import EmotionStage
from proxy.stages.forward import Forwarder
from proxy.stages.identity import IdentityStage
from proxy.stages.pii import PiiEngine, PiiStage
from proxy.stages.policy import PolicyStage
from proxy.stages.tone import ToneStage
from proxy.upstream.httpx_transport import HttpxTransport
from proxy.upstream.openai import OpenAIUpstream
from proxy.upstream.router import UpstreamRouter
from tests.detectors.analyzers import patterns_analyzer

POLICY = """description: overlap test
owner: tests
routing: {{aliases: [bot]}}
persona: {{system_prompt: "You are Bot."}}
emotion: {{enabled: true, classifier: "{classifier}"}}
tone:
  enabled: true
  rules:
    - name: frustrated
      when: {{emotion: [frustration, anger], min_intensity: 0.3}}
      say: "Acknowledge the frustration in one short sentence."
pii: {{enabled: true}}
"""
TEXT = "This is the THIRD time I ask: Ann Lee never got the refund, write to ann.lee@example.com or call +1 415 555 0100!"
WAIT = 20.0  # seconds a side waits at the barrier before the test fails (never reached when both run at once)


class Meet:
    """The rendezvous of one test: the events in the order they happened, and a barrier the read
    and the analysis each pass once (None: they only record, for the sequential wiring)."""

    events: ClassVar[list[tuple[str, int]]] = []
    barrier: ClassVar[threading.Barrier | None] = None
    passed: ClassVar[set[str]] = set()
    lock = threading.Lock()

    @classmethod
    def reset(cls, barrier: bool) -> None:
        cls.events = []
        cls.passed = set()
        cls.barrier = threading.Barrier(2, timeout=WAIT) if barrier else None

    @classmethod
    def at(cls, who: str) -> None:
        with cls.lock:
            cls.events.append((f"{who} start", threading.get_ident()))
            first = who not in cls.passed
            cls.passed.add(who)
        if first and cls.barrier is not None:
            cls.barrier.wait()  # BrokenBarrierError when the other side does not run meanwhile

    @classmethod
    def done(cls, who: str) -> None:
        with cls.lock:
            cls.events.append((f"{who} end", threading.get_ident()))

    @classmethod
    def order(cls) -> list[str]:
        return [e for e, _ in cls.events]


class MeetingReader:
    """A plug-in emotion classifier (read in a worker thread by the stage) that meets the analysis."""

    name = "meeting"

    def classify(self, text: str) -> EmotionReading:
        Meet.at("read")
        Meet.done("read")
        return neutral_reading()


class MeetingSubmitReader(MeetingReader):
    """The same, offering ``submit`` like the contextual reader (read on its own worker)."""

    name = "meeting-submit"
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-overlap")

    def submit(self, text: str) -> Future[EmotionReading]:
        return MeetingSubmitReader.pool.submit(self.classify, text)


class BrokenReader:
    name = "broken"

    def classify(self, text: str) -> EmotionReading:
        raise RuntimeError("model exploded")

    def submit(self, text: str) -> Future[EmotionReading]:
        return MeetingSubmitReader.pool.submit(self.classify, text)


class ShippedOnItsOwnWorker:
    """The shipped default reader offered with ``submit`` (as a reader whose model releases the GIL
    would be), so the overlap is wired around real readings."""

    name = "shipped-submit"

    def __init__(self) -> None:
        from proxy.detectors.emotion import load_classifier

        self.inner = load_classifier("builtin")

    def classify(self, text: str) -> EmotionReading:
        return self.inner.classify(text)

    def submit(self, text: str) -> Future[EmotionReading]:
        return MeetingSubmitReader.pool.submit(self.classify, text)


def shipped_submit() -> ShippedOnItsOwnWorker:
    return ShippedOnItsOwnWorker()


def meeting() -> MeetingReader:
    return MeetingReader()


def meeting_submit() -> MeetingSubmitReader:
    return MeetingSubmitReader()


def broken() -> BrokenReader:
    return BrokenReader()


class MeetingDetector:
    """A PII detector (``PiiEngine(build)``'s extension point) that meets the read, then finds the
    name of ``TEXT``; it counts the texts it analysed."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.analysed: list[str] = []

    def analyze(self, text: str, config: Any) -> tuple[PiiSpan, ...]:
        Meet.at("analysis")
        self.analysed.append(text)
        Meet.done("analysis")
        if self.fail:
            raise RuntimeError("analyzer exploded")
        at = text.find("Ann Lee")
        return (PiiSpan("PERSON", at, at + 7, 0.9),) if at >= 0 else ()


class Harness:
    def __init__(self, root: Path, classifier: str, engine: PiiEngine, *, overlap: bool = True, inner: Stage | None = None) -> None:
        pdir = root / f"p-{classifier.rpartition(':')[2]}-{overlap}"
        pdir.mkdir()
        (pdir / "bot.yaml").write_text(POLICY.format(classifier=classifier))
        self.metrics = Metrics()
        self.sent: list[dict[str, Any]] = []
        transport = HttpxTransport(transport=httpx.MockTransport(self.answer))
        up = OpenAIUpstream(UpstreamSettings(name="u", base_url="http://up.test/v1"), transport, Timeouts())
        self.pii = PiiStage(engine, self.metrics, hash_key=b"k" * 32)
        self.emotion = EmotionStage(self.metrics, meanwhile=self.pii.start_analysis if overlap else None)
        stages: list[Stage] = [IdentityStage(KeyRing(), SubjectHasher(b"t" * 32)), PolicyStage(PolicyStore(pdir, default_policy=None), self.metrics), self.emotion]
        stages += [inner] if inner is not None else [ToneStage(self.metrics), self.pii]
        self.pipeline = Pipeline(stages, Forwarder(UpstreamRouter([up]), self.metrics))

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        message = {"role": "assistant", "content": "Sorry about that, <PERSON_1>."}
        return httpx.Response(200, json={"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})

    async def chat(self, messages: list[dict[str, Any]]) -> tuple[RequestContext, dict[str, Any]]:
        ctx = RequestContext(request_id="r1", endpoint="chat", body={"model": "bot", "messages": copy.deepcopy(messages)}, headers={}, user_id="u1")
        return ctx, await collect(await self.pipeline(ctx))

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_the_read_and_the_pii_analysis_of_one_request_run_at_once(tmp_path: Path) -> None:
    Meet.reset(barrier=True)
    detector = MeetingDetector()
    h = Harness(tmp_path, "tests.stages.test_emotion_pii_overlap:meeting_submit", PiiEngine(lambda: detector))
    ctx, reply = await h.chat([{"role": "user", "content": TEXT}])
    order = Meet.order()
    # each side passed the barrier only because the other had started: both started before either ended
    assert order[:2] in (["read start", "analysis start"], ["analysis start", "read start"]), order
    assert set(order[2:4]) == {"read end", "analysis end"}, order
    threads = {who.split()[0]: tid for who, tid in Meet.events}
    assert threads["read"] != threads["analysis"] and threading.get_ident() not in threads.values()
    assert "Ann Lee" not in json.dumps(h.sent[-1]) and "<PERSON_1>" in json.dumps(h.sent[-1])
    assert reply["choices"][0]["message"]["content"] == "Sorry about that, Ann Lee."
    assert ctx.response_headers["x-bedside-emotion"].startswith("neutral")
    assert detector.analysed.count(TEXT) == 1, "the PII stage took the analysis started early; nothing analysed twice"


async def test_a_reader_without_its_own_worker_is_not_overlapped(tmp_path: Path) -> None:
    """A reader without ``submit`` holds the GIL while it reads (as the default one does): the
    analysis starting beside it would only contend for the GIL, so it starts after the read."""
    Meet.reset(barrier=False)
    h = Harness(tmp_path, "tests.stages.test_emotion_pii_overlap:meeting", PiiEngine(MeetingDetector))
    await h.chat([{"role": "user", "content": TEXT}])
    assert Meet.order()[:3] == ["read start", "read end", "analysis start"]


async def test_without_the_overlap_the_analysis_starts_after_the_read(tmp_path: Path) -> None:
    Meet.reset(barrier=False)
    h = Harness(tmp_path, "tests.stages.test_emotion_pii_overlap:meeting_submit", PiiEngine(MeetingDetector), overlap=False)
    await h.chat([{"role": "user", "content": TEXT}])
    assert Meet.order()[:3] == ["read start", "read end", "analysis start"]


def _same(ctx: RequestContext) -> tuple[Any, ...]:
    conv = ctx.facts["emotion"]  # two loads of the shipped model differ in the 8th decimal (float32 sums): compared as shown
    reading = (conv.current.label, round(conv.current.intensity, 4), conv.trend, round(conv.frustration, 4), len(conv.turns))
    return ctx.response_headers, ctx.decisions, reading, "pii_analysis" in ctx.facts


async def test_overlapped_and_sequential_requests_are_identical(tmp_path: Path) -> None:
    """The shipped reader and Presidio: the same forwarded bodies, headers, decisions and metrics."""
    turns = [{"role": "user", "content": "My order never came. I'm Ann Lee, ann.lee@example.com."}, {"role": "assistant", "content": "Sorry!"},
             {"role": "user", "content": TEXT}]
    out = []
    for overlap in (True, False):
        h = Harness(tmp_path, "tests.stages.test_emotion_pii_overlap:shipped_submit", PiiEngine(lambda: PiiDetector(patterns_analyzer())), overlap=overlap)
        seen = [(_same(ctx), reply) for ctx, reply in [await h.chat(turns[:1]), await h.chat(turns)]]
        names = ("bedside_emotion_total", "bedside_pii_redactions_total", "bedside_tone_rules_total", "bedside_stage_failures_total")
        samples = sorted((s.name, tuple(sorted(s.labels.items())), s.value) for m in h.metrics.registry.collect() for s in m.samples if s.name in names)
        out.append((seen, h.sent, samples))
    for part in range(3):
        assert out[0][part] == out[1][part], part
    assert out[0][2], "the metrics compared are there"


async def test_a_failed_read_fails_open_and_its_analysis_still_serves_the_pii_stage(tmp_path: Path) -> None:
    Meet.reset(barrier=False)
    detector = MeetingDetector()
    h = Harness(tmp_path, "tests.stages.test_emotion_pii_overlap:broken", PiiEngine(lambda: detector))
    ctx, _ = await h.chat([{"role": "user", "content": TEXT}])
    assert "emotion" not in ctx.facts and "x-bedside-emotion" not in ctx.response_headers
    assert h.metric("bedside_stage_failures_total", stage="emotion", mode="open") == 1
    assert ctx.decisions["pii"]["redacted"].get("PERSON") == 1 and "Ann Lee" not in json.dumps(h.sent[-1])
    assert detector.analysed.count(TEXT) == 1


async def test_a_failed_analysis_fails_closed_as_without_the_overlap(tmp_path: Path) -> None:
    for overlap in (True, False):
        Meet.reset(barrier=False)
        h = Harness(tmp_path, "tests.stages.test_emotion_pii_overlap:meeting_submit", PiiEngine(lambda: MeetingDetector(fail=True)), overlap=overlap)
        with pytest.raises(ServiceUnavailable):
            await h.chat([{"role": "user", "content": TEXT}])
        assert h.metric("bedside_stage_failures_total", stage="pii", mode="closed") == 1
        assert not h.sent


class Raiser:
    """A stage between emotion and pii that fails the request, keeping what the emotion stage left."""

    name: ClassVar[str] = "raiser"
    left: ClassVar[list[EarlyWork[Any]]] = []

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        Raiser.left.append(ctx.facts["pii_analysis"])
        raise RuntimeError("the request failed here")


async def test_an_analysis_nobody_takes_is_cancelled(tmp_path: Path) -> None:
    Meet.reset(barrier=False)
    Raiser.left.clear()
    h = Harness(tmp_path, "tests.stages.test_emotion_pii_overlap:meeting_submit", PiiEngine(MeetingDetector), inner=Raiser())
    ctx = RequestContext(request_id="r1", endpoint="chat", body={"model": "bot", "messages": [{"role": "user", "content": TEXT}]}, headers={})
    with pytest.raises(RuntimeError, match="failed here"):
        await h.pipeline(ctx)
    (work,) = Raiser.left
    assert "pii_analysis" not in ctx.facts and work.taken
    assert work.take(work.key) is None, "discarded work is never handed out"
    await asyncio.sleep(0)

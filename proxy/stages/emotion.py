"""Emotion stage: how does the user feel, turn by turn, and where is it heading?

Reads: ``ctx.policy.emotion`` (enabled, classifier, window, header), the user turns of
``ctx.body["messages"]`` (raw text: this stage sits outside the PII stage), and
``ctx.facts["thread"]`` (the readings of earlier turns an upstream keeps, which the client did not
resend: the trend reads on from them).
Writes: ``ctx.facts["emotion"]`` (a ``ConversationEmotion``: per-turn readings, current emotion,
intensity, calibrated frustration score, trend, sentiment shift, distress) for the tone stage and
the rails' handoff; the ``x-bedside-emotion`` header (e.g.
``confusion; intensity=0.71; frustration=0.34; trend=rising``); decision ``emotion``; metrics
``bedside_emotion_total{policy, emotion}``, ``bedside_frustration{policy}`` (histogram),
``bedside_sentiment_shift``, ``bedside_perception_events_total{kind}`` (confusion, distress).
Short-circuits: never. Fails **open**: a classifier error is logged and counted, and the request
goes on without an emotion reading. Nothing is stored.

A turn already read is not read again (the client resends the whole history with every turn): the
stage's :class:`~proxy.detectors.emotion_memo.ConversationMemo` keeps each turn's state (reading,
VADER score, frustration facts and scores) in a bounded LRU keyed by a chained hash of the turns
up to it and the classifier, so a request reads only its new turns, and the trend is fitted on the
remembered per-turn values. Readings are also cached by text (:class:`CachingClassifier`), per
tenant and user like the memo, so no one's text is answered from someone else's reading.

The model never reads on the event loop: a turn the text cache lacks is read in a worker thread,
or, when the classifier offers ``submit()`` (the contextual reader), on the classifier's own worker,
and the stage awaits it (:meth:`EmotionStage._read`), so other requests go on meanwhile.

**Overlap with the PII analysis.** Just before such a model read, the stage starts the PII
analysis of the same request (``meanwhile``, wired to the PII stage's ``start_analysis``), which
leaves ``ctx.facts["pii_analysis"]`` (an :class:`~proxy.pipeline.early.EarlyWork`) for the PII
stage to take: the read and the analysis run on worker threads at once, and the request waits for
the longer of the two instead of their sum. The reading, header, decision, metrics and fail mode
are unchanged; the stage discards the analysis when the request ends before the PII stage took it.

Models load at start-up: :func:`build_emotion_stage` (what ``build_services`` calls) warms the
classifier of every loaded policy that enables emotion (:meth:`EmotionStage.warm`), so the first
request does not load it on the event loop. A classifier a later reload asks for loads on first use.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import anyio.to_thread
from cachetools import LRUCache

from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next
from proxy.stages.messages import user_texts

if TYPE_CHECKING:
    from proxy.detectors.emotion import EmotionClassifier, EmotionReading
    from proxy.policy.errors import PolicyIssue


__all__ = ["WARM_PROBE", "CachingClassifier", "EmotionStage", "ScopedClassifier", "build_emotion_stage", "emotion_policy_issues"]

#: Text classified once when a classifier is warmed (loads what it loads on first use, e.g. VADER).
WARM_PROBE = "Thanks, but this still doesn't work and I'm getting frustrated."


def _text_key(scope: bytes, text: str) -> bytes:
    return hashlib.sha256(scope + hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()).digest()


class CachingClassifier:
    """An ``EmotionClassifier`` that remembers readings by the text's SHA-256 (bounded LRU).

    A reading is remembered per **scope** (the stage passes tenant and user, through
    :meth:`scoped`): one user's text is never answered from another's reading, so nobody can time
    whether someone else sent a text (a hit costs microseconds, a read milliseconds). Without a
    scope (benches, tests) every text shares the empty scope."""

    def __init__(self, inner: "EmotionClassifier", size: int = 8192) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "classifier")
        self._cache: LRUCache[bytes, EmotionReading] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def scoped(self, scope: str) -> "ScopedClassifier":
        """This cache as one scope (tenant and user) sees it."""
        return ScopedClassifier(self, scope)

    def classify(self, text: str) -> "EmotionReading":
        return self.scoped("").classify(text)

    def _get(self, key: bytes) -> "EmotionReading | None":
        with self._lock:
            return self._cache.get(key)

    def _has(self, keys: "Sequence[bytes]") -> list[bool]:
        with self._lock:
            return [k in self._cache for k in keys]

    def _put(self, key: bytes, reading: "EmotionReading") -> None:
        with self._lock:
            self._cache[key] = reading


class ScopedClassifier:
    """A :class:`CachingClassifier` seen by one scope: the same interface, keys seeded with the scope."""

    __slots__ = ("_base", "_seed", "inner", "name")

    def __init__(self, base: CachingClassifier, scope: str) -> None:
        self._base = base
        self._seed = hashlib.sha256(scope.encode("utf-8", "surrogatepass")).digest()
        self.inner = base.inner
        self.name = base.name

    def classify(self, text: str) -> "EmotionReading":
        key = _text_key(self._seed, text)
        hit = self._base._get(key)
        if hit is not None:
            return hit
        reading = self.inner.classify(text)
        self._base._put(key, reading)
        return reading

    def missing(self, texts: "Sequence[str]") -> list[str]:
        """The distinct texts (first-seen order) whose reading this scope has not cached."""
        distinct = list(dict.fromkeys(texts))
        held = self._base._has([_text_key(self._seed, t) for t in distinct])
        return [t for t, h in zip(distinct, held, strict=True) if not h]

    def remember(self, text: str, reading: "EmotionReading") -> None:
        """Cache a reading made elsewhere (e.g. on the classifier's own worker via ``submit``)."""
        self._base._put(_text_key(self._seed, text), reading)


class EmotionStage:
    name: ClassVar[str] = "emotion"

    def __init__(self, metrics: Metrics, *, meanwhile: Callable[[RequestContext], None] | None = None) -> None:
        self._metrics = metrics
        #: started just before a model read, so it runs at the same time (the PII stage's
        #: ``start_analysis``; None: nothing overlaps, the later stages start their own work)
        self._meanwhile = meanwhile
        self._classifiers: dict[str, CachingClassifier] = {}
        self._lock = threading.Lock()
        self._limiter = anyio.CapacityLimiter(4)
        self._memo_instance: Any = None  # made on first use: its module imports numpy, which a process without emotion never needs

    @property
    def _memo(self) -> Any:
        """The stage's :class:`~proxy.detectors.emotion_memo.ConversationMemo` (made on first use)."""
        if self._memo_instance is None:
            with self._lock:
                if self._memo_instance is None:
                    from proxy.detectors.emotion_memo import ConversationMemo

                    self._memo_instance = ConversationMemo()
        return self._memo_instance

    def warm(self, spec: str) -> CachingClassifier:
        """Load the classifier named ``spec`` now (blocking; thread-safe; once per spec) and read
        one probe text with it, so lazily loaded parts load too (the reading is not cached)."""
        found = self.classifier(spec)
        found.inner.classify(WARM_PROBE)
        from proxy.detectors.emotion_memo import default_frustration_model

        default_frustration_model()
        return found

    def warm_policies(self, policies: Any) -> list[str]:
        """:meth:`warm` the classifier of each loaded policy that enables emotion; returns the specs
        warmed. ``policies`` is a policy store (``policies.current.policies``) or None."""
        specs: list[str] = []
        if policies is not None:
            for policy in policies.current.policies.values():
                section = getattr(policy, "emotion", None)
                if section is not None and section.enabled and section.classifier not in specs:
                    specs.append(section.classifier)
        for spec in specs:
            self.warm(spec)
        return specs

    def classifier(self, spec: str) -> CachingClassifier:
        """The (cached) classifier named by a policy; loaded once per spec."""
        found = self._classifiers.get(spec)
        if found is None:
            with self._lock:
                found = self._classifiers.get(spec)
                if found is None:
                    from proxy.detectors.emotion import load_classifier  # the model loads on first use

                    found = CachingClassifier(load_classifier(spec))
                    self._classifiers[spec] = found
        return found

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        section = getattr(ctx.policy, "emotion", None)
        if section is None or not section.enabled or ctx.endpoint != "chat":
            return await call_next(ctx)
        turns = [t for t in user_texts(ctx.body.get("messages")) if t.strip()]
        try:
            if turns:
                try:
                    history = ctx.facts.get("thread")
                    prior = history.emotion if history is not None else None
                    conv = await self._read(self.classifier(section.classifier), turns, section.window, prior,
                                            scope=f"{ctx.tenant}\0{ctx.user_id or ''}", ctx=ctx)
                except Exception as exc:  # noqa: BLE001 - emotion fails open by design
                    get_logger().warning("stage_failed_open", stage=self.name, request_id=ctx.request_id, exc_info=exc)
                    self._metrics.stage_failures.labels(self.name, "open").inc()
                else:
                    self._record(ctx, conv, header=section.header)
            return await call_next(ctx)
        finally:
            early = ctx.facts.pop("pii_analysis", None)  # started here; the PII stage takes it
            if early is not None:
                early.discard()  # not taken (the request failed before the PII stage): cancelled

    def _start_meanwhile(self, ctx: RequestContext | None) -> None:
        """Start the overlapping work (never raises: it is the later stage's, not the reading's)."""
        if self._meanwhile is None or ctx is None:
            return
        try:
            self._meanwhile(ctx)
        except Exception as exc:  # noqa: BLE001 - the later stage then does its work itself
            get_logger().warning("overlap_not_started", stage=self.name, request_id=ctx.request_id, error_type=type(exc).__name__)

    async def _read(self, clf: CachingClassifier, turns: list[str], window: int, prior: Any, *, scope: str = "",
                    ctx: RequestContext | None = None) -> Any:
        """The conversation's reading, with every model read **off the event loop**; when a reader
        with ``submit`` (its model runs without the GIL) has turns to read, the overlapping work
        (``meanwhile``: the PII analysis of the same request) is started first, so both run on
        worker threads at once.

        Turns the text cache already holds cost microseconds and are read in place. Otherwise, a
        classifier offering ``submit(text) -> concurrent.futures.Future`` (the contextual reader:
        ~5.7 ms of CPU a turn) reads the new turns on its own worker thread while the loop serves
        other requests, the readings are cached and the conversation is then summarised in place
        (cache hits); any other classifier reads the whole conversation in a worker thread
        (``anyio.to_thread``, at most 4 at once).
        """
        from proxy.detectors.emotion_conversation import read_conversation

        view = clf.scoped(scope)  # one user's readings are never another's cache hits
        missing = view.missing(turns)
        submit = getattr(view.inner, "submit", None)
        if missing and callable(submit):
            # only a reader with its own worker overlaps: its model runs without the GIL. A reader
            # that holds the GIL (the default one) would only contend with the analysis for it
            # (measured a few percent slower at once than in turn: docs/emotion-model.md)
            self._start_meanwhile(ctx)
            readings = await asyncio.gather(*(asyncio.wrap_future(submit(t)) for t in missing))
            for text, reading in zip(missing, readings, strict=True):
                view.remember(text, reading)
        elif missing:
            return await anyio.to_thread.run_sync(
                lambda: read_conversation(view, turns, window=window, prior=prior, memo=self._memo, scope=scope),
                limiter=self._limiter)
        return read_conversation(view, turns, window=window, prior=prior, memo=self._memo, scope=scope)

    def _record(self, ctx: RequestContext, conv: Any, *, header: bool) -> None:
        ctx.facts["emotion"] = conv
        current = conv.current
        policy = ctx.require_policy().name
        m = self._metrics  # label children cached (Metrics.child): no label validation per request
        m.child(m.emotion, policy, current.label).inc()
        m.sentiment_shift.observe(conv.sentiment_shift)
        m.child(m.frustration, policy).observe(conv.frustration)
        if current.label == "confusion":
            m.child(m.perception_events, "confusion").inc()
        if conv.distress:
            m.child(m.perception_events, "distress").inc()
        if header:
            from proxy.detectors.emotion_conversation import header_value

            ctx.response_headers["x-bedside-emotion"] = header_value(conv)
        ctx.decide(
            self.name,
            emotion=current.label,
            intensity=round(current.intensity, 2),
            frustration=round(conv.frustration, 2),
            trend=conv.trend,
            distress=conv.distress,
            sentiment_shift=round(conv.sentiment_shift, 2),
            turns=len(conv.turns),
        )


def build_emotion_stage(metrics: Metrics, policies: Any, *, meanwhile: Callable[[RequestContext], None] | None = None) -> EmotionStage:
    """The stage as ``build_services`` wires it: the classifiers of the loaded policies that enable
    emotion are loaded now, at start-up, like the PII engine (``build_pii_stage``); ``meanwhile``
    (the PII stage's ``start_analysis``) is started before each model read."""
    stage = EmotionStage(metrics, meanwhile=meanwhile)
    stage.warm_policies(policies)
    return stage


def emotion_policy_issues(policy_set: Any) -> list["PolicyIssue"]:
    """Policies that enable emotion with a reader this installation cannot load: today
    ``classifier: contextual`` without the ``contextual`` extra or the encoder wheel. The policy
    store runs this on every load and reload (``PolicyStore(check=...)``), so such a set is
    rejected with the install command, instead of failing open at the first request. Cheap: it
    looks the packages up without importing them."""
    from proxy.policy.errors import PolicyIssue

    issues: list[PolicyIssue] = []
    why: str | None = None
    looked = False
    for name, policy in sorted(policy_set.policies.items()):
        section = getattr(policy, "emotion", None)
        if section is None or not section.enabled or section.classifier.strip() != "contextual":
            continue
        if not looked:
            from proxy.detectors.emotion_contextual_base import contextual_missing

            why, looked = contextual_missing(), True
        if why is not None:
            issues.append(PolicyIssue(
                policy.source_file, None, None, "emotion.classifier",
                f"policy '{name}' selects the contextual emotion reader, which cannot load here: {why}",
                "install it as said, or set emotion.classifier: builtin"))
    return issues

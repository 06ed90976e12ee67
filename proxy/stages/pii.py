"""PII stage: redact personal data before the model sees it, restore it in the reply.

Reads: ``ctx.policy.pii`` (and ``ctx.policy.mode``, ``.name``), ``ctx.body``, ``ctx.tenant``,
``ctx.conversation_id`` (else ``ctx.request_id``: the vault key), ``ctx.endpoint``.
Writes: ``ctx.body`` in place (every text it carries, see :func:`collect_texts`), decision ``pii``
(counts per entity only: ``redacted``, ``output_masked`` / ``output_detected``; never values),
metrics ``bedside_pii_redactions_total{policy, entity}`` and
``bedside_pii_output_total{policy, entity, action}``.
Short-circuits: never answers by itself. Fails **closed**: a request that cannot be analysed
(analyzer error, timeout, overload) raises ``ServiceUnavailable`` (503, a kind message with no
content) and counts ``bedside_stage_failures_total{stage="pii", mode="closed"}``; nothing is
forwarded.
Output (chat): the reply goes through the hold-back window (``proxy.stages.pii_output``):
placeholders are restored (``restore``), in tool-call arguments too, and structured PII the model
wrote itself is masked (``output.detect`` / ``output.action``). Streaming and JSON replies come out
identical. A reply that ended normally is remembered per conversation (shown text -> the model's
text); when the client resends it as history it goes upstream as the model wrote it, unanalysed
(see ``PiiStage._resend_own_replies``).

Disabled (``pii.enabled: false``): the stage calls the next one and returns, nothing else.
Shadow mode: the request is analysed and counted but neither it nor the reply is changed.

Analysis runs in worker threads (``anyio.to_thread.run_sync``) bounded by one shared capacity
limiter, inside ``anyio.fail_after(pii.timeout_seconds)``. Results are cached by content hash in
the detector, so a conversation's resent history costs nothing; each message is cached on its own
so that the cache hits, and the new texts of a request are analysed in one spaCy call. The detector is built once per process and model (:class:`PiiEngine`), eagerly
when a loaded policy enables PII, else on first use.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import anyio.to_thread
from prometheus_client import Counter

from proxy.errors import ServiceUnavailable
from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta, TextDelta
from proxy.pipeline.holdback import windowed
from proxy.pipeline.stage import Next
from proxy.privacy.pseudonyms import InMemoryVaultStore, PseudonymVault, Redaction, VaultStore, redact
from proxy.stages.pii_output import OUTPUT_ENTITIES, OutputScanner, ReplyProcessor

if TYPE_CHECKING:  # importing presidio is slow: it happens when the engine is first built
    from proxy.detectors.pii import PiiDetectConfig, PiiDetector, PiiSpan

__all__ = ["UNAVAILABLE_MESSAGE", "PiiEngine", "PiiStage", "build_pii_stage", "collect_texts"]

#: What the user reads when their message could not be checked (no content, no detail).
UNAVAILABLE_MESSAGE = "Bedside could not check this message for personal data, so it was not sent. Please try again in a moment."
_BEDSIDE_MARK = "[bedside:"  # Bedside's own system messages (persona, tone rules) carry no user data
_TEXT_PARTS = ("text", "input_text", "output_text")
_MEMO_PER_CONVERSATION = 2048
#: Single function words the name heuristics sometimes take for a PERSON ("Where is my order?",
#: "call me on +1 ..."); never names, so never redacted.
_NOT_A_NAME = frozenset(
    """where what when why who whom whose which how there here on at in by to from for with back
    later now soon again anytime asap""".split()
)


class Overloaded(RuntimeError):
    """More requests wait for PII analysis than the queue allows."""


@lru_cache(maxsize=4)
def shared_detector_handle(model: str | None) -> Any:
    """One Presidio analyzer per process and model (thread-safe and stateless per call), so that
    several apps in one process (tests, benchmarks) load spaCy once."""
    from proxy.detectors.pii_engine import build_analyzer

    return build_analyzer(model)


class PiiEngine:
    """The detector, built once (eagerly with :meth:`warm` or on first use), and the bound on
    concurrent analyses: ``workers`` threads, at most ``max_queue`` requests waiting for one.

    ``build`` returns a ``PiiDetector``; tests pass their own.
    """

    def __init__(self, build: Callable[[], PiiDetector], *, workers: int = 2, max_queue: int = 64) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._detector: PiiDetector | None = None
        self.workers = workers
        self.max_queue = max_queue
        self.limiter = anyio.CapacityLimiter(workers)
        self._inflight = 0  # requests waiting or running, abandoned (timed-out) threads included
        self._count_lock = threading.Lock()

    @classmethod
    def from_model(cls, model: str | None, *, workers: int = 2, max_queue: int = 64, cache_size: int = 4096) -> PiiEngine:
        """Presidio with ``model`` (patterns only when it is not installed; never downloads)."""

        def build() -> PiiDetector:
            from proxy.detectors.pii import PiiDetector

            handle = shared_detector_handle(model)
            if handle.degraded:
                get_logger().warning("pii_engine_degraded", detail=f"PII ENGINE DEGRADED: {handle.detail}")
            return PiiDetector(handle, cache_size=cache_size)

        return cls(build, workers=workers, max_queue=max_queue)

    @property
    def built(self) -> PiiDetector | None:
        return self._detector

    def warm(self) -> PiiDetector:
        """Build the detector now if it is not built yet (blocking; thread-safe)."""
        with self._lock:
            if self._detector is None:
                self._detector = self._build()
            return self._detector

    def readiness(self) -> dict[str, Any]:
        """``/readyz`` check: built or not, degraded or not, and why."""
        detector = self._detector
        if detector is None:
            return {"ok": True, "loaded": False, "detail": "loads when a policy enables PII"}
        handle = detector.handle
        return {"ok": True, "loaded": True, "model": handle.model, "degraded": bool(handle.degraded), "detail": handle.detail}

    async def analyze(self, texts: list[str], config: PiiDetectConfig, timeout: float) -> dict[str, tuple[PiiSpan, ...]]:
        """Spans for each text, analysed off the event loop; raises on error, timeout or overload."""
        detector = self._detector
        if detector is None:  # first use after a reload turned PII on: loading is not analysis time
            detector = await anyio.to_thread.run_sync(self.warm)
        with self._count_lock:
            if self._inflight >= self.workers + self.max_queue:
                raise Overloaded("pii analysis queue full")
            self._inflight += 1

        released = False
        started = False

        def release() -> None:  # exactly once: when the work ends, or when it never started
            nonlocal released
            with self._count_lock:
                if not released:
                    released = True
                    self._inflight -= 1

        def work() -> dict[str, tuple[PiiSpan, ...]]:
            nonlocal started
            started = True
            try:
                many = getattr(detector, "analyze_many", None)  # test doubles may offer analyze only
                if many is None or len(texts) < 2:
                    return {t: detector.analyze(t, config) for t in texts}
                return dict(zip(texts, many(texts, config), strict=True))
            finally:
                release()

        try:
            with anyio.fail_after(timeout):
                # on timeout the thread is abandoned; it stays counted in _inflight until it ends
                return await anyio.to_thread.run_sync(work, limiter=self.limiter, abandon_on_cancel=True)
        except BaseException:
            if not started:
                release()
            raise


# ---- where the texts are ----------------------------------------------------------------------


@dataclass(slots=True)
class Site:
    """One string in the request: ``holder[key]``."""

    holder: Any
    key: Any
    text: str


@dataclass(slots=True)
class JsonDoc:
    """A JSON string (tool-call arguments, a tool result) whose string values are redacted one by one,
    so that it stays valid JSON: ``holder[key] = json.dumps(doc)`` when any of them changed."""

    holder: Any
    key: Any
    doc: Any
    sites: list[Site]


def _json_leaves(node: Any) -> Iterator[Site]:
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, str):
                yield Site(node, k, v)
            else:
                yield from _json_leaves(v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, str):
                yield Site(node, i, v)
            else:
                yield from _json_leaves(v)


def _json_or_text(holder: Any, key: Any, sites: list[Site], docs: list[JsonDoc]) -> None:
    value = holder[key]
    if not isinstance(value, str) or not value.strip():
        return
    if value.lstrip()[:1] in ("{", "["):
        try:
            doc = json.loads(value)
        except ValueError:
            doc = None
        if isinstance(doc, (dict, list)):
            docs.append(JsonDoc(holder, key, doc, list(_json_leaves(doc))))
            return
    sites.append(Site(holder, key, value))


def collect_texts(body: dict[str, Any], endpoint: str) -> tuple[list[Site], list[JsonDoc]]:
    """Every text the request carries.

    Chat: the content of system, developer, user, assistant and tool messages of the whole history
    (plain strings and ``text`` content parts); tool results and tool-call arguments (and legacy
    ``function_call`` arguments) as JSON when they parse, else as text. Bedside's own system
    messages (``[bedside:...``) are skipped. Embeddings: ``input`` strings (token arrays carry no
    text). Message ``name`` fields are not touched (the API restricts them to ``[A-Za-z0-9_-]``).
    """
    sites: list[Site] = []
    docs: list[JsonDoc] = []
    if endpoint == "embeddings":
        value = body.get("input")
        if isinstance(value, str):
            sites.append(Site(body, "input", value))
        elif isinstance(value, list):
            sites.extend(Site(value, i, v) for i, v in enumerate(value) if isinstance(v, str))
        return sites, docs
    for message in body.get("messages") or ():
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            if content.startswith(_BEDSIDE_MARK):
                pass
            elif message.get("role") == "tool":
                _json_or_text(message, "content", sites, docs)
            elif content.strip():
                sites.append(Site(message, "content", content))
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") in _TEXT_PARTS and isinstance(part.get("text"), str):
                    if message.get("role") == "tool":
                        _json_or_text(part, "text", sites, docs)
                    else:
                        sites.append(Site(part, "text", part["text"]))
        for call in message.get("tool_calls") or ():
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                _json_or_text(fn, "arguments", sites, docs)
        legacy = message.get("function_call")
        if isinstance(legacy, dict) and isinstance(legacy.get("arguments"), str):
            _json_or_text(legacy, "arguments", sites, docs)
    return sites, docs


# ---- the stage --------------------------------------------------------------------------------


def _output_counter(metrics: Metrics) -> Counter:
    """``bedside_pii_output_total``, registered once per app registry (kept on the metrics object)."""
    existing = getattr(metrics, "pii_output", None)
    if isinstance(existing, Counter):
        return existing
    counter = Counter("bedside_pii_output", "PII the model wrote itself, by policy, entity type and action (mask, allow, shadow).", ["policy", "entity", "action"], registry=metrics.registry)
    metrics.pii_output = counter  # type: ignore[attr-defined]  # one registry per app: attach it to the app's Metrics
    return counter


class PiiStage:
    name: ClassVar[str] = "pii"

    def __init__(self, engine: PiiEngine, vaults: VaultStore, metrics: Metrics, *, hash_key: bytes) -> None:
        self._engine = engine
        self._vaults = vaults
        self._metrics = metrics
        self._hash_key = hash_key
        self._output = _output_counter(metrics)
        #: per conversation vault: (text, spans, actions) -> Redaction; touched on the event loop only
        self._memo: weakref.WeakKeyDictionary[PseudonymVault, OrderedDict[Any, Redaction]] = weakref.WeakKeyDictionary()

    def readiness(self) -> dict[str, Any]:
        """The engine's ``/readyz`` check."""
        return self._engine.readiness()

    def _conversation_memo(self, vault: PseudonymVault) -> OrderedDict[Any, Any]:
        """Results remembered for one conversation (as long as its vault lives, weakly keyed; bounded):
        a resent history message is neither analysed nor redacted again, and a turn whose texts are
        all known does not even hop to a worker thread. Values never leave process memory, like the
        vault's own."""
        memo = self._memo.get(vault)
        if memo is None:
            memo = self._memo[vault] = OrderedDict()
        return memo

    @staticmethod
    def _remember(memo: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        memo[key] = value
        if len(memo) > _MEMO_PER_CONVERSATION:
            memo.popitem(last=False)

    async def _analyze(self, vault: PseudonymVault, texts: list[str], config: PiiDetectConfig, timeout: float) -> dict[str, tuple[PiiSpan, ...]]:
        """Spans per text: known ones from the conversation's memo, new ones from the engine."""
        memo = self._conversation_memo(vault)
        found: dict[str, tuple[PiiSpan, ...]] = {}
        new: list[str] = []
        for text in dict.fromkeys(texts):
            known = memo.get(("spans", config, text))
            if known is None:
                new.append(text)
            else:
                memo.move_to_end(("spans", config, text))
                found[text] = known
        if new:
            analysed = await self._engine.analyze(new, config, timeout)
            for text in new:
                found[text] = _plausible(text, analysed[text])
                self._remember(memo, ("spans", config, text), found[text])
        return found

    def _redact(self, vault: PseudonymVault, text: str, spans: tuple[PiiSpan, ...], wanted: dict[str, Any]) -> Redaction:
        """``redact``, remembered per conversation: a value's placeholder never changes once issued,
        so a resent history message gives the same result every turn."""
        memo = self._conversation_memo(vault)
        key = ("redact", text, spans, tuple(sorted(wanted.items())))
        done = memo.get(key)
        if done is not None:
            memo.move_to_end(key)
            return done
        done = redact(text, spans, wanted, vault, hash_key=self._hash_key)
        self._remember(memo, key, done)
        return done

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        policy = ctx.policy
        pii = getattr(policy, "pii", None)
        if pii is None or not pii.enabled:
            return await call_next(ctx)
        shadow = policy.mode == "shadow"
        vault = self._vaults.get_or_create((ctx.tenant, ctx.conversation_id or ctx.request_id))
        actions: dict[str, Any] = dict(pii.actions)
        counts: dict[str, int] = {}
        config = _config(pii)
        try:
            sites, docs = collect_texts(ctx.body, ctx.endpoint)
            every = sites + [s for d in docs for s in d.sites]
            if not shadow:
                every = self._resend_own_replies(vault, config, every)
            found = await self._analyze(vault, [s.text for s in every], config, pii.timeout_seconds)
            for site in every:
                spans = found.get(site.text, ())
                if not spans:
                    continue
                wanted = {s.entity: actions.get(s.entity, pii.default_action) for s in spans}
                if shadow:
                    for s in spans:
                        if wanted[s.entity] != "allow":
                            counts[s.entity] = counts.get(s.entity, 0) + 1
                    continue
                done = self._redact(vault, site.text, spans, wanted)
                for entity, n in done.counts.items():
                    counts[entity] = counts.get(entity, 0) + n
                site.holder[site.key] = done.text
            if not shadow:
                for doc in docs:
                    if any(s.holder[s.key] != s.text for s in doc.sites):
                        doc.holder[doc.key] = json.dumps(doc.doc, ensure_ascii=False)
        except Exception as exc:  # noqa: BLE001 - fail closed on anything: nothing unchecked is forwarded
            self._metrics.stage_failures.labels(self.name, "closed").inc()
            kind = "timeout" if isinstance(exc, TimeoutError) else "overloaded" if isinstance(exc, Overloaded) else "error"
            ctx.decide(self.name, failed=kind)
            get_logger().warning("pii_check_failed", stage=self.name, reason=kind, error_type=type(exc).__name__)
            raise ServiceUnavailable(UNAVAILABLE_MESSAGE, code="pii_check_unavailable", kind=f"pii_{kind}") from None
        for entity, n in counts.items():
            self._metrics.pii_redactions.labels(policy.name, entity).inc(n)
        ctx.decide(self.name, redacted=counts, texts=len(sites) + len(docs), shadow=shadow)

        completion = await call_next(ctx)
        if ctx.endpoint != "chat":
            return completion
        restore_from = vault if pii.restore and not shadow and len(vault) else None
        scanner = _scanner(pii) if pii.output.detect else None
        if restore_from is None and scanner is None:
            return completion
        mask = pii.output.action == "mask" and not shadow
        action = "shadow" if shadow else pii.output.action
        seen: dict[str, int] = {}

        def on_detect(entity: str) -> None:
            seen[entity] = seen.get(entity, 0) + 1
            self._output.labels(policy.name, entity, action).inc()
            ctx.decide(self.name, **{"output_masked" if mask else "output_detected": dict(seen)})

        text = ReplyProcessor(vault=restore_from, scanner=scanner, mask=mask, on_detect=on_detect)
        args = ReplyProcessor(vault=restore_from, scanner=scanner, mask=mask, json_escape=True, on_detect=on_detect)
        n = int(ctx.body.get("n") or 1)
        if shadow:
            return completion.map_deltas(lambda d: windowed(d, text, args, choices=n))
        said: dict[int, list[str]] = {}
        memo = self._conversation_memo(vault)

        def remember(shown: dict[int, list[str]]) -> None:
            for choice, parts in shown.items():
                self._remember(memo, ("reply", config, "".join(parts)), "".join(said.get(choice, ())))

        return completion.map_deltas(lambda d: _texts_seen(windowed(_texts_seen(d, said), text, args, choices=n), {}, remember))

    def _resend_own_replies(self, vault: PseudonymVault, config: PiiDetectConfig, sites: list[Site]) -> list[Site]:
        """Put back, for each text that is exactly a reply this stage delivered in the conversation
        (the client resends it as an assistant message), the text the model wrote: its placeholders
        unrestored. It needs no analysis: every character of it came from the model, except the
        values restored into it, which go back as the same placeholders. Returns the other sites."""
        memo = self._conversation_memo(vault)
        rest = []
        for site in sites:
            said = memo.get(("reply", config, site.text))
            if said is None:
                rest.append(site)
            else:
                memo.move_to_end(("reply", config, site.text))
                site.holder[site.key] = said
        return rest


async def _texts_seen(deltas: AsyncIterator[Delta], into: dict[int, list[str]], done: Callable[[dict[int, list[str]]], None] | None = None) -> AsyncIterator[Delta]:
    """Pass ``deltas`` on, collecting each choice's text in ``into``; call ``done(into)`` only when
    the reply ended normally (not when it failed or the client left)."""
    async for delta in deltas:
        if isinstance(delta, TextDelta):
            into.setdefault(delta.choice, []).append(delta.text)
        yield delta
    if done is not None:
        done(into)


def _plausible(text: str, spans: tuple[PiiSpan, ...]) -> tuple[PiiSpan, ...]:
    """Drop PERSON spans that are a question word (see ``_NOT_A_NAME``)."""
    if not any(s.entity == "PERSON" for s in spans):
        return spans
    return tuple(s for s in spans if not (s.entity == "PERSON" and text[s.start : s.end].strip().casefold() in _NOT_A_NAME))


@lru_cache(maxsize=256)
def _config_cached(entities: tuple[str, ...], threshold: float, allow: tuple[str, ...], custom: tuple[Any, ...]) -> PiiDetectConfig:
    from proxy.detectors.pii import CustomRecognizerSpec, PiiDetectConfig

    specs = tuple(CustomRecognizerSpec(e, tuple(p), tuple(d), tuple(c), s) for e, p, d, c, s in custom)
    return PiiDetectConfig(entities=entities, threshold=threshold, allow_list=allow, custom=specs)


def _config(pii: Any) -> PiiDetectConfig:
    custom = tuple((c.entity, tuple(c.patterns), tuple(c.deny_list), tuple(c.context), c.score) for c in pii.custom)
    return _config_cached(tuple(pii.entities), float(pii.threshold), tuple(pii.allow_list), custom)


def _scanner(pii: Any) -> OutputScanner:
    actions = dict(pii.actions)
    entities = [e for e in OUTPUT_ENTITIES if e in pii.entities and actions.get(e, pii.default_action) != "allow"]
    return OutputScanner(entities, allow=pii.allow_list)


def build_pii_stage(settings: Any, metrics: Metrics, policies: Any) -> PiiStage:
    """The stage as ``build_services`` wires it: the engine is warmed now when a loaded policy
    enables PII (so the first request does not pay the spaCy load), else on first use (a reload
    may turn PII on later). Vaults live in memory; the hash key sits in ``data_dir``."""
    from proxy.secrets_store import load_or_create_key

    cfg = settings.pii
    engine = PiiEngine.from_model(cfg.model, workers=cfg.workers, max_queue=cfg.max_queue, cache_size=cfg.cache_size)
    if policies is not None and any(p.pii.enabled for p in policies.current.policies.values()):
        engine.warm()
    vaults = InMemoryVaultStore(cfg.vault_ttl_seconds, cfg.vault_max_conversations)
    return PiiStage(engine, vaults, metrics, hash_key=load_or_create_key(Path(settings.data_dir), "pii-hash.key"))

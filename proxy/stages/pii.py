"""PII stage: redact personal data before the model sees it, restore it in the reply.

Reads: ``ctx.policy.pii`` (and ``.name``), ``ctx.body`` (all of it: one walk over every field, see
:mod:`proxy.privacy.request_walk`), ``ctx.tenant``, ``ctx.user_id``, ``ctx.endpoint``,
``ctx.facts["thread"]`` (the vault of a conversation the upstream keeps), ``ctx.facts["pii_analysis"]``
(this request's analysis, when the emotion stage started it with :meth:`PiiStage.start_analysis`).
Writes: ``ctx.body`` in place; decision ``pii`` (counts per entity only: ``redacted``,
``output_masked`` / ``output_detected``, ``dropped``; never values); the ``x-bedside-pii`` header
(values replaced in the request per entity, ``PERSON=1, EMAIL_ADDRESS=1``, or ``none``; PII the
model writes itself is masked later and only counted in the decision and metrics); metrics
``bedside_pii_redactions_total{policy, entity}`` and ``bedside_pii_output_total{policy, entity, action}``.
Short-circuits: never answers by itself. Refuses (400, naming the field, nothing forwarded) what it
must not forward: content it cannot analyse (images as ``data:`` URLs, audio, file data, token
arrays) unless ``pii.unanalysable`` says ``drop`` or ``forward``; a function or schema name holding
personal data; more new text than ``pii.max_new_chars`` (413, checked before any analysis: resent
history, analysed before, does not count) or more distinct
values than ``pii.max_values``. Fails **closed**: a request that cannot be analysed (analyzer
error, timeout, overload) raises ``ServiceUnavailable`` (503, a kind message with no content) and
counts ``bedside_stage_failures_total{stage="pii", mode="closed"}``.

**One vault per request.** Placeholders are numbered in order of first appearance across the
request's messages (then the other fields); a chat client resends the whole history, so numbering
is stable turn after turn with nothing stored, and the reply is restored only from this request's
vault: it can give back only values this very request carried. No user can read another's values
by naming a placeholder, a conversation id or the same first message. The one exception is a
conversation the upstream keeps (``ctx.facts["thread"]``, set by the thread stage from Bedside's
encrypted store, for the same tenant and user only): the request's vault starts from that
conversation's vault, so the history the upstream holds keeps its placeholders.

Output (chat): the reply goes through the hold-back window (``proxy.stages.pii_output``):
placeholders are restored (``restore``), in tool-call arguments too, and structured PII the model
wrote itself is masked (``output.detect`` / ``output.action``). Streaming and JSON replies come out
identical. A reply that ended normally is remembered (keyed by tenant, user and a hash of the text
the user saw) as the model wrote it, with the placeholders it used; when the client resends it as
history, it goes upstream as the model wrote it, unanalysed, provided those placeholders stand for
the same values in the new request (:class:`~proxy.stages.pii_memo.ReplyMemo`); otherwise it is analysed like any text.

Disabled (``pii.enabled: false``): the stage calls the next one and returns, nothing else.
Shadow (``pii.mode: shadow``, explicit; a policy's own ``mode: shadow`` does not relax it): the
request is analysed and counted but neither it nor the reply is changed.

Analysis runs in worker threads (:class:`~proxy.stages.pii_pool.PiiEngine`); results are remembered
in the detector by tenant, user and content hash (bounded LRU, spans only, never text or values),
so resent history costs nothing and needs no thread hop, and no one's text is answered from
another tenant's or user's analysis (nor can anyone time whether someone else sent a text).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import regex as re

from proxy.detectors.pii_split import numbers_split_across
from proxy.errors import BedsideError, InvalidRequest, PayloadTooLarge, ServiceUnavailable
from proxy.logs import get_logger
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.deltas import Delta, TextDelta
from proxy.pipeline.early import EarlyWork
from proxy.pipeline.holdback import windowed
from proxy.pipeline.stage import Next
from proxy.pipeline.summary import PII_HEADER, summary_value
from proxy.privacy.pseudonyms import PseudonymVault
from proxy.privacy.request_redaction import RequestRedaction, Span, plan_redaction, slot_spans
from proxy.privacy.request_walk import walk_request
from proxy.privacy.slots import Slot
from proxy.stages.pii_fields import field_spans, structured_only
from proxy.stages.pii_memo import Remembered, ReplyMemo
from proxy.stages.pii_output import OUTPUT_ENTITIES, OutputScanner, ReplyProcessor
from proxy.stages.pii_pool import Overloaded, PiiEngine, TooMuchToAnalyse

if TYPE_CHECKING:
    from proxy.detectors.pii import PiiDetectConfig, PiiSpan

__all__ = ["UNAVAILABLE_MESSAGE", "PiiEngine", "PiiStage", "ReplyMemo", "build_pii_stage"]

#: What the user reads when their message could not be checked (no content, no detail).
UNAVAILABLE_MESSAGE = "Bedside could not check this message for personal data, so it was not sent. Please try again in a moment."
#: Single function words the name heuristics sometimes take for a PERSON ("Where is my order?",
#: "call me on +1 ..."); never names, so never redacted.
_NOT_A_NAME = frozenset(
    """where what when why who whom whose which how there here on at in by to from for with back
    later now soon again anytime asap""".split()
)
_LONG_DIGITS = re.compile(r"\d{7,}")
#: where a JSON Schema the client sends sits (a tool's parameters, a json_schema response format)
_SCHEMA_ROOT = re.compile(r"^(?:tools\[\d+\]\.function\.parameters|functions\[\d+\]\.parameters|response_format\.json_schema\.schema)\.")
#: a property (or definition) name inside such a schema, or an entry of its ``required`` list
_SCHEMA_NAME = re.compile(r"(?:\.(?:properties|\$defs|definitions|patternProperties)\.[^.]+ \(field name\)|\.required\[\d+\])$")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$")


def _schema_name(slot: Slot) -> bool:
    """Whether ``slot`` is an identifier-shaped property name of a schema the client sent (or an entry
    of its ``required`` list). Like a function name it must reach the model as written, so only
    structured personal data counts there: NER takes ``order_id`` for a person, and renaming it
    would break the schema (``{"<PERSON_1>": ...}`` required but never described)."""
    # the path first: it is short, and no message text is under a schema root
    return _SCHEMA_ROOT.match(slot.path) is not None and _SCHEMA_NAME.search(slot.path) is not None and _IDENTIFIER.match(slot.text) is not None


class PiiStage:
    name: ClassVar[str] = "pii"

    def __init__(self, engine: PiiEngine, metrics: Metrics, *, hash_key: bytes, replies: ReplyMemo | None = None) -> None:
        self._engine = engine
        self._metrics = metrics
        self._hash_key = hash_key
        self._output = metrics.pii_output
        self._replies = replies if replies is not None else ReplyMemo()

    def readiness(self) -> dict[str, Any]:
        """The engine's ``/readyz`` check."""
        return self._engine.readiness()

    def warm_policies(self, policies: Any) -> list[str]:
        """Build the detector now (blocking) when a policy of ``policies`` (a store: ``.current``) enables
        PII; returns those policies. Called at start-up and, in the reloading thread, before a
        reloaded set that turns PII on is swapped in."""
        names = [p.name for p in policies.current.policies.values() if p.pii.enabled]
        if names:
            self._engine.warm()
        return names

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        policy = ctx.policy
        if policy is None or not policy.pii.enabled:
            return await call_next(ctx)
        pii = policy.pii
        shadow = pii.mode == "shadow"
        config = _config(pii)
        slots = walk_request(ctx.body, ctx.endpoint)
        drops = _unanalysable(slots, pii, shadow)
        slots = [s for s in slots if s.kind != "binary"]
        scope = (ctx.tenant, ctx.user_id or "", config)
        early = ctx.facts.pop("pii_analysis", None)  # started by the emotion stage (start_analysis)
        try:
            history = ctx.facts.get("thread")
            done, reused = await self._plan(slots, scope, config, pii, shadow, history.vault if history is not None else None, early)
        except BedsideError:
            raise
        except TooMuchToAnalyse as exc:
            raise PayloadTooLarge(
                f"This request brings more new text than this policy checks for personal data at once ({exc.limit:,} characters). "
                "Send it in smaller parts, or ask your operator to raise pii.max_new_chars.",
                code="too_much_text_to_check",
            ) from None
        except Exception as exc:  # noqa: BLE001 - fail closed on anything: nothing unchecked is forwarded
            self._metrics.stage_failures.labels(self.name, "closed").inc()
            kind = "timeout" if isinstance(exc, TimeoutError) else "overloaded" if isinstance(exc, Overloaded) else "error"
            ctx.decide(self.name, failed=kind)
            get_logger().warning("pii_check_failed", stage=self.name, reason=kind, error_type=type(exc).__name__)
            raise ServiceUnavailable(UNAVAILABLE_MESSAGE, code="pii_check_unavailable", kind=f"pii_{kind}") from None
        if not shadow:
            ctx.facts["pii_vault"] = done.vault  # the memory stage redacts what it injects with it
            for i, (said, _) in reused.items():
                slots[i].holder[slots[i].key] = said
            done.apply()
            _drop(drops)  # last: dropping a content part shifts the positions the slots address
        for entity, n in done.counts.items():
            self._metrics.child(self._metrics.pii_redactions, policy.name, entity).inc(n)
        ctx.decide(self.name, redacted=dict(done.counts), texts=len(slots), dropped=len(drops), shadow=shadow)
        ctx.response_headers[PII_HEADER] = summary_value(done.counts, shadow=shadow)

        completion = await call_next(ctx)
        if ctx.endpoint != "chat":
            return completion
        return self._reply(ctx, completion, done.vault, scope, pii, shadow)

    def start_analysis(self, ctx: RequestContext) -> None:
        """Start this request's analysis now (worker threads) as ``ctx.facts["pii_analysis"]``, an
        :class:`EarlyWork` this stage takes when the request reaches it: the emotion stage calls it
        just before its model read, so both run at once. The analysis is exactly :meth:`__call__`'s
        (the same walk, texts, scope, timeout and ``max_new_chars``; the walk skips the tone
        stage's guidance, the only edit in between); nothing else is done (no body edit, decision,
        header or metric), and its failure is reported by the stage that takes it, as its own (fail
        closed). A request the stage refuses, or anything unexpected, starts nothing."""
        policy = ctx.policy
        if policy is None or not policy.pii.enabled or "pii_analysis" in ctx.facts:
            return
        try:
            pii = policy.pii
            shadow = pii.mode == "shadow"
            config = _config(pii)
            slots = walk_request(ctx.body, ctx.endpoint)
            _unanalysable(slots, pii, shadow)  # raises for a request the stage refuses
            slots = [s for s in slots if s.kind != "binary"]
            reused = {} if shadow else self._remembered((ctx.tenant, ctx.user_id or "", config), slots)
            texts = _texts(slots, reused)
        except Exception:  # noqa: BLE001 - the stage does the work (and reports any problem) itself
            return
        if texts:
            whose = (ctx.tenant, ctx.user_id or "")
            work = self._engine.analyze(texts, config, pii.timeout_seconds, max_new_chars=pii.max_new_chars, scope=whose)
            ctx.facts["pii_analysis"] = EarlyWork((config, whose), work)

    async def redact_text(self, text: str, policy: Any) -> str:
        """``text`` with every entity the policy's ``pii`` section detects replaced by ``<ENTITY>``
        (for text that is kept, not forwarded: a feedback comment). Raises when analysis fails, so
        callers fail closed (keep nothing)."""
        pii = policy.pii
        found = await self._engine.analyze([text], _config(pii), pii.timeout_seconds, max_new_chars=pii.max_new_chars)
        spans = sorted(_plausible(text, found.get(text, ())), key=lambda sp: sp.start)
        out, at = [], 0
        for sp in spans:
            if sp.start < at:
                continue  # overlapping: the earlier span already covers it
            out.append(text[at : sp.start])
            out.append(f"<{sp.entity}>")
            at = sp.end
        out.append(text[at:])
        return "".join(out)

    def _remembered(self, scope: tuple[Any, ...], slots: list[Slot]) -> dict[int, Remembered]:
        """Slots that are exactly a reply this stage delivered (to this tenant and user)."""
        out: dict[int, Remembered] = {}
        for i, slot in enumerate(slots):
            if slot.kind == "text" and slot.doc is None and not slot.is_key:
                hit = self._replies.get(scope, slot.text)
                if hit is not None:
                    out[i] = hit
        return out

    async def _plan(
        self,
        slots: list[Slot],
        scope: tuple[Any, ...],
        config: PiiDetectConfig,
        pii: Any,
        shadow: bool,
        seed: PseudonymVault | None = None,
        early: EarlyWork[dict[str, tuple[PiiSpan, ...]]] | None = None,
    ) -> tuple[RequestRedaction, dict[int, Remembered]]:
        """Analyse what is new and plan the redaction. A resent reply is taken as the model's text
        only if its placeholders mean the same values at its place in this request; one that does
        not is analysed after all, and the plan made again (each round has fewer such replies).
        ``early``: the analysis :meth:`start_analysis` started; its spans (or its error) are taken
        as this analysis's, and only texts it did not cover are analysed here."""
        reused = {} if shadow else self._remembered(scope, slots)
        texts = _texts(slots, reused)
        whose = (str(scope[0]), str(scope[1]))  # analyses are remembered per tenant and user, never shared
        task = early.take((config, whose)) if early is not None else None
        found = dict(await task) if task is not None else {}
        rest = [t for t in texts if t not in found]
        if rest:
            found.update(await self._engine.analyze(rest, config, pii.timeout_seconds, max_new_chars=pii.max_new_chars, scope=whose))
        split = _split_numbers(slots)
        failed: list[int] = []
        while True:
            failed.clear()

            def spans_of(i: int, slot: Slot, vault: PseudonymVault) -> Sequence[Span]:
                if i in reused:
                    if not ReplyMemo.confirm(reused[i][1], vault):
                        failed.append(i)
                    return ()
                if not slot.text.strip():
                    return ()
                if slot.kind == "name":
                    return [Span("PERSON", 0, len(slot.text), 1.0)]
                if slot.kind == "ident" and _LONG_DIGITS.search(slot.text):
                    return [Span("NUMBER", 0, len(slot.text), 1.0)]  # a function needs no phone or account number in its name
                if (by_field := field_spans(slot)) is not None:  # {"given": "Olamide"}, {"postcode": "IV2 4DW"}
                    return by_field
                spans = slot_spans(slot, _plausible(slot.analysed_text, found.get(slot.analysed_text, ())))
                if slot.kind == "ident" or _schema_name(slot) or structured_only(slot):  # NER reads "lookup order" as a name: only structured values count in a name
                    spans = [sp for sp in spans if sp.entity in OUTPUT_ENTITIES]
                return spans + split.get(i, []) if i in split else spans

            done = plan_redaction(
                slots, spans_of, dict(pii.actions), default_action=pii.default_action, hash_key=self._hash_key, max_values=pii.max_values, seed=seed
            )
            if not failed:
                return done, reused
            for i in failed:
                del reused[i]
            found.update(await self._engine.analyze([slots[i].analysed_text for i in failed], config, pii.timeout_seconds, scope=whose))

    def _reply(self, ctx: RequestContext, completion: Completion, vault: PseudonymVault, scope: tuple[Any, ...], pii: Any, shadow: bool) -> Completion:
        policy = ctx.require_policy()
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
        whole = not ctx.stream  # a JSON reply is read once, whole
        if shadow:
            return completion.map_deltas(lambda d: windowed(d, text, args, choices=n, whole=whole))
        said: dict[int, list[str]] = {}

        def remember(shown: dict[int, list[str]]) -> None:
            for choice, parts in shown.items():
                self._replies.remember(scope, "".join(parts), "".join(said.get(choice, ())), vault)

        return completion.map_deltas(lambda d: _texts_seen(windowed(_texts_seen(d, said), text, args, choices=n, whole=whole), {}, remember))


def _texts(slots: list[Slot], reused: dict[int, Remembered]) -> list[str]:
    """The texts to analyse: every slot's but a participant's name (always a PERSON) and the
    replies taken back as the model wrote them."""
    return [s.analysed_text for i, s in enumerate(slots) if i not in reused and s.kind != "name"]


def _unanalysable(slots: list[Slot], pii: Any, shadow: bool) -> list[tuple[Any, Any]]:
    """What cannot be analysed, by ``pii.unanalysable``: refuse (raises, naming the field), or the
    places to drop it from (empty for ``forward`` and in shadow mode)."""
    binaries = [s for s in slots if s.kind == "binary"]
    if not binaries or pii.unanalysable == "forward" or shadow:
        return []
    if pii.unanalysable == "refuse":
        raise InvalidRequest(
            f"{binaries[0].path} holds content Bedside cannot check for personal data (an image, audio, a file or token ids), "
            "and this policy does not forward unchecked content. Send it as text, or ask your operator about pii.unanalysable.",
            param=binaries[0].path,
            code="unanalysable_content",
        )
    return list({(id(s.drop[0]), s.drop[1]): s.drop for s in binaries if s.drop is not None}.values())


def _drop(targets: list[tuple[Any, Any]]) -> None:
    """Remove each ``holder[key]``; list items from the highest position down."""
    for holder, key in sorted(targets, key=lambda d: d[1] if isinstance(d[1], int) else -1, reverse=True):
        if isinstance(holder, list) and isinstance(key, int) and key < len(holder):
            del holder[key]
        elif isinstance(holder, dict):
            holder.pop(key, None)


def _split_numbers(slots: list[Slot]) -> dict[int, list[Span]]:
    """Card numbers whose digits end one user text and begin the next (see ``numbers_split_across``)."""
    plain = [i for i, s in enumerate(slots) if s.kind == "text" and s.role == "user" and not s.is_key and s.doc is None]
    found = numbers_split_across([slots[i].text for i in plain])
    return {plain[k]: [Span(e, a, b, 0.65) for e, a, b in spans] for k, spans in found.items()}


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
def _config_cached(entities: tuple[str, ...], threshold: float, allow: tuple[str, ...], custom: tuple[Any, ...], places: str) -> PiiDetectConfig:
    from proxy.detectors.pii import CustomRecognizerSpec, PiiDetectConfig

    specs = tuple(CustomRecognizerSpec(e, tuple(p), tuple(d), tuple(c), s) for e, p, d, c, s in custom)
    return PiiDetectConfig(entities=entities, threshold=threshold, allow_list=allow, custom=specs, places=places)


def _config(pii: Any) -> PiiDetectConfig:
    custom = tuple((c.entity, tuple(c.patterns), tuple(c.deny_list), tuple(c.context), c.score) for c in pii.custom)
    return _config_cached(tuple(pii.entities), float(pii.threshold), tuple(pii.allow_list), custom, pii.places)


def _scanner(pii: Any) -> OutputScanner:
    actions = dict(pii.actions)
    entities = [e for e in OUTPUT_ENTITIES if e in pii.entities and actions.get(e, pii.default_action) != "allow"]
    return OutputScanner(entities, allow=pii.allow_list)


def build_pii_stage(settings: Any, metrics: Metrics, policies: Any) -> PiiStage:
    """The stage as ``build_services`` wires it: the engine is warmed now when a loaded policy
    enables PII (so the first request does not pay the spaCy load), else on first use (a reload
    may turn PII on later). The hash key is ``privacy.pii_hash_key_file``, else sits in ``data_dir``."""
    from proxy.secrets_store import configured_key

    cfg = settings.pii
    engine = PiiEngine.from_model(cfg.model, workers=cfg.workers, max_queue=cfg.max_queue, cache_size=cfg.cache_size)
    stage = PiiStage(engine, metrics, hash_key=configured_key(settings.privacy.pii_hash_key_file, Path(settings.data_dir), "pii-hash.key"))
    if policies is not None:
        stage.warm_policies(policies)
    return stage

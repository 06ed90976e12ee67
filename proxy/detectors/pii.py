"""The PII detector the PII stage calls: configured analysis with a bounded result cache.

A conversation resends its whole history every turn, so results are cached by the SHA-256 of the
text and the (frozen, hashable) :class:`PiiDetectConfig`: only new messages cost an analysis. The
cache holds spans (entity, offsets, score), never text. ``analyze`` is thread-safe; errors from
Presidio propagate so that the stage can fail closed.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex as re
from cachetools import LRUCache
from presidio_analyzer import EntityRecognizer, RecognizerResult

from proxy.detectors.normalise import normalise
from proxy.detectors.pii_engine import AnalyzerHandle

__all__ = ["DEFAULT_ENTITIES", "CustomRecognizerSpec", "PiiDetectConfig", "PiiDetector", "PiiSpan"]

#: What a policy redacts when it names no entities.
DEFAULT_ENTITIES: tuple[str, ...] = (
    "PERSON", "LOCATION", "STREET_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD",
    "IBAN_CODE", "US_SSN", "NATIONAL_ID", "IP_ADDRESS",
)  # fmt: skip
#: How far (characters) either side of a custom match a context word may stand.
CONTEXT_WINDOW = 60


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One detected entity: type, character offsets into the analysed text, score. No text."""

    entity: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class CustomRecognizerSpec:
    """A policy-declared recognizer.

    ``patterns`` are regular expressions (``regex`` syntax); ``deny_list`` are literal words or
    phrases matched case-insensitively on word boundaries. With ``context`` non-empty, a pattern
    match counts only when one of the context words stands within ``CONTEXT_WINDOW`` characters of
    it (deny-list matches need no context).
    """

    entity: str
    patterns: tuple[str, ...] = ()
    deny_list: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    score: float = 0.6


@dataclass(frozen=True, slots=True)
class PiiDetectConfig:
    """What to look for; hashable so it can key the cache."""

    entities: tuple[str, ...] = DEFAULT_ENTITIES
    threshold: float = 0.45
    allow_list: tuple[str, ...] = ()
    custom: tuple[CustomRecognizerSpec, ...] = ()
    #: ``personal``: places named in passing are left (``proxy.detectors.pii_places``); ``all``: every place found
    places: str = "personal"


class _CustomRecognizer(EntityRecognizer):
    """Runs one :class:`CustomRecognizerSpec` without needing NLP artefacts."""

    def __init__(self, spec: CustomRecognizerSpec) -> None:
        self.spec = spec
        self._patterns = [re.compile(p) for p in spec.patterns]
        self._deny = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in spec.deny_list) + r")(?!\w)", re.IGNORECASE) if spec.deny_list else None
        self._context = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in spec.context) + r")(?!\w)", re.IGNORECASE) if spec.context else None
        super().__init__(supported_entities=[spec.entity], name=f"policy:{spec.entity}")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return pattern (with context when required) and deny-list matches."""
        out: list[RecognizerResult] = []
        meta = {RecognizerResult.RECOGNIZER_NAME_KEY: f"policy:{self.spec.entity}", "source": "policy"}
        for rx in self._patterns:
            for m in rx.finditer(text):
                if m.end() <= m.start():
                    continue
                if self._context is not None:
                    window = text[max(0, m.start() - CONTEXT_WINDOW) : m.end() + CONTEXT_WINDOW]
                    if not self._context.search(window):
                        continue
                out.append(RecognizerResult(self.spec.entity, m.start(), m.end(), self.spec.score, recognition_metadata=meta))
        if self._deny is not None:
            for m in self._deny.finditer(text):
                out.append(RecognizerResult(self.spec.entity, m.start(), m.end(), self.spec.score, recognition_metadata=meta))
        return out


@lru_cache(maxsize=256)
def _compile(specs: tuple[CustomRecognizerSpec, ...]) -> tuple[_CustomRecognizer, ...]:
    return tuple(_CustomRecognizer(s) for s in specs)


#: whose analyses a result may answer: the PII stage passes (tenant, user) so that a result is
#: never reused for another tenant or user (no one can time whether someone else sent a text)
Scope = tuple[str, ...]
_CacheKey = tuple[Scope, bytes, PiiDetectConfig]


def _key(text: str, config: PiiDetectConfig, scope: Scope = ()) -> _CacheKey:
    return (scope, hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), config)


class PiiDetector:
    """Finds PII spans in text according to a :class:`PiiDetectConfig`, with an LRU result cache."""

    def __init__(self, handle: AnalyzerHandle, *, cache_size: int = 4096) -> None:
        self.handle = handle
        self._cache: LRUCache[_CacheKey, tuple[PiiSpan, ...]] = LRUCache(maxsize=cache_size)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"PiiDetector(model={self.handle.model!r}, degraded={self.handle.degraded}, cached={len(self._cache)})"

    def analyze(self, text: str, config: PiiDetectConfig, scope: Scope = ()) -> tuple[PiiSpan, ...]:
        """Return the PII spans in ``text``, sorted by start; cached by (scope, hash of text, config)."""
        key = _key(text, config, scope)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self.hits += 1
                return found
        spans = self._analyze(text, config)
        with self._lock:
            self.misses += 1
            self._cache[key] = spans
        return spans

    def cached(self, texts: list[str], config: PiiDetectConfig, scope: Scope = ()) -> dict[str, tuple[PiiSpan, ...]]:
        """The texts whose results are already cached, with them (no analysis, cheap: for the
        event loop, so that a turn whose texts are all known needs no worker thread)."""
        out: dict[str, tuple[PiiSpan, ...]] = {}
        with self._lock:
            for text in texts:
                found = self._cache.get(_key(text, config, scope))
                if found is not None:
                    self.hits += 1
                    out[text] = found
        return out

    def analyze_many(self, texts: list[str], config: PiiDetectConfig, scope: Scope = ()) -> list[tuple[PiiSpan, ...]]:
        """:meth:`analyze` for each text, the cache checked per text and the texts it misses analysed
        together (one spaCy call for all of them: its fixed cost per call is paid once)."""
        keys = [_key(t, config, scope) for t in texts]
        out: list[tuple[PiiSpan, ...] | None] = [None] * len(texts)
        with self._lock:
            for i, key in enumerate(keys):
                found = self._cache.get(key)
                if found is not None:
                    self.hits += 1
                    out[i] = found
        todo: dict[bytes, list[int]] = {}
        for i, found in enumerate(out):
            if found is None:
                todo.setdefault(keys[i][1], []).append(i)
        if todo:
            firsts = [idxs[0] for idxs in todo.values()]
            analysed = self._analyze_many([texts[i] for i in firsts], config)
            with self._lock:
                for idxs, spans in zip(todo.values(), analysed, strict=True):
                    self.misses += 1
                    self._cache[keys[idxs[0]]] = spans
                    for i in idxs:
                        out[i] = spans
        return [spans if spans is not None else () for spans in out]

    def _analyze(self, text: str, config: PiiDetectConfig) -> tuple[PiiSpan, ...]:
        return self._analyze_many([text], config)[0]

    def _analyze_many(self, texts: list[str], config: PiiDetectConfig) -> list[tuple[PiiSpan, ...]]:
        out: list[tuple[PiiSpan, ...]] = [()] * len(texts)
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if not todo:
            return out
        extra = _compile(config.custom)
        all_places = config.places == "all"
        # obfuscated forms (zero-width characters, fullwidth signs, %40) are analysed normalised;
        # spans are mapped back to the original text
        normalised = {i: normalise(texts[i]) for i in todo}
        if len(todo) == 1:
            found = [self.handle.analyze(normalised[todo[0]].text, config.entities, threshold=config.threshold, extra_recognizers=extra, all_places=all_places)]
        else:
            found = self.handle.analyze_many(
                [normalised[i].text for i in todo], config.entities, threshold=config.threshold, extra_recognizers=extra, all_places=all_places
            )
        allowed = {a.strip().casefold() for a in config.allow_list}
        for i, results in zip(todo, found, strict=True):
            norm = normalised[i]
            text = norm.text
            spans = []
            for r in results:
                if text[r.start : r.end].strip().casefold() in allowed:
                    continue
                start, end = norm.to_original(r.start, r.end)
                spans.append(PiiSpan(r.entity_type, start, end, round(float(r.score), 4)))
            out[i] = tuple(spans)
        return out

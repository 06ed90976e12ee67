"""Bedside's guardrails-ai validators (registered as ``bedside/...``) and a cheap language check.

Every validator returns ``PassResult`` or ``FailResult``. A failure's ``error_message`` is
``"<validator>: <reason>,<reason>"`` built from reason *names* only (never user text), its
``metadata["reasons"]`` holds the same names as a list, and ``fix_value`` is set where a fix makes
sense (forbidden phrases removed, disclosure appended, text truncated). Span offsets, not text, go
in ``error_spans``. All validators default to ``on_fail="noop"``: Bedside decides what a failure
means (block, fix, hand off) in its rails stages, not inside guardrails-ai.

This module imports guardrails-ai: the checks import it when they are compiled, after
:func:`proxy.rails.guardrails_setup.prepare_rails`, and every validator's constructor calls
``prepare_rails()`` first (idempotent), so none exists before guardrails is offline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from guardrails.classes.validation.validation_result import (
    ErrorSpan,
    FailResult,
    PassResult,
    ValidationResult,
)
from guardrails.validator_base import Validator, register_validator

from proxy.detectors.crisis import CrisisDetector
from proxy.detectors.harmful import HarmfulRequestDetector
from proxy.detectors.indirect import IndirectInjectionDetector
from proxy.detectors.jailbreak import JailbreakDetector
from proxy.detectors.topics import TopicMatcher, TopicSpec, resolve_topics
from proxy.rails.guardrails_setup import prepare_rails
from proxy.rails.language import detect_language

__all__ = [
    "BedsideCrisis",
    "BedsideDeniedTopics",
    "BedsideForbiddenPhrases",
    "BedsideHarmfulRequest",
    "BedsideJailbreak",
    "BedsideLanguage",
    "BedsideMaxLength",
    "BedsideRequiredDisclosure",
    "BedsideValidator",
    "detect_language",
]


class BedsideValidator(Validator):
    """The base of Bedside's validators: guardrails is made offline before any of them exists."""

    def __init__(self, on_fail: Any = "noop", **kwargs: Any) -> None:
        prepare_rails()
        super().__init__(on_fail=on_fail, **kwargs)


def _fail(name: str, reasons: Sequence[str], *, fix: Any = None, spans: Sequence[ErrorSpan] = ()) -> FailResult:
    return FailResult(
        error_message=f"{name}: {','.join(reasons)}",
        fix_value=fix,
        error_spans=list(spans) or None,
        metadata={"reasons": list(reasons)},
    )


@register_validator(name="bedside/jailbreak", data_type="string")
class BedsideJailbreak(BedsideValidator):
    """Fail on prompt injection / jailbreak (see :mod:`proxy.detectors.jailbreak`)."""

    def __init__(self, threshold: float = 0.5, source: str = "user", on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail, threshold=threshold, source=source)
        self._detector = JailbreakDetector(threshold)
        self._indirect = IndirectInjectionDetector(threshold)
        self._source = source

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        source = str(metadata.get("source", self._source))
        if source in ("tool", "document", "pasted"):  # untrusted data: read sentence by sentence
            indirect = self._indirect.check(str(value))
            if indirect.flagged:
                return _fail("jailbreak", ("indirect", *indirect.reasons))
            return PassResult()
        verdict = self._detector.check(str(value), source=source)
        if metadata.get("fragment") and not set(verdict.reasons) - {"ngram_model"}:
            # the words around a pasted block: the n-gram model was trained on whole prompts and
            # reads short lead-ins ("Summarise this passage:") as suspicious; a technique must fire
            return PassResult()
        if verdict.flagged:
            return _fail("jailbreak", verdict.reasons or ("score",))
        return PassResult()


@register_validator(name="bedside/harmful_request", data_type="string")
class BedsideHarmfulRequest(BedsideValidator):
    """Fail when the text asks for help to do serious harm in one of ``categories`` (all when
    empty); the first reason is ``harmful_request:<category>``. ``model``: ``features``
    (:mod:`proxy.detectors.harmful`) or ``encoder`` (:mod:`proxy.detectors.harm_encoder`, the
    ``contextual`` extra; raises :class:`~proxy.detectors.harm_encoder.ContextualUnavailable` naming
    the install commands when it cannot load)."""

    def __init__(self, threshold: float | None = None, categories: Sequence[str] = (), model: str = "features", on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail, threshold=threshold, categories=list(categories), model=model)
        self._detector: Any
        if model == "encoder":
            from proxy.detectors.harm_encoder import HarmEncoderDetector

            self._detector = HarmEncoderDetector.load(threshold)
        elif model == "features":
            self._detector = HarmfulRequestDetector(threshold)
        else:
            raise ValueError(f"unknown harmful_request model {model!r}")
        self._categories = frozenset(categories)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        verdict = self._detector.check(str(value))
        if verdict.flagged and (not self._categories or verdict.category in self._categories):
            return _fail("harmful_request", (f"harmful_request:{verdict.category}", *verdict.reasons[1:]))
        return PassResult()


@register_validator(name="bedside/crisis", data_type="string")
class BedsideCrisis(BedsideValidator):
    """Fail when the text signals self-harm, abuse or a medical emergency."""

    def __init__(self, threshold: float = 0.5, on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail, threshold=threshold)
        self._detector = CrisisDetector(threshold)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        verdict = self._detector.check(str(value))
        if verdict.flagged and verdict.kind:
            return _fail("crisis", (verdict.kind, *verdict.reasons))
        return PassResult()


@register_validator(name="bedside/denied_topics", data_type="string")
class BedsideDeniedTopics(BedsideValidator):
    """Fail when the text is about a denied topic (built-in names or ``TopicSpec`` objects)."""

    def __init__(
        self, topics: Sequence[str | TopicSpec] = (), min_score: float = 0.5, on_fail: Any = "noop"
    ) -> None:
        super().__init__(on_fail=on_fail, topics=list(topics), min_score=min_score)
        self._matcher = TopicMatcher(resolve_topics(topics), min_score=min_score)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        hits = self._matcher.match(str(value))
        if hits:
            return _fail("denied_topics", [h.name for h in hits])
        return PassResult()


@register_validator(name="bedside/forbidden_phrases", data_type="string")
class BedsideForbiddenPhrases(BedsideValidator):
    """Fail on any of the phrases (case-insensitive, whole words); the fix replaces each span."""

    def __init__(self, phrases: Sequence[str] = (), replacement: str = "", on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail, phrases=list(phrases), replacement=replacement)
        cleaned = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
        self._regex = (
            re.compile(
                "|".join(r"(?<!\w)" + r"\s+".join(map(re.escape, p.split())) + r"(?!\w)" for p in cleaned),
                re.IGNORECASE,
            )
            if cleaned
            else None
        )
        self._replacement = replacement

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        if self._regex is None:
            return PassResult()
        spans = [ErrorSpan(start=m.start(), end=m.end(), reason="forbidden_phrase") for m in self._regex.finditer(text)]
        if not spans:
            return PassResult()
        fixed = self._regex.sub(self._replacement, text)
        if not self._replacement:
            fixed = re.sub(r"[ \t]{2,}", " ", fixed).strip()
        return _fail("forbidden_phrases", [f"forbidden_phrase:{len(spans)}"], fix=fixed, spans=spans)


@register_validator(name="bedside/required_disclosure", data_type="string")
class BedsideRequiredDisclosure(BedsideValidator):
    """Fail unless the text contains one of the phrases; the fix appends the first phrase."""

    def __init__(self, phrases: Sequence[str] = (), separator: str = "\n\n", on_fail: Any = "noop") -> None:
        if not phrases:
            raise ValueError("required_disclosure needs at least one phrase")
        super().__init__(on_fail=on_fail, phrases=list(phrases), separator=separator)
        self._phrases = tuple(phrases)
        self._folded = tuple(" ".join(p.split()).casefold() for p in phrases)
        self._separator = separator

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        folded = " ".join(text.split()).casefold()
        if any(p in folded for p in self._folded):
            return PassResult()
        fix = f"{text.rstrip()}{self._separator}{self._phrases[0]}" if text.strip() else self._phrases[0]
        return _fail("required_disclosure", ["disclosure_missing"], fix=fix)


@register_validator(name="bedside/max_length", data_type="string")
class BedsideMaxLength(BedsideValidator):
    """Fail when the text exceeds ``max_chars`` (and/or ``max_words``); the fix truncates it."""

    def __init__(self, max_chars: int | None = None, max_words: int | None = None, on_fail: Any = "noop") -> None:
        if max_chars is None and max_words is None:
            raise ValueError("max_length needs max_chars or max_words")
        super().__init__(on_fail=on_fail, max_chars=max_chars, max_words=max_words)
        self._max_chars = max_chars
        self._max_words = max_words

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        reasons, fix = [], text
        if self._max_words is not None:
            words = fix.split()
            if len(words) > self._max_words:
                reasons.append("too_many_words")
                fix = " ".join(words[: self._max_words])
        if self._max_chars is not None and len(fix) > self._max_chars:
            reasons.append("too_many_chars")
            cut = fix[: self._max_chars]
            space = cut.rfind(" ")
            fix = (cut[:space] if space > self._max_chars // 2 else cut).rstrip()
        if reasons:
            return _fail("max_length", reasons, fix=fix)
        return PassResult()


@register_validator(name="bedside/language", data_type="string")
class BedsideLanguage(BedsideValidator):
    """Fail when the text is confidently in a language outside ``allowed``; unsure texts pass."""

    def __init__(self, allowed: Sequence[str] = ("en",), min_words: int = 3, on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail, allowed=list(allowed), min_words=min_words)
        self._allowed = frozenset(a.lower() for a in allowed)
        self._min_words = min_words

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        lang = detect_language(str(value), min_words=self._min_words)
        if lang is None or lang in self._allowed:
            return PassResult()
        return _fail("language", [f"language_not_allowed:{lang}"])

"""Bedside's guardrails-ai validators (registered as ``bedside/...``) and a cheap language check.

Every validator returns ``PassResult`` or ``FailResult``. A failure's ``error_message`` is
``"<validator>: <reason>,<reason>"`` built from reason *names* only (never user text), its
``metadata["reasons"]`` holds the same names as a list, and ``fix_value`` is set where a fix makes
sense (forbidden phrases removed, disclosure appended, text truncated). Span offsets, not text, go
in ``error_spans``. All validators default to ``on_fail="noop"``: Bedside decides what a failure
means (block, fix, hand off) in its guardrails stage, not inside guardrails-ai.

Importing this module switches guardrails-ai's network features off first
(:func:`proxy.rails.guardrails_setup.disable_guardrails_network`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Final

from proxy.rails.guardrails_setup import disable_guardrails_network

disable_guardrails_network()

from guardrails.classes.validation.validation_result import (  # noqa: E402
    ErrorSpan,
    FailResult,
    PassResult,
    ValidationResult,
)
from guardrails.validator_base import Validator, register_validator  # noqa: E402

from proxy.detectors.crisis import CrisisDetector  # noqa: E402
from proxy.detectors.jailbreak import JailbreakDetector  # noqa: E402
from proxy.detectors.topics import TopicMatcher, TopicSpec, resolve_topics  # noqa: E402

__all__ = [
    "BedsideCrisis",
    "BedsideDeniedTopics",
    "BedsideForbiddenPhrases",
    "BedsideJailbreak",
    "BedsideLanguage",
    "BedsideMaxLength",
    "BedsideRequiredDisclosure",
    "detect_language",
]


def _fail(name: str, reasons: Sequence[str], *, fix: Any = None, spans: Sequence[ErrorSpan] = ()) -> FailResult:
    return FailResult(
        error_message=f"{name}: {','.join(reasons)}",
        fix_value=fix,
        error_spans=list(spans) or None,
        metadata={"reasons": list(reasons)},
    )


@lru_cache(maxsize=8)
def _jailbreak_detector(threshold: float) -> JailbreakDetector:
    return JailbreakDetector(threshold)


@register_validator(name="bedside/jailbreak", data_type="string")
class BedsideJailbreak(Validator):
    """Fail on prompt injection / jailbreak (see :mod:`proxy.detectors.jailbreak`)."""

    def __init__(self, threshold: float = 0.5, source: str = "user", on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail, threshold=threshold, source=source)
        self._detector = _jailbreak_detector(threshold)
        self._source = source

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        source = str(metadata.get("source", self._source))
        verdict = self._detector.check(str(value), source=source)
        if verdict.flagged:
            return _fail("jailbreak", verdict.reasons or ("score",))
        return PassResult()


@register_validator(name="bedside/crisis", data_type="string")
class BedsideCrisis(Validator):
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
class BedsideDeniedTopics(Validator):
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
class BedsideForbiddenPhrases(Validator):
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
class BedsideRequiredDisclosure(Validator):
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
class BedsideMaxLength(Validator):
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


# --- language ---------------------------------------------------------------------------------
_STOPWORDS: Final[dict[str, frozenset[str]]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and is are was were you your i my to of in that it this for with have not be "
              "what can please would could do does how me we they an at from there will",
        "es": "el la los las y es son que de en un una por para con no se su mi tu yo lo como "
              "pero más está estoy tengo quiero hola gracias usted",
        "fr": "le la les et est sont que de des du en un une pour avec ne pas se son mon je tu "
              "vous nous il elle ce qui bonjour merci suis",
        "de": "der die das und ist sind nicht ein eine zu mit für ich du sie wir es den dem "
              "auf ein auch wie bitte danke habe haben mein",
        "it": "il lo la gli le e è sono che di in un una per con non si mio tu io noi come "
              "ma anche questo ciao grazie sono ho",
        "pt": "o a os as e é são que de do da em um uma por para com não se meu eu você nós "
              "como mas também olá obrigado tenho",
        "nl": "de het een en is zijn niet van in op voor met ik je jij wij we dat die er "
              "maar ook hoe alstublieft dank heb",
    }.items()
}
_SCRIPTS: Final = (
    ("ja", ((0x3040, 0x30FF),)),
    ("ko", ((0xAC00, 0xD7AF), (0x1100, 0x11FF))),
    ("zh", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))),
    ("ru", ((0x0400, 0x04FF),)),
    ("el", ((0x0370, 0x03FF),)),
    ("ar", ((0x0600, 0x06FF), (0x0750, 0x077F))),
    ("he", ((0x0590, 0x05FF),)),
    ("hi", ((0x0900, 0x097F),)),
    ("th", ((0x0E00, 0x0E7F),)),
)
_LATIN_WORD = re.compile(r"[a-zà-öø-ÿ']+")


def detect_language(text: str, *, min_words: int = 3) -> str | None:
    """A cheap guess at the language of ``text``: ISO 639-1 code, or None when unsure.

    Non-Latin scripts decide by script (Japanese kana wins over shared Han characters; any
    Cyrillic is reported as "ru"). Latin text is judged by counting common function words of
    en/es/fr/de/it/pt/nl; fewer than ``min_words`` words or fewer than two function-word hits
    give None.
    """
    if not text.isascii():
        counts: dict[str, int] = {}
        latin = 0
        for ch in text:
            cp = ord(ch)
            if cp < 0x250:
                latin += ch.isalpha()
                continue
            for lang, ranges in _SCRIPTS:
                if any(lo <= cp <= hi for lo, hi in ranges):
                    counts[lang] = counts.get(lang, 0) + 1
                    break
        if counts:
            if counts.get("ja") and counts.get("zh"):
                counts["ja"] += counts.pop("zh")
            lang, n = max(counts.items(), key=lambda kv: kv[1])
            if n >= latin:
                return lang
    words = _LATIN_WORD.findall(text.lower())
    if len(words) < min_words:
        return None
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    return lang if best >= 2 else None


@register_validator(name="bedside/language", data_type="string")
class BedsideLanguage(Validator):
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

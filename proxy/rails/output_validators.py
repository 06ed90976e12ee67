"""guardrails-ai validators for the output rails: system-prompt leaks, PII leaks, over-empathy.

Registered as ``bedside/system_prompt_leak``, ``bedside/pii_leak`` and ``bedside/over_empathy``
(forbidden phrases and persona drift use ``bedside/forbidden_phrases`` from
:mod:`proxy.rails.validators`). Like every Bedside validator they default to ``on_fail="noop"``,
report reason *names* and character spans (never text), and set ``fix_value`` where a fix makes
sense. The output-checks stage reads the spans to act on each match inside the hold-back window.
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
from guardrails.validator_base import register_validator

from proxy.rails.patterns import EMPATHY_RE, LEAK_PHRASES, find_structured_pii
from proxy.rails.text import OVERLAP_WORDS, word_spans
from proxy.rails.validators import BedsideValidator

__all__ = ["OVERLAP_WORDS", "BedsideOverEmpathy", "BedsidePiiLeak", "BedsideSystemPromptLeak", "word_spans"]

def _fail(name: str, reasons: Sequence[str], spans: Sequence[tuple[int, int, str]], fix: str | None, **meta: Any) -> FailResult:
    return FailResult(
        error_message=f"{name}: {','.join(reasons)}",
        fix_value=fix,
        error_spans=[ErrorSpan(start=s, end=e, reason=r) for s, e, r in spans] or None,
        metadata={"reasons": list(reasons), **meta},
    )


def _cut(text: str, spans: Sequence[tuple[int, int, Any]], replace: Any) -> str:
    out, pos = [], 0
    for s, e, r in spans:
        out.append(text[pos:s])
        out.append(replace(r))
        pos = e
    out.append(text[pos:])
    return re.sub(r"[ \t]{2,}", " ", "".join(out)).strip()


@register_validator(name="bedside/system_prompt_leak", data_type="string")
class BedsideSystemPromptLeak(BedsideValidator):
    """Fail when the text quotes the persona prompt (``OVERLAP_WORDS`` consecutive words of it) or
    introduces its own instructions ("my instructions are", "here is my system prompt", ...)."""

    def __init__(self, prompt: str = "", phrases: Sequence[str] = (), on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail, prompt=prompt, phrases=list(phrases))
        words = [w for w, _, _ in word_spans(prompt)]
        self._shingles = frozenset(tuple(words[i : i + OVERLAP_WORDS]) for i in range(len(words) - OVERLAP_WORDS + 1))
        cleaned = sorted({p.strip() for p in (*LEAK_PHRASES, *phrases) if p.strip()}, key=len, reverse=True)
        self._regex = re.compile(
            "|".join(r"(?<!\w)" + r"\s+".join(re.escape(w).replace("'", "['’]") for w in p.split()) + r"(?!\w)" for p in cleaned),
            re.IGNORECASE,
        )

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        spans: list[tuple[int, int, str]] = [(m.start(), m.end(), "leak_phrase") for m in self._regex.finditer(text)]
        if self._shingles:
            words = word_spans(text)
            run_start = run_end = -1
            for i in range(len(words) - OVERLAP_WORDS + 1):
                if tuple(w for w, _, _ in words[i : i + OVERLAP_WORDS]) in self._shingles:
                    s, e = words[i][1], words[i + OVERLAP_WORDS - 1][2]
                    if run_end >= 0 and s <= run_end:
                        run_end = max(run_end, e)
                    else:
                        if run_end >= 0:
                            spans.append((run_start, run_end, "prompt_overlap"))
                        run_start, run_end = s, e
            if run_end >= 0:
                spans.append((run_start, run_end, "prompt_overlap"))
        if not spans:
            return PassResult()
        spans = _merge(spans)
        reasons = sorted({r for _, _, r in spans})
        return _fail("system_prompt_leak", reasons, spans, _cut(text, spans, lambda _r: ""))


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for s, e, r in sorted(spans):
        if out and s < out[-1][1]:
            ps, pe, pr = out[-1]
            out[-1] = (ps, max(pe, e), pr)
        else:
            out.append((s, e, r))
    return out


@register_validator(name="bedside/pii_leak", data_type="string")
class BedsidePiiLeak(BedsideValidator):
    """Fail on structured personal data in the text (e-mail, phone, card, SSN, IBAN, IPv4); the fix
    replaces each match with ``<ENTITY>``. Placeholders issued by the PII stage are not PII."""

    def __init__(self, on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail)

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        spans = [(s, e, entity) for entity, s, e in find_structured_pii(text)]
        if not spans:
            return PassResult()
        reasons = sorted({f"pii:{r}" for _, _, r in spans})
        return _fail("pii_leak", reasons, spans, _cut(text, spans, lambda r: f"<{r}>"))


@register_validator(name="bedside/over_empathy", data_type="string")
class BedsideOverEmpathy(BedsideValidator):
    """Fail when the text holds more than ``max_apologies`` stock apology or empathy phrases; every
    phrase is reported as a span, and the fix drops those beyond the limit."""

    def __init__(self, max_apologies: int = 1, on_fail: Any = "noop") -> None:
        super().__init__(on_fail=on_fail, max_apologies=max_apologies)
        self._max = max_apologies

    def _validate(self, value: Any, metadata: dict[str, Any]) -> ValidationResult:
        text = str(value)
        spans = [(m.start(), m.end(), "apology") for m in EMPATHY_RE.finditer(text)]
        if len(spans) <= self._max:
            return PassResult()
        extra = spans[self._max :]
        return _fail("over_empathy", [f"apologies:{len(spans)}"], spans, _cut(text, extra, lambda _r: ""), count=len(spans))

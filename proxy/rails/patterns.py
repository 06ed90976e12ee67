"""Fixed patterns the output rails and the handoff builder share: structured PII, stock empathy,
persona drift and system-prompt leak phrases.

Everything here is plain regular expressions over short texts (microseconds per call). The PII
patterns are a deliberately small, high-precision set (e-mail, phone, payment card with a Luhn
check, US SSN, IBAN, IPv4): the `pii_leak` rail is a hook for the PII stage, which masks with
Presidio first when it exists, and :func:`scrub_structured_pii` is the handoff payload's second
line of defence. Names and addresses need NER and are not found here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

__all__ = [
    "DRIFT_PHRASES",
    "EMPATHY_RE",
    "LEAK_PHRASES",
    "PII_PATTERNS",
    "find_structured_pii",
    "scrub_structured_pii",
]

_EMAIL = r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}(?![\w-])"
_PHONE = r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){2,4}(?!\w)"
_CARD = r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)"
_SSN = r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"
_IBAN = r"(?<![A-Z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Z0-9])"
_IPV4 = r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"

#: Entity name -> compiled pattern, in the order they are tried (earlier wins on overlap).
PII_PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("EMAIL_ADDRESS", re.compile(_EMAIL)),
    ("US_SSN", re.compile(_SSN)),
    ("CREDIT_CARD", re.compile(_CARD)),
    ("IBAN_CODE", re.compile(_IBAN)),
    ("IP_ADDRESS", re.compile(_IPV4)),
    ("PHONE_NUMBER", re.compile(_PHONE)),
)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _valid(entity: str, value: str) -> bool:
    if entity == "CREDIT_CARD":
        return _luhn(re.sub(r"\D", "", value))
    if entity == "PHONE_NUMBER":
        digits = re.sub(r"\D", "", value)
        return 9 <= len(digits) <= 15
    return True


def find_structured_pii(text: str) -> Iterator[tuple[str, int, int]]:
    """``(entity, start, end)`` of each structured PII match, non-overlapping, in text order."""
    if not any(ch.isdigit() or ch == "@" for ch in text):
        return iter(())
    found: list[tuple[str, int, int]] = []
    for entity, pattern in PII_PATTERNS:
        for m in pattern.finditer(text):
            if not _valid(entity, m.group()):
                continue
            if any(m.start() < e and s < m.end() for _, s, e in found):
                continue
            found.append((entity, m.start(), m.end()))
    return iter(sorted(found, key=lambda f: f[1]))


def scrub_structured_pii(text: str) -> str:
    """``text`` with each structured PII match replaced by ``<ENTITY>``."""
    out: list[str] = []
    pos = 0
    for entity, start, end in find_structured_pii(text):
        out.append(text[pos:start])
        out.append(f"<{entity}>")
        pos = end
    out.append(text[pos:])
    return "".join(out)


# --- over-empathy -------------------------------------------------------------------------------
_FOR = r"(?:\s+(?:for|about)\s+(?:the|any|this|that|all\s+the)\s+(?:inconvenience|trouble|confusion|delay|frustration|hassle|issue|problem|wait|experience)s?)?"
_EMPATHY_ALTERNATIVES = (
    r"I(?:'m|’m|\s+am)\s+(?:so\s+|really\s+|very\s+|truly\s+|deeply\s+|terribly\s+)?sorry" + _FOR + r"(?:\s+to\s+hear\s+(?:that|this))?",
    r"I\s+(?:sincerely\s+|truly\s+|deeply\s+)?apologi[sz]e" + _FOR,
    r"(?:my|our)\s+(?:sincere(?:st)?\s+|deepest\s+)?apologies" + _FOR,
    r"I\s+(?:completely\s+|totally\s+|really\s+)?understand\s+(?:how|that|your|why)\s+(?:this\s+is\s+|this\s+must\s+be\s+|you(?:'re|’re|\s+are)\s+|it(?:'s|’s|\s+is)\s+)?(?:so\s+|very\s+|really\s+)?(?:frustrat\w*|upsetting|upset|annoy\w*|stressful|difficult)(?:\s+(?:this|that|it)\s+(?:is|must\s+be|can\s+be))?(?:\s+for\s+you)?",
    r"I\s+(?:can\s+)?hear\s+you",
    r"I\s+can\s+(?:only\s+)?imagine\s+how\s+(?:frustrating|upsetting|difficult|stressful|hard)(?:\s+(?:this|that)\s+(?:is|must\s+be))?",
    r"(?:that|this)\s+must\s+be\s+(?:so\s+|very\s+|really\s+)?(?:frustrating|upsetting|difficult|stressful|hard)(?:\s+for\s+you)?",
)
#: Stock apology and empathy phrases (case-insensitive); each match counts as one apology.
EMPATHY_RE: Final = re.compile(r"(?<!\w)(?:" + "|".join(_EMPATHY_ALTERNATIVES) + r")(?!\w)[.!,;]?", re.IGNORECASE)
#: Longest text one empathy match can span (the hold-back window of the over-empathy rail).
EMPATHY_MAX_LEN: Final = 90

# --- persona drift and system-prompt leaks -----------------------------------------------------
#: Stock self-descriptions of a generic model, out of place in a persona.
DRIFT_PHRASES: Final[tuple[str, ...]] = (
    "as an AI language model",
    "as a large language model",
    "as a language model",
    "as an AI model",
    "I am ChatGPT",
    "I'm ChatGPT",
    "trained by OpenAI",
    "developed by OpenAI",
    "created by OpenAI",
    "my knowledge cutoff",
)
#: Phrases that introduce the assistant's own instructions.
LEAK_PHRASES: Final[tuple[str, ...]] = (
    "my system prompt is",
    "my system prompt says",
    "here is my system prompt",
    "here's my system prompt",
    "here are my instructions",
    "my instructions are",
    "my instructions say",
    "my initial instructions",
    "my original instructions",
    "I was instructed to",
    "I've been instructed to",
    "I have been instructed to",
    "the system prompt says",
)

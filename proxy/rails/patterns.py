"""Fixed patterns the output rails and the handoff builder share: structured PII, stock empathy,
persona drift and system-prompt leak phrases.

Everything here is plain regular expressions over short texts (microseconds per call). Structured
PII (e-mail, phone, payment card with a Luhn check, US SSN, IBAN with its mod-97 check, IPv4/IPv6)
is defined once in :mod:`proxy.detectors.structured_pii`, which the PII stage's reply mask uses too:
the `pii_leak` rail is a hook for the PII stage, which masks with Presidio first when it exists, and
:func:`scrub_structured_pii` is the handoff payload's second line of defence. Names and addresses
need NER and are not found here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from proxy.detectors import structured_pii

__all__ = [
    "DRIFT_PHRASES",
    "EMPATHY_RE",
    "LEAK_PHRASES",
    "PII_PATTERNS",
    "find_structured_pii",
    "scrub_structured_pii",
]

#: Entity name -> compiled pattern, in the order they are tried (earlier wins on overlap); a match
#: counts only when :func:`proxy.detectors.structured_pii.valid` accepts it.
PII_PATTERNS: Final = structured_pii.PATTERNS


def find_structured_pii(text: str) -> Iterator[tuple[str, int, int]]:
    """``(entity, start, end)`` of each structured PII match, non-overlapping, in text order."""
    return iter([(m.entity, m.start, m.end) for m in structured_pii.find(text)])


def scrub_structured_pii(text: str) -> str:
    """``text`` with each structured PII match replaced by ``<ENTITY>``."""
    return structured_pii.scrub(text)


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

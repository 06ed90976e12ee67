"""Word helpers the output checks and their validators share (pure, no guardrails-ai)."""

from __future__ import annotations

import re

__all__ = ["OVERLAP_WORDS", "word_cut", "word_spans"]

#: A run of this many consecutive words of the persona prompt in a reply counts as a leak.
OVERLAP_WORDS = 8
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """``(lower-cased word, start, end)`` for each word of ``text``."""
    return [(m.group().lower().replace("’", "'"), m.start(), m.end()) for m in _WORD.finditer(text)]


def word_cut(text: str) -> int:
    """The last index at which ``text`` may be cut without splitting a word (0 if none)."""
    for i in range(len(text) - 1, -1, -1):
        if not (text[i].isalnum() or text[i] in "_'’"):
            return i + 1
    return 0

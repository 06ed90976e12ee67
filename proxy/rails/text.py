"""Word and edit helpers the output checks, their validators and the output scan share (pure, no
guardrails-ai)."""

from __future__ import annotations

import re

__all__ = ["OVERLAP_WORDS", "capitalise_at", "extend_removal", "word_cut", "word_list", "word_spans"]

#: A run of this many consecutive words of the persona prompt in a reply counts as a leak.
OVERLAP_WORDS = 8
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """``(lower-cased word, start, end)`` for each word of ``text``."""
    return [(m.group().lower().replace("’", "'"), m.start(), m.end()) for m in _WORD.finditer(text)]


def word_list(text: str) -> list[str]:
    """The words of :func:`word_spans`, without their positions (cheaper)."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def word_cut(text: str) -> int:
    """The last index at which ``text`` may be cut without splitting a word (0 if none)."""
    for i in range(len(text) - 1, -1, -1):
        if not (text[i].isalnum() or text[i] in "_'’"):
            return i + 1
    return 0


def extend_removal(text: str, s: int, e: int, before_last: str) -> int:
    """Where a removed span should end so no stray comma or double space is left behind."""
    if e < len(text) and text[e] in ",;:":
        e += 1
    at_gap = (s == 0 and (not before_last or before_last.isspace())) or (s > 0 and text[s - 1].isspace())
    if at_gap:
        while e < len(text) and text[e] in " \t":
            e += 1
    return e


def capitalise_at(text: str, pos: int) -> str:
    for i in range(pos, len(text)):
        ch = text[i]
        if ch.isspace():
            continue
        if ch.islower():
            return text[:i] + ch.upper() + text[i + 1 :]
        return text
    return text

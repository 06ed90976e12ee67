"""The ``regex`` mirror of a phrase list (whole words, any whitespace between words, either
apostrophe), used by the output checks to find partial matches at the end of a pending text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import regex

__all__ = ["phrase_mirror", "phrase_pattern"]


def phrase_pattern(phrases: Iterable[str]) -> str:
    """One alternation for ``phrases``, longest first."""
    cleaned = sorted({p.strip() for p in phrases if p.strip()}, key=len, reverse=True)
    return "|".join(r"(?<!\w)" + r"\s+".join(regex.escape(w).replace("'", "['’]") for w in p.split()) + r"(?!\w)" for p in cleaned)


def phrase_mirror(phrases: Iterable[str]) -> Any:
    """The compiled, case-insensitive :func:`phrase_pattern`."""
    return regex.compile(phrase_pattern(phrases), regex.IGNORECASE)

"""Trigger words of hand-written patterns: a pattern runs only when the text holds the words it needs.

Both :mod:`proxy.detectors.crisis` and the harmful-request features (:mod:`proxy.detectors.harm_vocab`)
write a pattern's triggers as space-separated words of which one must occur, and, when every
alternative of the pattern needs two or three kinds of word, groups joined by " + " that must each
have one ("address number + confront blocked + find get"): ordinary text that says "address" but
nothing of pursuit never runs the pattern.
"""

from __future__ import annotations

__all__ = ["Triggers", "more_present", "parse_triggers"]

#: the first group (one of its words must occur) and the further groups (each must have one)
Triggers = tuple[frozenset[str], tuple[frozenset[str], ...]]


def parse_triggers(spec: str) -> Triggers:
    """``"a b + c d"`` -> ({a, b}, ({c, d},))."""
    first, *more = spec.split("+")
    return frozenset(first.split()), tuple(frozenset(group.split()) for group in more)


def more_present(more: tuple[frozenset[str], ...], words: set[str]) -> bool:
    """Whether ``words`` hold a word of each further group (true when there are none). Callers test
    the first group themselves, inline, since most patterns have no further group."""
    return not any(group.isdisjoint(words) for group in more)

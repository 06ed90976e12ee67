"""Card numbers whose digits end one message and begin the next (``my card is 4111 1111`` /
``1111 1111``), found on the boundary between consecutive texts.

Plain regular expressions, no Presidio: the PII stage imports this at start-up, and importing
Presidio loads spaCy, thinc and torch (hundreds of MB), which only a policy that enables PII needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex as re

from proxy.detectors.structured_pii import luhn_valid

__all__ = ["may_end_in_digits", "may_start_with_digits", "numbers_split_across"]

_TAIL_DIGITS = re.compile(r"(\d[\d \-.]*\d)[^\w]{0,3}\Z")
_HEAD_DIGITS = re.compile(r"\A\D{0,30}?(?<![\w])(\d[\d \-.]*\d)(?![\w])")
_WORD_CHAR = re.compile(r"\w")


def may_end_in_digits(text: str) -> bool:
    """Whether ``_TAIL_DIGITS`` can match ``text``: a digit followed by at most three characters
    that are not word characters, at the very end. Checked from the end in a few steps, where the
    anchored search would try every position of the text (every resent turn, every request)."""
    for k in range(4):
        if len(text) <= k:
            return False
        if text[-k - 1].isdigit():
            return True
        if _WORD_CHAR.match(text[-k - 1]):
            return False
    return False


def may_start_with_digits(text: str) -> bool:
    """Whether ``_HEAD_DIGITS`` can match ``text``: a digit within its first 31 characters."""
    return any(c.isdigit() for c in text[:31])


def numbers_split_across(texts: Sequence[str]) -> dict[int, list[tuple[str, int, int]]]:
    """Card numbers split over consecutive texts: ``{index: [(entity, start, end), ...]}``.

    The digits ending ``texts[i]`` and the first digits of ``texts[i + 1]`` (within its first 30
    characters: "then 1111 1111") are joined; when neither half is a card number on its own but
    together they are (13-19 digits, Luhn-valid, at least 4 digits each side), both halves are
    returned as ``CREDIT_CARD`` spans of their own text.
    """
    found: dict[int, list[tuple[str, int, int]]] = {}
    for i in range(len(texts) - 1):
        if not (may_end_in_digits(texts[i]) and may_start_with_digits(texts[i + 1])):
            continue  # neither search could match: most turns end in a word or a stop
        tail = _TAIL_DIGITS.search(texts[i])
        head = _HEAD_DIGITS.search(texts[i + 1])
        if tail is None or head is None:
            continue
        left = "".join(c for c in tail.group(1) if c.isdigit())
        right = "".join(c for c in head.group(1) if c.isdigit())
        joined = left + right
        if len(left) >= 4 and len(right) >= 4 and 13 <= len(joined) <= 19 and luhn_valid(joined) and not (len(left) >= 13 and luhn_valid(left)):
            found.setdefault(i, []).append(("CREDIT_CARD", tail.start(1), tail.end(1)))
            found.setdefault(i + 1, []).append(("CREDIT_CARD", head.start(1), head.end(1)))
    return found

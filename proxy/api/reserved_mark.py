"""Bedside's reserved mark (``[bedside:``) in client text, however disguised.

Every string inside every message is searched for the mark after Unicode compatibility
normalisation (NFKC), removal of invisible format characters (category Cf: zero-width spaces, soft
hyphens, BOMs) and case folding, and through JSON ``\\u`` escapes, so a client cannot pass its text
off as Bedside's own guidance (which later stages trust and the PII stage skips).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from typing import Any

from proxy.errors import InvalidRequest
from proxy.marks import BEDSIDE_MARK

__all__ = ["RESERVED_MARK", "check_no_mark", "has_reserved_mark", "normalise_for_mark"]

#: the prefix of Bedside's own injected messages ([bedside:persona], [bedside:tone], ...)
RESERVED_MARK = BEDSIDE_MARK

@functools.cache
def _format_chars() -> re.Pattern[str]:
    """Every Unicode format character (category Cf: zero-width spaces and joiners, BOM, soft hyphen, bidi controls)."""
    chars = "".join(chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf")
    return re.compile("[" + re.escape(chars) + "]")


#: a JSON string escape (``\u005b``): strings holding JSON (tool-call arguments) are read unescaped too
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def normalise_for_mark(text: str) -> str:
    """``text`` as the reserved-mark check sees it: format characters dropped, NFKC, case-folded."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", _format_chars().sub("", text)).casefold()


def has_reserved_mark(text: str) -> bool:
    """Whether ``text`` carries ``[bedside:`` anywhere, however disguised (fullwidth, zero-width,
    case, or JSON ``\\u`` escapes inside a string that holds JSON, such as tool-call arguments)."""
    if text.isascii() and "[" not in text and "\\u" not in text:
        return False  # ASCII is its own NFKC form: without "[" or an escape that could make one, no mark
    if RESERVED_MARK in normalise_for_mark(text):
        return True
    for _ in range(3):  # JSON inside JSON inside JSON is as deep as anyone nests arguments
        if "\\u" not in text:
            return False
        text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        if RESERVED_MARK in normalise_for_mark(text):
            return True
    return False


def _holds_mark(value: Any) -> bool:
    """Whether any string inside ``value`` (recursively) carries the mark; no paths are built."""
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if has_reserved_mark(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def check_no_mark(value: Any, path: str) -> None:
    """Refuse any string inside ``value`` (recursively: every field, every part) carrying the mark.
    The walk naming where it is (``path``) runs only once a mark was found."""
    if not _holds_mark(value):
        return
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if has_reserved_mark(node):
                # Bedside marks its own system messages this way and never returns them to clients, so a
                # client message carrying the mark is an attempt to pass as Bedside's own guidance
                raise InvalidRequest(
                    f"{where} contains '{RESERVED_MARK}', which Bedside reserves for its own guidance. Remove it and send the request again.",
                    param=where,
                    code="reserved_marker",
                )
        elif isinstance(node, dict):
            stack.extend((v, f"{where}.{k}") for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(node))))


# ---- messages ------------------------------------------------------------------------------------

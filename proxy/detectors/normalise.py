"""Text normalisation before PII analysis, with the way back to the original offsets.

People (and attackers) write personal data in forms the recognizers do not expect: zero-width
characters inside an e-mail (``ann\u200b@example.com``), fullwidth signs (``ann＠example．com``),
percent-encoding (``ann%40example.com``), fullwidth digits. :func:`normalise` rewrites those
before analysis:

* characters of Unicode category ``Cf`` (format: zero-width space/joiners, word joiner, BOM,
  soft hyphen, bidi controls) are removed;
* every other character is put in NFKC form (fullwidth and compatibility forms become ASCII);
* ``%XX`` escapes of printable ASCII become the character they encode.

The result keeps, for each normalised character, the original range it came from, so a span found
in the normalised text maps back to the original text (:meth:`Normalised.to_original`), and
redaction replaces the obfuscated original, zero-width characters and all.

Plain ASCII without ``%`` (most messages) returns at once with no mapping.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["Normalised", "normalise"]

_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class Normalised:
    """The normalised text; ``starts[i]``/``ends[i]``: the original range of character ``i``
    (both ``None`` when the text did not change)."""

    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    @property
    def changed(self) -> bool:
        return self.starts is not None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original range covering normalised ``[start, end)`` (``end > start``)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _percent(text: str, i: int) -> str | None:
    """The printable ASCII character that ``%XX`` at ``i`` encodes, else ``None``."""
    if i + 2 >= len(text) or text[i + 1] not in _HEX or text[i + 2] not in _HEX:
        return None
    ch = chr(int(text[i + 1 : i + 3], 16))
    return ch if 0x20 <= ord(ch) < 0x7F else None


def normalise(text: str) -> Normalised:
    """``text`` with format characters removed, NFKC applied and ``%XX`` decoded (see module doc)."""
    if text.isascii() and "%" not in text:
        return Normalised(text)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        decoded = _percent(text, i) if ch == "%" else None
        if decoded is not None:
            out.append(decoded)
            starts.append(i)
            ends.append(i + 3)
            i += 3
            continue
        if ch.isascii():
            out.append(ch)
            starts.append(i)
            ends.append(i + 1)
        elif unicodedata.category(ch) != "Cf":
            for piece in unicodedata.normalize("NFKC", ch):
                out.append(piece)
                starts.append(i)
                ends.append(i + 1)
        i += 1
    result = "".join(out)
    if result == text:
        return Normalised(text)
    return Normalised(result, tuple(starts), tuple(ends))

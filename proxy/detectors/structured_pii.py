"""The one definition of *structured* personal data: e-mail, phone, payment card, IBAN, US SSN, IP.

Used by the reply side of the PII stage (``proxy.stages.pii_output``: masking what the model wrote),
the ``pii_leak`` output rail and the handoff scrub (``proxy.rails.patterns``), and, for their
validators and shared shapes, by Bedside's Presidio recognizers (``pii_recognizers``,
``pii_obfuscated``). Plain regular expressions compiled once at import (no state, no I/O) and
checksums; no NER, so :func:`find` costs microseconds and can run on every streamed chunk.

What counts (see also ``docs/pii.md``, "Structured PII"):

=============  ===================================================================================
EMAIL_ADDRESS  ``local@domain.tld``: local part starts with a letter or digit, up to 64 of
               ``A-Z a-z 0-9 . _ % + -``; one or more domain labels, a 2-24 letter TLD
IBAN_CODE      two capital letters, two check digits, 2-7 groups of four (spaces optional), a short
               last group; 15-34 characters and the ISO 13616 mod-97 check equals 1
CREDIT_CARD    13-19 digits, optionally grouped by spaces or dashes; Luhn-valid
IP_ADDRESS     dotted IPv4 or IPv6 (``ipaddress`` must parse it), not loopback or unspecified
US_SSN         ``ddd-dd-dddd`` with a valid area (not 000, 666, 9xx), group (not 00), serial (not 0000)
PHONE_NUMBER   digit groups separated by space, dot or dash, optionally ``+country`` and an
               ``(area)`` part: 8-15 digits after a ``+``, else 10-11 digits
=============  ===================================================================================

On overlap the entity earlier in :data:`ENTITIES` wins (an IBAN is not also read as a card).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

import regex as re

__all__ = [
    "EMAIL_BODY",
    "ENTITIES",
    "PATTERNS",
    "SSN_AREA",
    "SSN_GROUP",
    "SSN_SERIAL",
    "Match",
    "find",
    "iban_valid",
    "in_progress_from",
    "ip_valid",
    "luhn_valid",
    "phone_valid",
    "scrub",
    "valid",
]

#: Entities in priority order (earlier wins an overlap).
ENTITIES: Final[tuple[str, ...]] = ("EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS", "US_SSN", "PHONE_NUMBER")

#: An e-mail address without its boundaries (recognizers that find addresses inside URLs or file
#: names put their own around it).
EMAIL_BODY: Final = r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}"
#: The three parts of a valid US SSN (area, group, serial), as regex fragments.
SSN_AREA: Final = r"(?!000|666|9\d\d)\d{3}"
SSN_GROUP: Final = r"(?!00)\d{2}"
SSN_SERIAL: Final = r"(?!0000)\d{4}"

_EMAIL = r"(?<![\w.%+-])" + EMAIL_BODY + r"(?![\w-])"
_IBAN = r"(?<![\w])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![\w])"
_CARD = r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])"
_IPV4 = r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)"
_IPV6 = r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])"
_SSN = rf"(?<![\d-]){SSN_AREA}-{SSN_GROUP}-{SSN_SERIAL}(?![\d-])"
_PHONE = r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,5}){1,4}(?![\w])(?!\.\d)"

_ANY_CUE = re.compile(r"[\d@:]")
#: Longest text any shape but an e-mail can span (an IBAN with spaces: 4 + 7 x 5 + 4 characters);
#: a value still being written that started earlier than this from the end is no value.
MAX_SHAPE_LEN: Final = 48

#: ``(entity, compiled pattern)`` in priority order; IP_ADDRESS has two (IPv4, IPv6). A match is
#: PII only when :func:`valid` accepts it.
PATTERNS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("EMAIL_ADDRESS", re.compile(_EMAIL)),
    ("IBAN_CODE", re.compile(_IBAN)),
    ("CREDIT_CARD", re.compile(_CARD)),
    ("IP_ADDRESS", re.compile(_IPV4)),
    ("IP_ADDRESS", re.compile(_IPV6)),
    ("US_SSN", re.compile(_SSN)),
    ("PHONE_NUMBER", re.compile(_PHONE)),
)


#: Per pattern of :data:`PATTERNS`: what may follow a complete match and still make it grow (a
#: phone's next digit group, a card's next digit, an e-mail's next domain label, ...).
_GROWS: Final[tuple[re.Pattern[str], ...]] = (
    re.compile(r"(?:[.\-][\w.\-]*)?"),  # e-mail: ".au", "-mail.example"
    re.compile(r"[ ]?[A-Z0-9]*"),  # IBAN: another group
    re.compile(r"[ \-]?\d*"),  # card: another digit
    re.compile(r"\.?\d*"),  # IPv4: its lookahead reads ".5"
    re.compile(r":?[0-9A-Fa-f:]*"),  # IPv6
    re.compile(r"-?\d*"),  # SSN
    re.compile(r"[ .\-]?\d*"),  # phone: another digit group
)
_SHAPE_CUE = re.compile(r"[\d:+(]")
#: Characters after a complete match beyond which it can no longer grow.
_GROW_LIMIT: Final = 6


@dataclass(frozen=True, slots=True)
class Match:
    """One structured value: its type and character offsets (no text kept)."""

    entity: str
    start: int
    end: int


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a string of decimal digits (payment card numbers)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(value: str) -> bool:
    """ISO 13616: 15-34 characters (spaces ignored) and the mod-97 check equals 1."""
    s = value.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s.isalnum() or not s.isascii():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def phone_valid(value: str) -> bool:
    """8-15 digits after a leading ``+`` (international), else 10-11 (national with area code)."""
    digits = sum(c.isdigit() for c in value)
    return 8 <= digits <= 15 if value.startswith("+") else 10 <= digits <= 11


def ip_valid(value: str) -> bool:
    """An IPv4 or IPv6 address that is neither loopback nor unspecified; IPv6 needs 2+ groups."""
    if ":" in value and (len(value) < 6 or sum(1 for g in value.split(":") if g) < 2):
        return False
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (ip.is_loopback or ip.is_unspecified)


_VALIDATORS: Final[dict[str, Callable[[str], bool]]] = {
    "IBAN_CODE": iban_valid,
    "CREDIT_CARD": lambda v: luhn_valid("".join(c for c in v if c.isdigit())),
    "IP_ADDRESS": ip_valid,
    "PHONE_NUMBER": phone_valid,
}


def valid(entity: str, value: str) -> bool:
    """Whether a pattern match for ``entity`` passes its checksum or bounds (e-mail, SSN: always)."""
    check = _VALIDATORS.get(entity)
    return True if check is None else check(value)


def find(text: str, entities: Iterable[str] = ENTITIES, allow: Iterable[str] = ()) -> list[Match]:
    """Non-overlapping structured PII in ``text``, sorted by start.

    ``entities`` limits the types looked for (order does not matter: :data:`ENTITIES` decides
    overlaps); ``allow`` lists values never reported (compared stripped and case-insensitively).
    """
    found: list[Match] = []
    if _ANY_CUE.search(text) is None:  # every pattern needs a digit, an "@" or a ":"
        return found
    wanted = set(entities)
    allowed = {a.strip().casefold() for a in allow}
    for entity, pattern in PATTERNS:
        if entity not in wanted:
            continue
        for m in pattern.finditer(text):
            start, end = m.span()
            if entity == "PHONE_NUMBER":  # digits run on after the number: keep its longest valid start
                end = _longest_valid_phone(text, start, end, found)
            if end <= start:
                continue
            value = text[start:end]
            if not valid(entity, value) or (allowed and value.strip().casefold() in allowed):
                continue
            if any(start < f.end and f.start < end for f in found):
                continue
            found.append(Match(entity, start, end))
    return sorted(found, key=lambda f: f.start)


_PHONE_GROUP_END = re.compile(r"\d(?=[ .-]\d)")


def _longest_valid_phone(text: str, start: int, end: int, found: list[Match]) -> int:
    """The end of the longest prefix of the phone match ``text[start:end]``, cut between digit
    groups, that is a valid phone number and overlaps nothing already ``found`` (``+1 415 555 0100
    12345`` is the phone ``+1 415 555 0100`` followed by another number); ``start`` if none is."""
    ends = [end, *[g.end() for g in _PHONE_GROUP_END.finditer(text, start, end)][::-1]]
    for e in ends:
        if phone_valid(text[start:e]) and not any(start < f.end and f.start < e for f in found):
            return e
    return start


def in_progress_from(text: str, entities: Iterable[str] = ENTITIES) -> int:
    """The earliest index of ``text`` at which a value may still be being written: a *partial*
    match of any shape that reaches the end of ``text`` (``"call 415 55"``, ``"ann.lee@exa"``), or a
    complete one that more text could still extend or invalidate (``"415 555 0100 "`` may go on
    with another group). ``len(text)`` when nothing is in progress.

    Streaming code keeps ``text[in_progress_from(text):]`` back; everything before it is settled:
    :func:`find` gives the same matches there whatever comes next. Validity is not asked: a value
    in progress is held whether or not its checksum will pass. Only the last
    :data:`MAX_SHAPE_LEN` characters are searched (an e-mail: from the start of its token).
    """
    n = len(text)
    wanted = entities if isinstance(entities, frozenset) else frozenset(entities)
    start = n
    # every shape but an e-mail needs a digit, a ":" (IPv6), or begins with "+" or "(" (phone)
    only_email = _SHAPE_CUE.search(text, max(0, n - MAX_SHAPE_LEN)) is None
    for (entity, pattern), grows in zip(PATTERNS, _GROWS, strict=True):
        if entity not in wanted or (only_email and entity != "EMAIL_ADDRESS"):
            continue
        if entity == "EMAIL_ADDRESS":
            pos = _email_search_start(text)  # an address has no spaces: it starts in the last token
        else:
            pos = max(0, n - MAX_SHAPE_LEN)
        if pos >= start:
            continue
        for m in pattern.finditer(text, pos, partial=True, overlapped=True):
            s = m.start()
            if s >= start or s >= n:
                break
            if m.partial or (n - m.end() <= _GROW_LIMIT and grows.fullmatch(text, m.end()) is not None):
                start = s
                break
    return start


def _email_search_start(text: str) -> int:
    """Index of the start of the trailing run of characters an e-mail address may contain."""
    i = len(text)
    while i > 0 and _in_email(text[i - 1]):
        i -= 1
    return i


def _in_email(ch: str) -> bool:
    return ch.isalnum() or ch in "_.%+-@"


def scrub(text: str, entities: Iterable[str] = ENTITIES) -> str:
    """``text`` with each structured value replaced by ``<ENTITY>``."""
    out: list[str] = []
    pos = 0
    for m in find(text, entities):
        out.append(text[pos : m.start])
        out.append(f"<{m.entity}>")
        pos = m.end
    out.append(text[pos:])
    return "".join(out)

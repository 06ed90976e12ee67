"""Spans that are the shape of a message, not someone's data: dropped before overlaps are resolved.

:func:`drop_not_data` is a step of :func:`proxy.detectors.pii_cleanup.clean`. Each rule names a
kind of text, never a word list of the evaluation sets (``docs/pii.md``, "Not data"):

* **identifiers and keys**: a name or place joined to an identifier (``prep_min``, ``order_id``)
  or inside a JSON key (``"sku":``) is the program's, not a person's;
* **form labels**: a line's one-word label before its colon (``Bake: 55-60 minutes``) is no name,
  unless it is a known first name or surname (a chat transcript's ``Anna: hi``);
* **line breaks**: an NER name or place read across line breaks is taken line by line, each piece
  judged on its own (``Lee Park`` + ``\nJosé Manuel Ochoa``; ``Kenji Watanabe`` + ``\n2-14-7``);
* **names with digits or of teams**: a PERSON holding a digit (``Batch 2291``, ``Dyson V15``: a
  model number) is none (cutting before the digit and keeping a known name left brands such as
  ``Dyson`` behind, measured), but two or more words holding a known first name before the
  number are kept (a CSV row: ``Teodora van der Berg,4``), and one that starts with a house number (``435/12 Jennifer
  Laneway``) is taken for a STREET_ADDRESS; a PERSON naming a team, department or office (``Dear
  Events Team``, ``Marketing Department``, ``Credit Control``) is none, unless it holds a first
  name (``Ruperto Sales``);
* **code and notices**: a name next to code (``#VALUE!``, ``VALUE(D2)``, ``node:20.12``,
  ``OrderService.java``) is none, and so is an NER PERSON in capitals on a line all in capitals,
  with no known first name or surname in it, no accent and none of ``, ' / -`` (``GYM CLOSED``;
  not ``O'SULLIVAN, BRÍD``, nor ``my passport says KANYA SRISUK``);
  an NER "person" that a place word leads to (``near Marathahalli``, ``out to Whitefield``) and
  that is no known name is a place (and judged as one);
* **versions**: a dotted quad in a sentence about a version or firmware, with no word of networks
  (``Version 4.2.1.7 fixed it``), is no IP address;
* **references**: a phone-shaped number joined by a hyphen to a code's letters (``CS-2024-118734``)
  or that follows an order, case, ticket or tracking reference is no phone number (one after a
  code and a space is kept: ``BE90 0682 4195 7332`` may be an IBAN the validator refused).
"""

from __future__ import annotations

from collections.abc import Iterable

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_recognizer_base import is_bedside
from proxy.detectors.pii_recognizers import first_names, fold, name_words, strong_surnames, surnames

__all__ = ["ORG_WORDS", "drop_not_data"]

#: Words that make a capitalised run a team, department or organisation, not a person.
ORG_WORDS = frozenset(
    """team teams department dept office committee desk group support services service management operations
    engineering helpdesk relations control administration admin division unit board council centre center staff
    organisers organizers faculty society club association foundation ltd inc llc gmbh plc company corporation
    corp hotel hospital clinic pharmacy university college academy institute trust agency bureau ministry
    authority marketing sales finance accounts payroll procurement facilities logistics development legal
    compliance security resources recruitment reception enquiries inquiries requests receivable payable reservations
    bookings admissions club""".split()
)
_JSON_KEY_RE = re.compile(r'"((?:[^"\\\n]|\\.){1,80})"[ \t]*:')
_LABEL_RE = re.compile(r"(?m)^[ \t]*(\p{L}[\p{L}\p{M}'’-]{0,30})[ \t]*:(?!//)")
#: a place word before a "person" NER found: ``near Marathahalli``, ``out to Whitefield`` is a place
_PLACE_WORD_BEFORE_RE = re.compile(r"(?i:\b(?:in|near|via|around|through|along|across|towards?|outside|out[ \t]+to))[ \t]+(?:the[ \t]+)?$")
_TAG_RE = re.compile(r"\p{L}:\d")
_NAME_MARKS_RE = re.compile(r"[,'’/-]")
_WORD_RE = re.compile(r"[\p{L}\p{M}'’]+")
#: a house number, then a capitalised word: NER's "person" is a street no recognizer knew
_HOUSE_FIRST_RE = re.compile(r"\d{1,5}[A-Za-z]?(?:[/-]\d{1,4}[A-Za-z]?)?,?[ \t]+\p{Lu}")
_NEXT_WORD_RE = re.compile(r"[ \t]+([\p{L}\p{M}]+)")
_VERSION_RE = re.compile(r"(?i:\b(?:version|versions|ver|firmware|release|build|update|upgrad\w*|patch)\b|\bv\d)")
_NETWORK_RE = re.compile(r"(?i:\b(?:ip|ips|ipv4|address|server|host|hosts|network|router|ping|subnet|dns|gateway|vpn|proxy|firewall|login|logged|connect\w*|blocked|whitelist\w*|allowlist\w*)\b)")
_SENTENCE_END_RE = re.compile(r"[.!?\n](?:[ \t]|$)")
_CODE_BEFORE_RE = re.compile(r"\p{L}[\p{L}\d]*-(?:\d+-)?$")
_REFERENCE_BEFORE_RE = re.compile(
    r"(?i:\b(?:order|case|ticket|tracking|reference|ref|invoice|booking|serial|part|item|sku|batch|lot|"
    r"confirmation|reservation|model|version|parcel|shipment|consignment|rma)\b[ \t]*(?:number|no\.?|nr\.?|#|id|code)?"
    r"[ \t]*(?:is|was|:|=)?[ \t]*)$"
)
_PHONE_CUE_RE = re.compile(r"(?i:\b(?:phone|tel|telephone|mobile|cell|call|ring|text|whatsapp|fax|contact)\b)")


def _ranges(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [(m.start(1), m.end(1)) for m in pattern.finditer(text)]


def _inside(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    return any(s <= start and end <= e for s, e in ranges)


def _joined_to_identifier(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return "_" in text[start:end] or before == "_" or after == "_"


def _known_name(value: str, family: frozenset[str] | None = None) -> bool:
    names, family = first_names(), strong_surnames() if family is None else family
    return any(fold(w) in names or fold(w) in family for w in _WORD_RE.findall(value))


def _code(text: str, start: int, end: int) -> bool:
    """Code around the span: ``#VALUE!``, ``VALUE(D2)``, ``node:20.12``, ``OrderService.java``."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before == "#" or after == "(" or _TAG_RE.search(text, start, end):
        return True
    return after == "." and text[end + 1 : end + 2].isalpha() and text[end + 1 : end + 2].islower()  # OrderService.java


def _notice(text: str, r: RecognizerResult) -> bool:
    """A PERSON in capitals on a line all in capitals, with no accent and none of ``, ' / -``."""
    value = text[r.start : r.end]
    if not (value.isupper() and value.isascii()) or _NAME_MARKS_RE.search(value):
        return False
    line_start, line_end = text.rfind("\n", 0, r.start) + 1, text.find("\n", r.end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    return not any(c.islower() for c in line)


_NUMBER_CELL_RE = re.compile(r"[ \t]*,[ \t]*\d|[ \t]+\d")


def _before_a_number(text: str, r: RecognizerResult) -> RecognizerResult | None:
    """A name NER read with the number after it (a CSV row: ``Teodora van der Berg,4``): the words
    before the number, when they are two or more and hold a known first name; else None."""
    cut = _NUMBER_CELL_RE.search(text, r.start, r.end)
    if cut is None:
        return None
    head = text[r.start : cut.start()]
    if len(head.split()) < 2 or any(c.isdigit() for c in head) or not any(fold(w) in first_names() for w in head.split()):
        return None
    return RecognizerResult(r.entity_type, r.start, cut.start(), r.score, analysis_explanation=r.analysis_explanation, recognition_metadata=r.recognition_metadata)


def _team(text: str, r: RecognizerResult) -> bool:
    words = [w.lower() for w in _WORD_RE.findall(text[r.start : r.end])]
    names, words_too = first_names(), name_words()
    if any(fold(w) in names and fold(w) not in words_too for w in words):  # "Ruperto Sales": a person whose surname is a word
        return False
    following = _NEXT_WORD_RE.match(text, r.end)
    return any(w in ORG_WORDS for w in words) or (following is not None and following.group(1).lower() in ORG_WORDS)


def _sentence(text: str, start: int, end: int) -> str:
    ends = [m.end() for m in _SENTENCE_END_RE.finditer(text, 0, start)]
    after = _SENTENCE_END_RE.search(text, end)
    return text[ends[-1] if ends else 0 : after.start() if after else len(text)]


def _version_number(text: str, r: RecognizerResult) -> bool:
    sentence = _sentence(text, r.start, r.end)
    return _VERSION_RE.search(sentence) is not None and _NETWORK_RE.search(sentence) is None


def _reference_number(text: str, r: RecognizerResult) -> bool:
    line_start = text.rfind("\n", 0, r.start) + 1
    before = text[max(line_start, r.start - 40) : r.start]
    if _CODE_BEFORE_RE.search(before):
        return True
    return _REFERENCE_BEFORE_RE.search(before) is not None and _PHONE_CUE_RE.search(before) is None


_LINE_PIECE_RE = re.compile(r"[^\n]+")


def _line_pieces(text: str, r: RecognizerResult) -> list[RecognizerResult]:
    """An NER name or place read across line breaks (``Lee Park`` + ``\nJosé Manuel Ochoa``,
    ``Kenji Watanabe`` + ``\n2-14-7``) as one span per line, each judged on its own."""
    out = []
    for m in _LINE_PIECE_RE.finditer(text, r.start, r.end):
        start, end = m.start(), m.end()
        while start < end and text[start] in " \t,;":
            start += 1
        while end > start and text[end - 1] in " \t,;":
            end -= 1
        if end - start >= 2:
            out.append(RecognizerResult(r.entity_type, start, end, r.score, analysis_explanation=r.analysis_explanation, recognition_metadata=r.recognition_metadata))
    return out


def drop_not_data(text: str, results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """``results`` without the spans that are the message's shape (module docstring)."""
    keys = _ranges(_JSON_KEY_RE, text) if '"' in text else []
    labels = _ranges(_LABEL_RE, text) if ":" in text else []
    out = []
    pieces = [p for r in results for p in (_line_pieces(text, r) if r.entity_type in ("PERSON", "LOCATION") and "\n" in text[r.start : r.end] else [r])]
    for r in pieces:
        kind, value = r.entity_type, text[r.start : r.end]
        if kind in ("PERSON", "LOCATION", "ORGANIZATION", "NRP"):
            if _joined_to_identifier(text, r.start, r.end) or _inside(r.start, r.end, keys):
                continue
            if _inside(r.start, r.end, labels) and not _known_name(value):
                continue
        if kind in ("PERSON", "LOCATION", "ORGANIZATION") and _code(text, r.start, r.end):
            continue
        if kind == "PERSON" and not is_bedside(r) and _notice(text, r) and not _known_name(value, surnames()):
            continue  # "GYM CLOSED", "PLEASE KNOCK": a notice in capitals, no name in it
        if kind == "PERSON" and not is_bedside(r) and _PLACE_WORD_BEFORE_RE.search(text, max(0, r.start - 12), r.start) and not _known_name(value, surnames()):
            r = RecognizerResult("LOCATION", r.start, r.end, r.score, analysis_explanation=r.analysis_explanation, recognition_metadata=r.recognition_metadata)
            kind = "LOCATION"
        if kind == "PERSON" and any(c.isdigit() for c in value):
            named = _before_a_number(text, r)
            if named is not None:
                out.append(named)
                continue
            if _HOUSE_FIRST_RE.match(value) is None:
                continue
            r = RecognizerResult("STREET_ADDRESS", r.start, r.end, r.score, analysis_explanation=r.analysis_explanation, recognition_metadata=r.recognition_metadata)
            kind = "STREET_ADDRESS"  # "12 Office Road" is judged as an address, not as a team
        if kind == "PERSON" and _team(text, r):
            continue
        if kind == "IP_ADDRESS" and "." in value and _version_number(text, r):
            continue
        if kind == "PHONE_NUMBER" and _reference_number(text, r):
            continue
        out.append(r)
    return out

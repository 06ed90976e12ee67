"""``STREET_ADDRESS`` by the shapes streets are written in (:class:`StreetAddressRecognizer`).

Reads the text, returns address spans; no spaCy artefacts needed, no state. The street line is
found by one of these shapes (vocabulary in :mod:`proxy.detectors.pii_address_words`):

* house number + street name + street type (``12 Baker Street``, ``1600 N. Pennsylvania Ave NW``,
  ``691, Srivastava Street``, ``4/12 Station Pde``, ``221B baker st``);
* a street word before the name, the number before or after it (``Via Roma 131``, ``C/ Mayor, 12``,
  ``12, rue de la Paix``, ``ul. Zamkowa 33/4``, ``P.zza Navona 5``), accepted only with a house
  number, a postcode after it, or an address cue before it (``Piazza Navona`` alone is a place);
* a compound or following street type and a number (``Schillerstraße 12a``, ``Kerkstraat 12-2``,
  ``Linden Platz 5``, ``Stensås terrasse 38``), a German prepositional street (``Am Markt 5``);
* post-office boxes in many languages (``PO Box 77``, ``Postfach 12 34 56``, ``Apartado de
  Correos 8``, ``Casella Postale 3``; the short ``BP``, ``C.P.``, ``Box`` only before a postcode),
  military (``PSC 1234, Box 5678 APO AE 09012``), Indian house numbers (``Flat No. 302``,
  ``H.No. 12-3-456``, ``#45, 2nd Cross``), postcode + street + number blocks, ``the corner of X
  and Y``, ``Name 12`` after an address cue, and ``Apt 4B`` / ``Suite 210`` alone.

Each street line is then extended back over a unit before it (``Flat 3, ``) and forward over unit,
floor, care-of, town, state, postcode and country segments (:func:`_extend_tail`). A text typed
all in lower case is read as if each word were capitalised (same offsets), so ``12 mill rd,
leeds ls1 4ap`` is found like ``12 Mill Rd, Leeds LS1 4AP``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_address_words import (
    COMPOUND,
    GERMAN_PREFIX,
    PARTICLE,
    PO_BOX,
    PO_BOX_SHORT,
    POSTCODE,
    PREFIX,
    STRONG_SUFFIX,
    SUFFIX,
    UNIT,
)
from proxy.detectors.pii_recognizer_base import BedsideRecognizer

__all__ = ["StreetAddressRecognizer", "address_cue_before"]

_WORD_CAP = r"\p{Lu}[\p{L}\p{M}'’.-]*"
_WORD_ANY = r"[\p{L}][\p{L}\p{M}'’.-]*"
_NUM = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?){0,3}(?:/[A-Za-z](?![\p{L}]))?"
#: A house number as written before a street: ``12``, ``221B``, ``4/12``, ``28 bis``, ``#45``.
_HOUSE = rf"(?:#[ ]?)?{_NUM}(?:[ \t]+(?i:bis|ter|quater)\b)?"
#: A short house number may be followed by a comma (``12, rue de la Paix``, ``691, Srivastava Street``).
_HOUSE_COMMA = rf"(?:{_HOUSE}|(?:#[ ]?)?\d{{1,4}}[A-Za-z]?(?:[-/]\d{{1,4}})?,)"
_ORDINAL = r"\d{1,3}(?:st|nd|rd|th)"
#: Small words that never start a street name word ("3 dogs on the street" is no address).
_STOP = (
    r"(?!(?i:on|the|in|at|of|to|and|or|a|an|my|your|our|his|her|their|for|with|from|is|are|was|"
    r"were|down|up|across|near|by|more|less|times|minutes|hours|days|weeks|years|per|off|into|onto|"
    r"along|past|through|towards?|around|over|under|behind|beyond|than|if|when|that|this|these|"
    r"those|we|i|you|it|best|top|new|old|most|other|same)\b)"
)
_DIRECTION = r"(?:(?i:[NSEW]|north|south|east|west)\.?[ \t]+)"
_NAME_WORD = rf"(?:{_STOP}{_WORD_CAP}|{_ORDINAL})"
_NAME_WORDS = rf"(?:{PARTICLE}[ \t]*){{0,2}}{_WORD_CAP}(?:[ \t]+(?:{PARTICLE}[ \t]*){{0,2}}{_WORD_CAP}){{0,3}}"
_AFTER_PREFIX = r"(?:(?<=[./])[ \t]*|[ \t]+)"
_NUM_AFTER = rf"(?:,?(?:[ \t]+|[ \t]*\n[ \t]*)(?:(?i:n[ºo°]\.?|no\.|nr\.?)[ \t]*)?{_NUM}(?:[ \t]+(?i:bis|ter)\b)?(?![\p{{L}}\d]))"

#: ``(pattern, score, needs_evidence)``: a match of a ``needs_evidence`` pattern without a digit
#: counts only with a postcode in its tail or an address cue before it.
_STREET_PATTERNS: tuple[tuple[str, float, bool], ...] = (
    # 12 Baker Street / 1600 N. Pennsylvania Ave NW / 691, Srivastava Street / #45, 2nd Cross
    (
        rf"(?<![\w#]){_HOUSE_COMMA}(?:[ \t]+{_NUM})?(?:[ \t]+|[ \t]*\n[ \t]*){_DIRECTION}?"
        rf"(?:(?!{SUFFIX}s?\b){_NAME_WORD}[ \t]+){{0,3}}{_NAME_WORD}[ \t]+{SUFFIX}s?\b\.?"
        r"(?:[ \t]+(?:N|S|E|W|NE|NW|SE|SW)\b)?",
        0.75,
        False,
    ),
    # 221B baker st: lower-case name words before an unmistakable street type
    (
        rf"\b{_HOUSE}[ \t]+(?:{_STOP}{_WORD_ANY}[ \t]+){{0,2}}{_STOP}{_WORD_ANY}[ \t]+{STRONG_SUFFIX}\b\.?",
        0.7,
        False,
    ),
    # Via Roma 131 / C/ Mayor, 12 / 12, rue de la Paix / ul. Zamkowa 33/4 / 20 Rue Eloued
    (rf"\b(?:(?:{_NUM}[ \t]+)?{_HOUSE},?[ \t]+{PREFIX}{_AFTER_PREFIX}{_NAME_WORDS}|{PREFIX}{_AFTER_PREFIX}{_NAME_WORDS}{_NUM_AFTER}?)", 0.7, True),
    # Am Markt 5 / An der Kirche 3a / Laan van Meerdervoort 45
    (rf"\b{GERMAN_PREFIX}[ \t]+{_WORD_CAP}(?:[ \t]+{_WORD_CAP}){{0,2}}[ \t]+{_NUM}\b", 0.65, False),
    # Schillerstraße 12a / Brucker Bundesstrasse 31 / Linden Platz 5 / Stensås terrasse 38 / Kerkstraat 12-III
    (
        rf"\b(?:{_NUM}[ \t]+)?(?:{_WORD_CAP}[ \t]+){{0,2}}(?:\p{{Lu}}[\p{{L}}\p{{M}}'’-]*?{COMPOUND}|(?<=\p{{Lu}}[\p{{L}}\p{{M}}'’.-]*[ \t]){COMPOUND})"
        rf"(?![\p{{L}}])[ \t]*,?[ \t]*{_NUM}(?:-[IVX]{{1,4}}\b)?\b\.?",
        0.7,
        False,
    ),
    # postal code + street + house number: 7878 Rahu 37 / 94941 2505 Heatherleigh
    (rf"\b\d{{3,6}}[ \t]+(?:{_WORD_CAP}[ \t]+){{1,3}}\d{{1,4}}[A-Za-z]?\b", 0.6, False),
    (rf"\b\d{{3,6}}[ \t]+\d{{1,5}}[ \t]+{_WORD_CAP}(?:[ \t]+{_WORD_CAP}){{0,2}}", 0.6, False),
    # India: house number, locality, city and six-digit PIN: 84/699, Loke, Aizawl 476329
    (rf"\b\d{{1,4}}(?:/\d{{1,4}})?,?[ \t\n]+(?:{_WORD_CAP}[ \t]+){{0,3}}{_WORD_CAP},[ \t\n]*{_WORD_CAP}(?:[ \t]+{_WORD_CAP})?[ \t]*[- ]?[ \t]*\d{{3}}[ ]?\d{{3}}\b", 0.7, False),
    # India: Flat No. 302 / H.No. 12-3-456 / Plot 45 / Door No. 4/56 / #45, 2nd Cross
    (
        r"(?:\b(?:Flat|Plot|House|Door|Shop|Site|Villa|Block)[ \t]*(?i:no\.?|#)?|\b(?i:flat|plot|house|h|door|shop|site)[ \t]*\.?[ \t]*(?i:no\.|#))"
        r"[ \t]*\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?){0,3}\b",
        0.7,
        False,
    ),
    (rf"(?<![\w#])#[ ]?\d{{1,4}}[A-Za-z]?(?:[-/]\d{{1,4}})?(?=[ \t]*,[ \t]*{_ORDINAL}[ \t]+\p{{Lu}})", 0.7, False),
    # Portugal and Brazil: a street without number (S/N, sem número)
    (rf"\b{PREFIX}{_AFTER_PREFIX}{_NAME_WORDS},?[ \t]+S/N\b", 0.7, False),
    # military and post-office boxes
    (r"\b(?:PSC|CMR|Unit)\s+\d{3,5},?\s+(?i:box)\s+\d{2,5}(?:\s*\n?\s*(?i:[AFD]PO\s+A[AEP])\s+\d{5})?", 0.8, False),
    (rf"\b(?:USS|USNS|USNV|USCGC)\s+{_WORD_CAP}(?:\s+{_WORD_CAP})?,?\s*\n?\s*[AFD]PO\s+A[AEP]\s+\d{{5}}", 0.8, False),
    (rf"(?<![\w.]){PO_BOX}[ \t]*(?i:no\.?[ \t]*)?\d{{1,6}}(?:[ ]\d{{2,3}}){{0,3}}\b", 0.7, False),
    (rf"\b{PO_BOX_SHORT}[ \t]*\d{{1,6}}(?=[ \t]*[,\n]?[ \t]*(?:{POSTCODE}(?!\d)|(?i:app\.?|bureau|stn|station)\b))", 0.65, False),
    # the corner of X and Y
    (
        r"\b(?i:corner\s+of)\s+(?:the\s+)?(?:[\p{L}\d.'’-]+\s+){0,4}?[\p{Lu}\d][\p{L}\d.'’-]*"
        r"\s+(?:and|&)\s+[\p{Lu}\d][\p{L}\d.'’-]*(?:\s+[\p{Lu}\d][\p{L}\d.'’-]*){0,3}",
        0.65,
        False,
    ),
    # a unit on its own: Apt. 4B, Suite 210, Flat 7
    (r"\b(?:(?i:apt\.?|apartment|suite)|Ste\.|Flat)[ \t]*#?[ \t]*[A-Za-z]?\d{1,5}[A-Za-z]?\b", 0.5, False),
)
#: Patterns that also run on the capitalised copy of a lower-case text.
_LOWER_OK = (0, 2, 4, 7, 9, 11, 14)
#: Address cue words: "Name 12" after one of these is read as a street and number.
_ADDRESS_CUE = (
    r"(?:address(?:\s+is)?|adress|addr\.?|live[sd]?\s+(?:at|on|in)|living\s+(?:at|on)|located\s+(?:at|on)|"
    r"reside[sd]?\s+(?:at|on)|moved\s+to|meet\s+(?:me\s+)?at|stop\s+at|deliver(?:ed)?\s+to|"
    r"ship(?:ped)?\s+to|send\s+(?:it\s+)?to|return\s+(?:it\s+)?to|post\s+(?:it\s+)?to|is\s+on|street:|"
    r"office\s+at|rent\s+(?:a\s+room\s+)?at|staying\s+at|go\s+to)"
)
_CUED_STREET = rf"(?i:{_ADDRESS_CUE})[:\s]+(?P<s>{_NAME_WORDS}[ \t]+{_NUM}\b\.?)"
_CUE_BEFORE_RE = re.compile(rf"(?i:{_ADDRESS_CUE})[:\s]+(?:[^\n.!?]{{0,40}}[,\n][ \t]*)?$")

_SEP = r"(?:[ \t]*[,;\n][ \t>]*|[ \t]+)"
_PLACE_WORD = r"(?:(?:(?i:st|ste|mt|ft|co)\.[ \t]*)?\p{Lu}[\p{L}\p{M}'’-]*(?![\p{L}\p{M}\d])|\d{1,3}(?:st|nd|rd|th)(?=[ \t]+\p{Lu}))"
_PLACE = rf"{_PLACE_WORD}(?:[ \t]+(?:(?i:am|im|an|der|de|la|le|en|sur|upon|on|del|di)[ \t]+)?{_PLACE_WORD}){{0,2}}(?:[ \t]+\d{{1,2}}(?![\d\p{{L}}]))?(?![\p{{L}}\p{{M}}'’-])(?![ \t]*:)"
_UNIT_RE = re.compile(_SEP + UNIT + r"(?![\p{L}\d])\.?")
_POSTCODE_RE = re.compile(rf"(?:{_SEP}|[ \t]*[-–][ \t]*(?=\d)){POSTCODE}(?![\p{{L}}\d])")
_STATE_RE = re.compile(r"[ \t]*,?[ \t]*(?:\p{Lu}{2,3}(?![\p{L}\d])|\(\p{Lu}[\p{L}\p{M}-]+\)|\(\p{Lu}{2}\))")
_PLACE_AFTER_COMMA_RE = re.compile(r"(?:[ \t]*[,\n][ \t>]*|[ \t]{2,})" + _PLACE)
_PLACE_AFTER_CODE_RE = re.compile(r"[ \t]+" + _PLACE)
_UNIT_BEFORE_RE = re.compile(rf"(?:{UNIT}|Level[ \t]+\d{{1,3}})[ \t]*[,/]?[ \t]*$")

_STREET_RES = tuple((re.compile(p), s, e) for p, s, e in _STREET_PATTERNS)
#: The compound-street pattern (index 4) is the costliest; it can only match where a street-type
#: ending is followed by a number, which this finds in one pass.
_COMPOUND_PATTERN = 4
_DIGITS_RE = re.compile(r"(?<!\d)\d")
_WORD_BEFORE_NUMBER_RE = re.compile(r"[\p{L}\p{M}.]+[ \t]*,?[ \t]*$")
_COMPOUND_END_RE = re.compile(rf"{COMPOUND}[ \t]*,?[ \t]*$")


def _compound_hint(text: str) -> bool:
    """Whether a word ending in a compound street type stands right before a number (digit runs are
    few, so looking back from each is cheaper than scanning every word)."""
    for m in _DIGITS_RE.finditer(text):
        w = _WORD_BEFORE_NUMBER_RE.search(text, max(0, m.start() - 40), m.start())
        if w is not None and _COMPOUND_END_RE.search(text, w.start(), m.start()) is not None:
            return True
    return False
_CUED_RE = re.compile(_CUED_STREET)
_MAX_TAIL = 8


#: Up to four short words of any kind (``izq.``, ``1.º Dto``, ``boise id``, ``Col. Actipan``) on the
#: same line, then a postcode: the words are the address's too, whatever they are.
_SKIP_TO_POSTCODE_RE = re.compile(
    rf"(?:[ \t]*[,;]?[ \t]*[\p{{L}}\d][\p{{L}}\p{{M}}\d.ºª°'’/-]{{0,12}}){{1,4}}?(?:{_SEP}|[ \t]*[-–][ \t]*(?=\d)){POSTCODE}(?![\p{{L}}\d])"
)


def _extend_tail(text: str, end: int) -> tuple[int, bool]:
    """Extend an address match over unit, town, state, postcode and country segments; also say
    whether a postcode was among them. Words no segment knows are taken when a postcode follows
    them within four words on the line (``_SKIP_TO_POSTCODE_RE``)."""
    postcode = False
    after_code = end >= 4 and text[end - 4 : end].isdigit()  # "Rue X, 75001" read the postcode as a number
    for _ in range(_MAX_TAIL):
        m = _POSTCODE_RE.match(text, end) or _UNIT_RE.match(text, end) or _PLACE_AFTER_COMMA_RE.match(text, end) or _STATE_RE.match(text, end)
        if m is None and after_code:
            m = _PLACE_AFTER_CODE_RE.match(text, end)
        if m is None and not postcode:
            skipped = _SKIP_TO_POSTCODE_RE.match(text, end)
            if skipped is not None:
                postcode = after_code = True
                end = skipped.end()
                continue
        if m is None or m.end() <= end:
            break
        after_code = m.re is _POSTCODE_RE
        postcode = postcode or after_code
        end = m.end()
    return end, postcode


def _extend_head(text: str, start: int) -> int:
    """Extend an address match back over a unit written before the street (``Flat 3, ``, ``Unit 4/``)."""
    m = _UNIT_BEFORE_RE.search(text, max(0, start - 30), start)
    return m.start() if m is not None and m.end() == start else start


def address_cue_before(text: str, start: int) -> bool:
    """Whether an address cue (``lives on``, ``address:``, ``ship to`` ...) comes shortly before ``start``."""
    return _CUE_BEFORE_RE.search(text, max(0, start - 80), start) is not None


def _capitalised(text: str) -> str:
    """``text`` with the first letter of each word upper-cased, offsets unchanged."""
    out = list(text)
    prev = " "
    for i, ch in enumerate(text):
        if not (prev.isalpha() or prev in "'’") and ch.isalpha():
            up = ch.upper()
            if len(up) == 1:
                out[i] = up
        prev = ch
    return "".join(out)


#: A street no vocabulary knows, held by what follows it: ``Bygaden 7, 6430 Nordborg`` (a
#: capitalised name of one or two words and a house number) or ``3 venelle du Moulin, 29890 Kerlouan`` (a number and
#: words), then a comma, a postcode and a capitalised town that ends its clause, or after an
#: address cue ("Windows 10, 2004 Update broke" is no address).
_HELD_CODE = r"(?:\d{4}[ ]?[A-Z]{2}(?![\p{L}])|\d{3}[ ]\d{2}|\d{2}-\d{3}|\d{4}-\d{3}|\d{4,5})"
_HELD_TOWN = r"[ \t]+(?P<town>\p{Lu}[\p{L}\p{M}'’-]+)(?![\p{L}\p{M}])"
_HELD_RE = re.compile(
    rf"(?<![\p{{L}}\d])(?:\p{{Lu}}[\p{{L}}\p{{M}}'’-]{{2,}}(?:[ \t]+[\p{{L}}\p{{M}}'’.-]+)?[ \t]+\d{{1,4}}[A-Za-z]?(?:[-/]\d{{1,4}})?"
    rf"|\d{{1,4}}[A-Za-z]?,?[ \t]+\p{{L}}[\p{{L}}\p{{M}}'’-]*(?:[ \t]+[\p{{L}}\p{{M}}'’-]+){{0,4}}?)"
    rf",[ \t]*(?P<code>{_HELD_CODE}){_HELD_TOWN}"
)
_CLAUSE_END_RE = re.compile(r"[ \t]*(?:[,.;:!?()\n]|$|(?i:and|but|or|so|which|where|if|please|pls|thanks|instead|now)\b)")


def _held(read: str) -> list[tuple[int, int]]:
    """Spans of :data:`_HELD_RE` whose town ends its clause (``..., 6430 Nordborg and ...``) or
    that an address cue leads to: ``Lot 12, 4500 Units in total`` is no address."""
    return [(m.start(), m.end()) for m in _HELD_RE.finditer(read) if _CLAUSE_END_RE.match(read, m.end()) or address_cue_before(read, m.start())]


class StreetAddressRecognizer(BedsideRecognizer):
    """Finds ``STREET_ADDRESS`` spans by the shapes streets are written in (see module docstring)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["STREET_ADDRESS"], name="BedsideStreetAddress")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return address spans; overlapping matches are merged later by the engine."""
        if "STREET_ADDRESS" not in entities:
            return []
        out: list[RecognizerResult] = []
        self._shapes(text, out, range(len(_STREET_RES)))
        read = text
        if not any(c.isupper() for c in text):  # typed in lower case: also read it capitalised
            read = _capitalised(text)
            self._shapes(read, out, _LOWER_OK)
        for m in _CUED_RE.finditer(text):
            out.append(self._result("STREET_ADDRESS", m.start("s"), _extend_tail(text, m.end("s"))[0], 0.6))
        for start, end in _held(read):
            out.append(self._result("STREET_ADDRESS", start, _extend_tail(text, end)[0], 0.6))
        return out

    def _shapes(self, read: str, out: list[RecognizerResult], which: Iterable[int]) -> None:
        """Append the matches of the patterns numbered ``which`` in ``read``, head and tail extended."""
        for i in which:
            if i == _COMPOUND_PATTERN and not _compound_hint(read):
                continue
            rx, score, needs_evidence = _STREET_RES[i]
            for m in rx.finditer(read):
                start, end = m.span()
                while end > start and read[end - 1] in " ,\n":
                    end -= 1
                tail, postcode = _extend_tail(read, end)
                if needs_evidence and not any(c.isdigit() for c in read[start:end]) and not postcode:
                    if not address_cue_before(read, start):
                        continue
                out.append(self._result("STREET_ADDRESS", _extend_head(read, start), tail, score))

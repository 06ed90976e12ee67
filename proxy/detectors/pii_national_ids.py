"""``NATIONAL_ID``: identity, tax, social-security and health numbers of any country, and the
numbers of identity documents.

Found where a value of identifier shape (at least six digits, or four digits among letters)
stands:

* **after its name**: close after one of the ~270 names in ``data/national_id_labels.txt``
  (``PESEL``, ``Henkilötunnus``, ``NI number``, ``"aadhaar":``, ``passport no.``, ``身份证号``), in
  any language the list holds, with a few filler words between; a long one-word name may be
  inflected (``Fødselsnummeret``), and in a script written without spaces a name needs no word
  boundary;
* **answering a name**: alone on its line (after a speaker label and at most three words) when
  the line before names the number anywhere, as when an agent asks and the caller types it;
* **a few words after its name**: at most eight words later in the same sentence (scored below a
  phone reading of the same digits);
* **by format**: a number whose format and check hold (:mod:`proxy.detectors.pii_national_formats`:
  a Spanish DNI, a Brazilian CPF, a Chinese resident number ...), wherever it stands.

Not when a business word labels it (``order ID number``, ``company tax number``; ``Customer:``
alone is a speaker), nor digits a documentation example is made of (``000-00-0000``). A valid US
Social Security number after its own names (``SSN``, ``social security number``) keeps its own
entity, ``US_SSN``; Presidio's country recognizers (``UK_NHS``, ``US_PASSPORT`` ...) stay
available under their own names.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_national_formats import find_formatted
from proxy.detectors.pii_recognizer_base import BedsideRecognizer
from proxy.detectors.pii_recognizers import data_lines
from proxy.detectors.structured_pii import SSN_AREA, SSN_GROUP, SSN_SERIAL

__all__ = ["NATIONAL_ID", "NationalIdRecognizer", "national_id_spans"]

NATIONAL_ID = "NATIONAL_ID"
#: score of a value after its name (or answering a line that names it), of a number by its
#: validated format, and of a value a few words after its name in one sentence (below a phone
#: reading's 0.6: a phone number a sentence about a passport gives is still a phone number)
_CUED_SCORE, _FORMAT_SCORE, _LOOSE_SCORE = 0.85, 0.8, 0.55

#: a word right before the name that makes the number a business's or a thing's, not a person's
_BUSINESS = (
    r"order|booking|ticket|case|membership|transaction|tracking|"
    r"reference|ref|account|session|device|product|invoice|shipment|parcel|package|company|companies|business|"
    r"corporate|vat|employer|supplier|vendor|merchant|seller|firm|organisation|organization|charity|store|shop|"
    r"request|claim|policy|serial|item|part|batch|build|job|task|issue|bug|event|file|document|message|record|"
    r"vehicle|car|engine|chassis|model|software|licence|license|registration"
)
#: people whose numbers a business gives (``customer ID``, ``member no.``): a business's only with
#: such a word after them (``Customer:`` alone is a speaker in a transcript)
_PEOPLE_IDS = r"customer|client|member|employee|staff|student|user|patient"
#: what may stand between the name and the value: punctuation, a few filler words, or a line break
#: with a short speaker label (a transcript's answer on the next line)
_GAP = (
    r"(?:[^\S\n]|[\"'`:=#(),.?!\-–—_/*：，、。（）「」]|\n(?:[^\n:：]{1,25}[:：])?|"
    r"(?<![\p{L}])(?:is|was|are|no|nr|num|number|nummer|numer|numero|número|n°|nº|my|the|card|here|it|it's|its|please|confirm|on|"
    r"your|of|as|es|est|är|er|ist|é|è|lautet|de|do|da|mi|mon|ma|il|il mio|o|a|e|el|la|le|der|die|das|het|mijn|mitt|min|"
    r"to|mój|moje|meu|minha|mín|minn|μου|το|είναι|是|为|為|は|です)(?![\p{L}])){0,14}?"
)
#: an identifier-shaped value: groups of letters and digits joined by single separators; a space
#: joins digit groups only (and the one letter that ends a UK National Insurance number, whose
#: spaced form with its two leading letters is found by its format)
_VALUE = (
    r"(?<![\p{L}\p{N}@])"
    r"(?P<v>[\p{L}\p{N}]*\d[\p{L}\p{N}]*"
    r"(?:(?:[./-]|[ ](?=\d))[\p{L}\p{N}]+){0,7}(?:\([0-9A-Z]\)|[ ][A-D](?![\p{L}\p{N}]))?)"
    r"(?![\p{L}\p{N}@]|[.,/-][\p{L}\p{N}])"
)
#: a valid US Social Security number: ``US_SSN``'s recognizers name it, after its cue or not
_US_SSN = re.compile(rf"{SSN_AREA}(?P<sep>[- ]?){SSN_GROUP}(?P=sep){SSN_SERIAL}")
_US_CUE = re.compile(r"(?i:ssn|itin|social)")
#: scripts written without spaces between words: a name there needs no word boundary
_UNSPACED = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}]"
_FOLLOWERS = r"[\"'_]?[^\S\n]*(?::|#|=|(?:is|no|nr|number|num)(?![\p{L}]))"


@lru_cache(maxsize=2)
def _names(lower_short: bool = True) -> str:
    """One alternation of every name of the list (group ``c``). Short names (flagged ``*``) need
    capitals or a following ``is``/``:``/``no``; a one-word name of six letters or more may carry an
    inflection (``Fødselsnummeret``, ``PESELu``). ``lower_short``: a short name in lower case
    followed by ``is`` counts too (not where the value may stand words away: ``the pan is hot``)."""
    plain: list[tuple[str, str]] = []
    short: list[tuple[str, str]] = []
    for line in data_lines("national_id_labels.txt"):
        name, flagged, _ = line.partition(" *")
        body = r"[\s_.\-]{0,2}".join(re.escape(w) for w in name.split())
        if not flagged and " " not in name and len(name) >= 6:
            body += r"\p{Ll}{0,4}"
        (short if flagged else plain).append((name, body))
    plain_alt = "|".join(b for _, b in sorted(plain, key=lambda nb: -len(nb[0])))
    short_caps = "|".join(re.escape(n.upper()) for n, _ in short)
    short_any = "|".join(b for _, b in short)
    lower = rf"|(?i:{short_any})(?={_FOLLOWERS})" if lower_short else ""
    return rf"(?:(?<![\p{{L}}\p{{N}}])|(?<={_UNSPACED}))(?P<c>(?i:{plain_alt})|(?-i:{short_caps})(?![\p{{Ll}}]){lower})(?:(?![\p{{L}}])|(?={_UNSPACED}))"


@lru_cache(maxsize=1)
def _cue_before() -> re.Pattern[str]:
    """A name and the gap after it, ending where a value starts (tried backwards from each value:
    values are few, so the ~270 names are tried at few places)."""
    return re.compile(_names() + _GAP + r"\Z")


@lru_cache(maxsize=1)
def _name_anywhere() -> re.Pattern[str]:
    return re.compile(_names(lower_short=False))


_VALUE_RE = re.compile(_VALUE)
_DIGIT = re.compile(r"\d")
#: how far before a value its name may start (the longest name and gap fit)
_LOOK_BACK = 120
_WORD = re.compile(r"[^\W\d_]+")
_UNSPACED_SCRIPT = re.compile(_UNSPACED)


@lru_cache(maxsize=1)
def _first_words() -> frozenset[str]:
    """The first word of every name, case-folded: the names' pattern is tried only at these words."""
    return frozenset(m.group().casefold() for line in data_lines("national_id_labels.txt") if (m := _WORD.search(line)))


def _name_in(text: str, lo: int, hi: int, names: re.Pattern[str]) -> re.Match[str] | None:
    """``names`` matched in ``text[lo:hi]``, tried only where a word is some name's first word
    (searched whole in a script written without spaces)."""
    if _UNSPACED_SCRIPT.search(text, lo, hi):
        return names.search(text, lo, hi)
    firsts = _first_words()
    for word in _WORD.finditer(text, lo, hi):
        w = word.group().casefold()
        # a one-word name of six letters or more may be inflected (kennitalan, Fødselsnummeret)
        if (w in firsts or any(w[:-k] in firsts for k in range(1, 5) if len(w) - k >= 6)) and (found := names.match(text, word.start(), hi)):
            return found
    return None


def _name_before(text: str, start: int) -> re.Match[str] | None:
    """A name and the gap after it, ending at ``start`` (within ``_LOOK_BACK`` characters)."""
    return _name_in(text, max(0, start - _LOOK_BACK), start, _cue_before())


_LABEL = re.compile(r"[^\S\n]*[^\n:：]{1,25}[:：]")
#: a sentence ends at a line break, or a full stop before a capital (not ``PPS no. for ...``)
_SENTENCE_END = re.compile(r"[.!?](?=\s+[\p{Lu}\p{Lo}])|[。！？]|\n")


def _answer_to_a_name(text: str, start: int) -> re.Match[str] | None:
    """Whether the value at ``start`` answers a line that names the number: it stands on its own
    line (after a speaker label and at most three words: ``Caller: Yes... 21109082608``) and the
    line before names it anywhere (``Agent: ... número de contribuinte, para a fatura?``)."""
    line = text.rfind("\n", 0, start) + 1
    if line == 0:
        return None
    label = _LABEL.match(text, line, start)
    head = text[label.end() if label else line : start]
    if len(_WORD.findall(head)) > 3:
        return None
    previous = text.rfind("\n", 0, line - 1) + 1
    return _name_in(text, previous, line - 1, _name_anywhere())


def _named_earlier_in_sentence(text: str, start: int) -> re.Match[str] | None:
    """Whether a name stands earlier in the value's sentence, at most eight words before it
    (``BSN invullen, is het 749157549``)."""
    lo = max(0, start - _LOOK_BACK)
    ends = list(_SENTENCE_END.finditer(text, lo, start))
    lo = ends[-1].end() if ends else lo
    name = _name_in(text, lo, start, _name_anywhere())
    return name if name is not None and len(_WORD.findall(text, name.end(), start)) <= 8 else None


_ASCENDING, _DESCENDING = "01234567890123456789", "98765432109876543210"


def _placeholder(value: str) -> bool:
    """Digits a documentation example is made of: one digit repeated (``000-00-0000``) or a run
    (``12 34 56``, ``987654321``)."""
    digits = "".join(c for c in value if c.isdigit())
    return (len(digits) >= 4 and len(set(digits)) == 1) or (len(digits) >= 6 and (digits in _ASCENDING or digits in _DESCENDING))


def _identifier_like(value: str) -> bool:
    """At least six digits, or four among letters; not longer than any scheme's number."""
    digits = sum(c.isdigit() for c in value)
    letters = sum(c.isalpha() for c in value)
    if len(value) > 32:
        return False
    return digits >= 6 or (digits >= 4 and letters >= 1 and len(value) >= 7)


@lru_cache(maxsize=1)
def _business_before() -> re.Pattern[str]:
    id_word = r"[\s_.\-]{1,2}(?i:id|no|nr|number|num|code|ref)\.?"
    return re.compile(
        rf"(?i:\b(?:(?:{_BUSINESS})\.?(?:{id_word})?|(?:{_PEOPLE_IDS}){id_word}))[^\S\n]*[:#=]?[^\S\n]*\Z"
    )


def national_id_spans(text: str) -> list[tuple[int, int, float]]:
    """``(start, end, score)`` of every national number in ``text``: after its name, or by its format
    (unless a business word labels it: ``order #4821 7306 9159``). Both are looked for only where a
    value of identifier shape stands (a format's two leading letters, ``AB 12 34 56 C``, included)."""
    if not _DIGIT.search(text):
        return []
    business = _business_before()
    found: set[tuple[int, int, float]] = set()
    for m in _VALUE_RE.finditer(text):
        value = m.group("v")
        if sum(c.isdigit() for c in value) < 4 or _placeholder(value):
            continue
        for s, e, _ in find_formatted(text, max(0, m.start() - 3), m.end()):
            if not business.search(text, max(0, s - 40), s):
                found.add((s, e, _FORMAT_SCORE))
        if not _identifier_like(value):
            continue
        score, cue = _CUED_SCORE, _name_before(text, m.start())
        if cue is not None and business.search(text, max(0, cue.start() - 40), cue.start()):
            continue
        if cue is None and not business.search(text, max(0, m.start() - 40), m.start()):
            cue = _answer_to_a_name(text, m.start())
            if cue is None and sum(c.isdigit() for c in value) >= 6:
                score, cue = _LOOSE_SCORE, _named_earlier_in_sentence(text, m.start())
        if cue is not None and not (_US_CUE.match(cue.group("c")) and _US_SSN.fullmatch(value)):
            found.add((m.start("v"), m.end("v"), score))
    return sorted(found)


class NationalIdRecognizer(BedsideRecognizer):
    """``NATIONAL_ID`` after its name or by its validated format (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=[NATIONAL_ID], name="BedsideNationalId")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return national-number spans."""
        if NATIONAL_ID not in entities:
            return []
        return [self._result(NATIONAL_ID, s, e, score) for s, e, score in national_id_spans(text)]

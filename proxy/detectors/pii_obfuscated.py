"""Personal data written to slip past pattern recognizers: spaced digits, spoken e-mails, split cards.

Normalisation (:mod:`proxy.detectors.normalise`) already undoes zero-width characters, fullwidth
forms and ``%40``; what it cannot undo is handled here:

* :class:`SpacedDigitsRecognizer`: digits grouped oddly or one by one (``4 1 5 5 5 5 0 1 9 9``,
  ``41-1111-1111-1111-11``): a Luhn-valid 13-19 digit run is a ``CREDIT_CARD``; 10 digits (11 with a
  leading 1, or 10-15 after ``+``) written with three or more separators are a ``PHONE_NUMBER``.
* :class:`SpokenEmailRecognizer`: ``john dot doe at example dot com``, ``ann (at) example (dot) org``
  (a known top-level domain at the end, a spoken or bracketed ``at``/``dot`` somewhere).
* :class:`EmbeddedEmailRecognizer`: an address inside a URL or a file name
  (``https://x.example/a?owner=ann@example.com``, ``ann@example.com.pdf``), where Presidio's
  recognizer finds a URL instead.
* :func:`numbers_split_across`: a card number whose digits end one message and begin the next
  (``my card is 4111 1111`` / ``1111 1111``), found on the boundary between consecutive texts.
"""

from __future__ import annotations

from typing import Any

import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult

from proxy.detectors.pii_recognizer_base import BEDSIDE_SOURCE
from proxy.detectors.pii_split import numbers_split_across
from proxy.detectors.structured_pii import EMAIL_BODY, luhn_valid

__all__ = ["EmbeddedEmailRecognizer", "SpacedDigitsRecognizer", "SpokenEmailRecognizer", "luhn_valid", "numbers_split_across"]



def _result(recognizer: str, entity: str, start: int, end: int, score: float) -> RecognizerResult:
    meta = {RecognizerResult.RECOGNIZER_NAME_KEY: recognizer, "source": BEDSIDE_SOURCE}
    return RecognizerResult(entity, start, end, score, recognition_metadata=meta)


_SPACED = re.compile(r"(?<![\w+])(?P<plus>\+[ ]?)?\d(?:[ .\-/]{1,2}\d|\d){9,18}(?!\w)")


def _classify_digits(plus: bool, digits: str, separators: int) -> tuple[str, float] | None:
    if 13 <= len(digits) <= 19 and luhn_valid(digits):
        return "CREDIT_CARD", 0.65
    if separators >= 3 and (len(digits) == 10 or (len(digits) == 11 and digits[0] == "1") or (plus and 10 <= len(digits) <= 15)):
        return "PHONE_NUMBER", 0.55
    return None


class SpacedDigitsRecognizer(EntityRecognizer):
    """Cards and phones written with odd or one-digit grouping (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["CREDIT_CARD", "PHONE_NUMBER"], name="BedsideSpacedDigits")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return card and phone spans written with unusual digit grouping."""
        out = []
        for m in _SPACED.finditer(text):
            raw = m.group()
            digits = "".join(c for c in raw if c.isdigit())
            separators = sum(1 for c in raw.lstrip("+ ") if not c.isdigit())
            found = _classify_digits(bool(m.group("plus")), digits, separators)
            if found is not None and found[0] in entities:
                out.append(_result("BedsideSpacedDigits", found[0], m.start(), m.end(), found[1]))
        return out


_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|co|ai|app|dev|me|us|uk|ie|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|"
    "cz|gr|hu|ro|ca|au|nz|in|jp|cn|br|mx|za|eu|email|online|site|xyz"
)
_AT = r"(?:\s*[(\[{<]\s*at\s*[)\]}>]\s*|\s+at\s+|\s*@\s*)"
_DOT = r"(?:\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+|\s*\.\s*)"
_LOCAL_JOIN = r"(?:\s*[(\[{<]\s*(?:dot|underscore|dash|hyphen)\s*[)\]}>]\s*|\s+(?:dot|underscore|dash|hyphen)\s+|[._+\-])"
_SPOKEN_EMAIL = re.compile(
    rf"(?i)(?<![\w.@])(?P<local>[a-z0-9]+(?:{_LOCAL_JOIN}[a-z0-9]+)*){_AT}"
    rf"(?P<domain>[a-z0-9][a-z0-9\-]*(?:{_DOT}[a-z0-9][a-z0-9\-]*)*{_DOT}(?:{_TLDS}))(?![\w])"
)
_SPOKEN_WORD = re.compile(r"(?i)(?:[(\[{<]\s*(?:at|dot)\s*[)\]}>]|\s(?:at|dot|underscore|dash|hyphen)\s)")
#: Words that stand before "at" in ordinary sentences ("look at example.com", "meet me at home dot ...").
_NOT_LOCAL = frozenset(
    """a an the me us you him her them it this that look looking looked arrive arrived arriving stay
    staying stayed meet meeting be is are was were am pm here there home work office get got find
    found see seen available online reach reached click go went visit visited sign signed log
    logged me email mail write contact""".split()
)


class SpokenEmailRecognizer(EntityRecognizer):
    """E-mail addresses spelled out: ``john dot doe at example dot com`` (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["EMAIL_ADDRESS"], name="BedsideSpokenEmail")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return spelled-out e-mail spans."""
        if "EMAIL_ADDRESS" not in entities or not _SPOKEN_WORD.search(text):
            return []
        out = []
        for m in _SPOKEN_EMAIL.finditer(text):
            if not _SPOKEN_WORD.search(m.group()):
                continue  # a plain address: Presidio's own recognizer has it
            local = m.group("local")
            if local.casefold() in _NOT_LOCAL:
                continue
            out.append(_result("BedsideSpokenEmail", "EMAIL_ADDRESS", m.start(), m.end(), 0.6))
        return out


#: The shared address shape with ASCII-only boundaries: an address may touch any other character.
_EMBEDDED_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])" + EMAIL_BODY + r"(?![A-Za-z0-9-])")


class EmbeddedEmailRecognizer(EntityRecognizer):
    """E-mail addresses run together with what surrounds them (URLs, file names, ``key=value``)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["EMAIL_ADDRESS"], name="BedsideEmbeddedEmail")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return address-shaped spans wherever they stand."""
        if "EMAIL_ADDRESS" not in entities or "@" not in text:
            return []
        return [_result("BedsideEmbeddedEmail", "EMAIL_ADDRESS", m.start(), m.end(), 0.9) for m in _EMBEDDED_EMAIL.finditer(text)]

"""Numbers after a cue: ``PHONE_NUMBER`` by shape, ``US_SSN`` and ``CREDIT_CARD`` after their words.

Recall-oriented companions of Presidio's validated recognizers for the request side: they accept
shapes that only a context word makes personal data (a local phone number after ``call``, an SSN
without dashes after ``SSN``, a mistyped card number after ``card``). The SSN rules come from
:mod:`proxy.detectors.structured_pii`, the one definition of structured PII.
"""

from __future__ import annotations

from typing import Any

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_recognizer_base import BedsideRecognizer
from proxy.detectors.structured_pii import SSN_AREA, SSN_GROUP, SSN_SERIAL, luhn_valid

__all__ = ["CardNumberRecognizer", "PhoneShapeRecognizer", "SsnCueRecognizer"]

_EXT = r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?"
#: A phone number ends where no digit group continues it: not before a digit, ``-5`` or ``.5`` (so
#: ``+1 415 555 0100 10.0.0.7`` stops before the IP address instead of eating its first group).
_PHONE_END = r"(?!\d)(?![-.]\d)"
_PHONE_STRONG = (
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|\(\d{3}\)[ ]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4}"
    r"|0\d{1,4}(?:[ .-]\d{2,8}){1,4})" + _EXT + _PHONE_END
)
_PHONE_NUMBER = r"(?P<p>\+?(?:\d{1,3}[ ]?(?=\())?(?:\(\d{1,4}\)[ .-]?)?\d{2,12}(?:[ .-]\d{2,8}){0,4}" + _EXT + ")" + _PHONE_END
_PHONE_CUED = (
    r"(?i:phone|tel|telephone|mobile|cell|cellphone|call|ring|text|sms|whatsapp|fax|reach|contact|"
    r"dial|answering|messages|registered|number|no\.)(?:[^\n\d]{0,25}?)[:\s]*" + _PHONE_NUMBER
)
#: phone words of other languages and scripts (2026-12-07): whole words where they are also parts
#: of other words; a script written without spaces needs no boundary. Tried only when a text holds
#: one (a word-set test): tried at every character they doubled the recognizer's cost
_ABROAD_WORDS = frozenset(
    """handy mobil mobiel móvil movil celular cel cellulare telefono teléfono telefone telefon tlf tlph puhelin gsm portable
    portátil hp mob ph τηλ τηλέφωνο κινητό тел телефон мобильный моб טלפון נייד هاتف جوال""".split()
)
_ABROAD_UNSPACED = ("手机", "手機", "手提", "电话", "電話", "携帯", "전화", "휴대폰", "핸드폰", "โทร", "เบอร์", "الجوال", "الهاتف", "موبايل", "फोन", "मोबाइल")
_PHONE_WORDS_ABROAD = (
    r"(?<![\p{L}])(?i:" + "|".join(sorted(_ABROAD_WORDS, key=len, reverse=True)) + r")(?![\p{L}])|" + "|".join(_ABROAD_UNSPACED)
)
_PHONE_CUED_ABROAD = r"(?:" + _PHONE_WORDS_ABROAD + r")(?:[^\n\d]{0,25}?)[:\s：]*" + _PHONE_NUMBER
def _whole_word_in(word: str, folded: str) -> bool:
    """Whether ``word`` stands in ``folded`` with no letter either side (``mobil``, not ``mobile``)."""
    i = folded.find(word)
    while i != -1:
        j = i + len(word)
        if (i == 0 or not folded[i - 1].isalpha()) and (j == len(folded) or not folded[j].isalpha()):
            return True
        i = folded.find(word, i + 1)
    return False


def _phone_word_abroad_in(text: str) -> bool:
    """Whether ``text`` may hold a phone word of another language (a superset: the pattern decides)."""
    if any(w in text for w in _ABROAD_UNSPACED):
        return True
    folded = text.casefold()
    return any(_whole_word_in(w, folded) for w in _ABROAD_WORDS if w in folded)


#: A number followed by what kind of line it is: ``085 175 7641-Office``, ``28-64-66-98 fax``.
_PHONE_LABELLED = (
    r"(?<![\w+])(?P<p>\+?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}" + _EXT + ")"
    r"[ -]?(?i:office|fax|mobile|cell|home|work|desk)\b"
)
_PHONE_STRONG_RE = re.compile(_PHONE_STRONG)
_DATE_RE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")
_PHONE_CUED_RE = re.compile(_PHONE_CUED)
_PHONE_CUED_ABROAD_RE = re.compile(_PHONE_CUED_ABROAD)
_PHONE_LABELLED_RE = re.compile(_PHONE_LABELLED)
#: a number answering a line that asks for a phone (a transcript): after a speaker label and at most
#: three words on its own line (``Clerk: And a phone number ...?`` / ``Guest: 514 892-3301.``)
_PHONE_ANSWER_RE = re.compile(
    r"(?:(?i:phone|mobile|cell|whatsapp|telephone)|" + _PHONE_WORDS_ABROAD + r")[^\n]*\n[^\S\n]*(?:[^\n:：]{1,25}[:：])?[^\S\n]*"
    r"(?:[^\W\d_]+[^\S\n]*[,.…]*[^\S\n]*){0,3}"
    r"(?P<p>\+?(?:\(\d{1,4}\)[ .-]?)?\d{2,12}(?:[ .-]\d{2,8}){0,4})" + _PHONE_END
)


class PhoneShapeRecognizer(BedsideRecognizer):
    """``PHONE_NUMBER`` by shape, for numbers libphonenumber rejects (555 numbers, local formats).

    Presidio's own recognizer scores 0.4 and relies on spaCy lemmas for its context boost, so with
    no NLP engine phones fall under the usual threshold. This one needs no artefacts: ``+``
    international, ``(555) 010-4477`` and ``555-010-4477`` shapes on their own; other digit groups
    (``78 651 450``) only after a phone cue word.
    """

    def __init__(self) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], name="BedsidePhone")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return phone spans with at least 7 digits."""
        if "PHONE_NUMBER" not in entities:
            return []
        out = []
        for m in _PHONE_STRONG_RE.finditer(text):
            if sum(c.isdigit() for c in m.group()) >= 7 and not _DATE_RE.fullmatch(m.group()):
                out.append(self._result("PHONE_NUMBER", m.start(), m.end(), 0.6))
        cued = (_PHONE_CUED_RE, _PHONE_LABELLED_RE, _PHONE_ANSWER_RE)
        for rx in (*cued, _PHONE_CUED_ABROAD_RE) if _phone_word_abroad_in(text) else cued:
            for m in rx.finditer(text):
                if 7 <= sum(c.isdigit() for c in m.group("p")) <= 15:
                    out.append(self._result("PHONE_NUMBER", m.start("p"), m.end("p"), 0.6))
        return out


_SSN_RE = re.compile(
    r"(?i:ssn|ss\#|social[ \t]+security(?:[ \t]+(?:number|no\.?|#))?)[^\n\d]{0,20}?"
    rf"(?P<s>(?<!\d){SSN_AREA}(?P<sep>[- ]?){SSN_GROUP}(?P=sep){SSN_SERIAL}(?!\d))"
)


class SsnCueRecognizer(BedsideRecognizer):
    """``US_SSN`` after an SSN cue word, in any of the usual separators (Presidio scores the
    undashed forms 0.05 and relies on spaCy lemmas for its context boost)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["US_SSN"], name="BedsideSsn")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return SSN spans that follow an SSN cue."""
        if "US_SSN" not in entities:
            return []
        return [self._result("US_SSN", m.start("s"), m.end("s"), 0.7) for m in _SSN_RE.finditer(text)]


_CARD_CUE = r"(?i:card|cc|credit|debit|visa|mastercard|amex|maestro|discover)"
_CARD_RE = re.compile(_CARD_CUE + r"[^\n\d]{0,30}?(?P<c>(?<!\d)\d{4}(?:[ -]?\d{2,4}){2,4}(?!\d))")
#: a number in the four-digit groups cards are printed in, Luhn-valid, wherever it stands: Presidio's
#: recognizer needs a word boundary, which a particle of a script without spaces takes away
#: (``4002 1765 3829 1046이요``, ``卡号4002176538291046。``)
_CARD_GROUPS_RE = re.compile(r"(?<![\d\p{Latin}])(?P<c>\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7})(?!\d)")


class CardNumberRecognizer(BedsideRecognizer):
    """``CREDIT_CARD``: 12-19 digits after a card word, even when the Luhn check fails.

    Presidio only accepts numbers with a valid checksum; a mistyped card number is still a card
    number a user would not want sent upstream.
    """

    def __init__(self) -> None:
        super().__init__(supported_entities=["CREDIT_CARD"], name="BedsideCardNumber")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return card-number spans that follow a card cue word."""
        if "CREDIT_CARD" not in entities:
            return []
        out = []
        for m in _CARD_RE.finditer(text):
            if 12 <= sum(c.isdigit() for c in m.group("c")) <= 19:
                out.append(self._result("CREDIT_CARD", m.start("c"), m.end("c"), 0.6))
        for m in _CARD_GROUPS_RE.finditer(text):
            digits = "".join(c for c in m.group("c") if c.isdigit())
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                out.append(self._result("CREDIT_CARD", m.start("c"), m.end("c"), 0.6))
        return out

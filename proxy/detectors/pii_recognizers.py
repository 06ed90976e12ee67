"""Bedside's own Presidio recognizers: better PERSON recall here; addresses and cued numbers in
:mod:`proxy.detectors.pii_addresses` and :mod:`proxy.detectors.pii_numbers` (re-exported).

No stock Presidio recognizer or small spaCy model finds street addresses, and the small model misses
a third of person names (single first names, lower-case names, names at the top of a signature).
These recognizers are plain regular expressions over *shapes* of how addresses and names are
written, never lists of specific sentences:

* :class:`StreetAddressRecognizer` -- house number + street name + suffix (``12 Baker Street``),
  continental forms (``Parijsstraat 8``, ``Via Roma 131``, ``ul. Zamkowa 33``, ``20 Rue X``),
  postal-code + street + number blocks, military (``PSC 1234, Box 5678 APO AE 09012``) and PO
  boxes, each extended over a unit (``Apt. 4``), city, state, postcode and country tail.
* :class:`PersonHeuristicRecognizer` -- names after strong cues (``my name is``, ``Mr.``,
  ``Dear``, ``Regards,``), a first-name gazetteer (US Census 1990 lists, public domain), and a
  name alone on the first line of a signature block.

Each recognizer works with or without spaCy artefacts, so the pattern-only fallback keeps them.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_addresses import StreetAddressRecognizer
from proxy.detectors.pii_numbers import CardNumberRecognizer, PhoneShapeRecognizer, SsnCueRecognizer
from proxy.detectors.pii_recognizer_base import BEDSIDE_SOURCE, BedsideRecognizer

#: The address and number recognizers are re-exported: the engine and the tests import every
#: recognizer from here.
__all__ = [
    "BEDSIDE_SOURCE",
    "NOT_NAMES",
    "CardNumberRecognizer",
    "PersonHeuristicRecognizer",
    "PhoneShapeRecognizer",
    "SsnCueRecognizer",
    "StreetAddressRecognizer",
    "first_names",
    "fold",
    "strong_surnames",
    "surnames",
]

_NAME_TOKEN = r"(?:\p{Lu}[\p{Ll}\p{M}'’]+(?:-\p{Lu}?[\p{Ll}\p{M}'’]+)*|\p{Lu}{2,}(?:-\p{Lu}{2,})?)"  # noqa: S105  # a regex, not a password
_INITIAL = r"\p{Lu}\.?"
_NAME_PARTICLE = r"(?:van|von|de|der|den|del|della|di|da|dos|du|la|le|ten|ter|bin|ibn|al|el|st\.)"
_NAME = rf"(?:{_NAME_TOKEN})(?:[ \t]+(?:{_INITIAL}[ \t]+)?(?:{_NAME_PARTICLE}[ \t]+){{0,2}}(?:{_NAME_TOKEN})){{0,3}}"
_LOWER_NAME = r"[\p{Ll}][\p{Ll}\p{M}'’-]+(?:[ \t]+[\p{Ll}][\p{Ll}\p{M}'’-]+)?"
_STRONG_CUE = (
    r"(?:my\s+name\s+is|my\s+name's|name\s*:|(?:people\s+|everyone\s+)?call(?:s)?\s+me|i\s+am\s+called|"
    r"signed,?|sincerely,?|regards,?|yours\s+truly,?|best\s+wishes,?|dear|attn:?|attention:?|c/o|b?cc:?|"
    r"mr\.?|mrs\.?|ms\.?|miss|mx\.?|dr\.?|prof\.?|professor|sir|dame|rev\.?|herr|frau|mme\.?|"
    r"mlle\.?|monsieur|madame|señor|señora|sra\.?|sig\.?|sig\.ra)"
)
_WEAK_CUE = (
    r"(?:i\s+am|i'm|this\s+is|it's|hi|hello|hey|thanks|thank\s+you|with|to|speak\s+to|spoke\s+to|"
    r"talk\s+to|ask\s+for|named|called|directed\s+by|written\s+by|by|under|from|and|kid|son|add|invite|tell|"
    r"daughter|wife|husband|partner|brother|sister|mother|father|friend|colleague|boss|manager)"
)
_STRONG_RE = re.compile(rf"\b(?i:{_STRONG_CUE})[ \t]+(?P<n>{_NAME})")
_STRONG_LOWER_RE = re.compile(r"\b(?i:my\s+name\s+is|call(?:s)?\s+me|i\s+am\s+called)[ \t]+(?P<n>" + _LOWER_NAME + ")")
_WEAK_RE = re.compile(rf"\b(?i:{_WEAK_CUE})[ \t,:]+(?P<n>{_NAME})")
_RELATION_RE = re.compile(
    r"\b(?i:(?:my|our|his|her|their|your)[ \t]+(?:kid|child|son|daughter|wife|husband|partner|brother|"
    r"sister|mother|father|mom|mum|dad|friend|colleague|boss|manager|neighbou?r|cousin|uncle|aunt|"
    r"nephew|niece|grandson|granddaughter|grandmother|grandfather|grandma|grandpa|fianc[ée]e?|"
    r"girlfriend|boyfriend|landlord|landlady|tenant|roommate|flatmate|doctor|lawyer|teacher))"
    rf"[ \t,]+(?P<n>{_NAME})"
)
_NAME_QUESTION_RE = re.compile(
    r"\b(?i:(?:last|first|maiden|full|middle|family|given|sur)[ ]?name(?:[ \t]+is|[ \t]*:|\?)?)"
    rf"[ \t]*(?P<n>{_NAME})"
)
_SAID_RE = re.compile(
    r"\b(?i:said|asked|replied|told|says|according[ \t]+to|written[ \t]+by|directed[ \t]+by|starring)"
    rf"[ \t:]+(?P<n>{_NAME})"
)
_PERSON_VERB = (
    r"(?:lives|lived|works|worked|was[ \t]+born|said|says|told|asked|replied|wrote|is[ \t]+from|"
    r"spent|had[ \t]+given|has[ \t]+given|is[ \t]+my|was[ \t]+my|shouted|yelled|whispered|screamed|"
    r"smiled|laughed|cried|nodded|sighed|shrugged|grinned|frowned|will[ \t]+be[ \t]+(?:talking|speaking))"
)
_SUBJECT_RE = re.compile(rf"(?:^|(?<=[.!?][ \t])|(?<=\n))[ \t>]*(?P<n>{_NAME})[ \t]+{_PERSON_VERB}\b")
_SUBJECT_LOWER_RE = re.compile(rf"(?:^|(?<=[.!?][ \t]))(?P<n>{_LOWER_NAME})[ \t]+{_PERSON_VERB}\b")
_INTRO_LOWER_RE = re.compile(
    r"\b(?:this\s+is|it'?s|it\s+is|i'?m|i\s+am|im)\s+(?P<n>[\p{Ll}][\p{Ll}\p{M}'’-]+(?:[ \t]+[\p{Ll}][\p{Ll}\p{M}'’-]+)?)[ \t]*(?:here\b|speaking\b|from\b|,|$)"
)
_LOWER_TOKEN_RE = re.compile(r"(?<![\p{L}\p{M}])[\p{Ll}][\p{Ll}\p{M}'’-]+(?![\p{L}\p{M}])")
_GAZ_RE = re.compile(rf"(?<![\p{{L}}\p{{M}}])(?P<n>{_NAME})")
_LINE_NAME_RE = re.compile(rf"(?m)^[ \t>]*(?P<n>{_NAME_TOKEN}[ \t]+(?:{_INITIAL}[ \t]+)?(?:{_NAME_PARTICLE}[ \t]+){{0,2}}{_NAME_TOKEN})[ \t]*$")
#: ``Ann Lee's daughter``, ``Ann's killers``: a possessive before a kinship or personal noun.
_POSSESSIVE_RE = re.compile(
    rf"(?<![\p{{L}}\p{{M}}])(?P<n>{_NAME})['’]s?[ \t]+(?i:kid|kids|child|children|son|sons|daughter|daughters|"
    r"wife|husband|partner|mother|mom|mum|father|dad|brother|sister|family|parents|boyfriend|girlfriend|"
    r"fianc[ée]e?|widow|widower|grandson|granddaughter|killers?|murderer|funeral|obituary|lawyer|attorney)\b"
)
#: The recipient line of an address block: ``Billing address: Ann Lee`` + line break.
_ADDRESSEE_RE = re.compile(rf"(?i:address|ship[ \t]+to|deliver[ \t]+to|recipient|addressee|bill[ \t]+to)[ \t]*:[ \t]*(?P<n>{_NAME})[ \t]*(?:\n|$)")
#: Two capitalised tokens: the pair is a name when the second is a surname that is no English word.
_PAIR_RE = re.compile(rf"(?<![\p{{L}}\p{{M}}])(?P<a>{_NAME_TOKEN})[ \t]+(?:{_INITIAL}[ \t]+)?(?P<b>{_NAME_TOKEN})(?![\p{{L}}\p{{M}}])")
#: A copy line: ``cc Ann Lee, Bo Chen; Eva Berg``, each name a PERSON.
_CC_RE = re.compile(rf"(?<![\p{{L}}])(?i:b?cc):?[ \t]+(?P<n>{_NAME}(?:[ \t]*[,;][ \t]*{_NAME})*)")
_NAME_RE = re.compile(_NAME)
_CAPITALISED_RE = re.compile(r"\p{Lu}[\p{Ll}\p{M}'’]+(?:-\p{Lu}[\p{Ll}\p{M}'’]+)*")
#: Capitalised words that follow a cue but are not names.
NOT_NAMES = frozenset(
    """
    i you he she we they it me him her us them my your his its our their this that these those the a an
    all any some everyone everybody someone anyone nobody team support service customer customers care
    help desk sales billing account accounts card bank manager department office company staff hello hi
    hey thanks thank dear sir madam sirs mr mrs ms dr please yes no ok okay sorry good great fine happy
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december today tomorrow yesterday morning evening night god
    visa mastercard amex iban swift ssn email phone address street road avenue order invoice refund
    ticket issue problem question chat bot assistant ai gpt user admin english french german spanish
    new old first last next best regards sincerely kind warm
    where what when why who whom whose which how there here on at in by to from for with back later now
    soon again anytime asap then also just still even maybe perhaps yet so but and or if as
    parents members residents colleagues guests valued friends neighbours neighbors students applicants
    patients tenants families participants attendees volunteers subscribers shareholders partners
    """.split()
)


def data_lines(name: str) -> list[str]:
    """The lines of a word list in ``proxy/detectors/data/`` (``name``: its file name), stripped,
    without blank lines and ``#`` comments."""
    raw = resources.files("proxy.detectors").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#")]


def _flagged(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """A word list whose lines may end in `` *``: every word, and the flagged ones."""
    every, flagged = set(), set()
    for line in data_lines(name):
        word, _, flag = line.partition(" ")
        every.add(word)
        if flag.strip() == "*":
            flagged.add(word)
    return frozenset(every), frozenset(flagged)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """The first-name gazetteer, lower-cased (loaded once, from package data): the US Census lists
    plus first names of many countries (``first_names_world.txt``, built by
    ``training/build_name_list.py`` from Faker's person providers, MIT)."""
    return frozenset(data_lines("first_names.txt") + data_lines("first_names_world.txt"))


@lru_cache(maxsize=1)
def _name_word_table() -> tuple[frozenset[str], frozenset[str]]:
    return _flagged("name_words.txt")


def name_words() -> frozenset[str]:
    """Gazetteer first names that are also English words (``ran``, ``min``, ``temple``: built by
    ``training/build_name_words.py``): in text typed all in lower case they are read as the word."""
    return _name_word_table()[0]


def name_stop_words() -> frozenset[str]:
    """Gazetteer first names that are English function words (``many``, ``else``): never a name alone."""
    return _name_word_table()[1]


@lru_cache(maxsize=1)
def _surname_table() -> tuple[frozenset[str], frozenset[str]]:
    return _flagged("surnames.txt")


def surnames() -> frozenset[str]:
    """US Census 1990 surnames (the 40,000 most frequent), lower-cased, loaded once from package data."""
    return _surname_table()[0]


def strong_surnames() -> frozenset[str]:
    """Surnames that are not also English words (``Becker``, not ``Brown``): evidence on their own."""
    every, words = _surname_table()
    return _strong_surnames(every, words)


@lru_cache(maxsize=1)
def _strong_surnames(every: frozenset[str], words: frozenset[str]) -> frozenset[str]:
    return every - words - first_names()


def fold(word: str) -> str:
    """Lower-case ``word`` and strip diacritics (``Luís`` -> ``luis``) for gazetteer look-ups."""
    word = word.strip("'’.,").lower()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _known_first(token: str, names: frozenset[str]) -> bool:
    """A gazetteer first name, or a hyphenated one with a known part (``Anna-Lena``, ``Jean-Luc``)."""
    folded = fold(token)
    return folded in names or ("-" in folded and any(p in names for p in folded.split("-") if len(p) > 2))


def _in_identifier(text: str, start: int, end: int) -> bool:
    """The span is part of an identifier (``prep_min``, ``order_id``, ``user.name``): an underscore,
    a letter or a digit joins it to what is before or after."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before == "_" or after == "_" or before.isalnum() or after.isalnum()


def _trim_name(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Drop leading/trailing non-name words; ``None`` when nothing name-like remains."""
    words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    while words and text[words[0][0] : words[0][1]].strip(".,").lower() in NOT_NAMES:
        words.pop(0)
    while words and text[words[-1][0] : words[-1][1]].strip(".,").lower() in NOT_NAMES:
        words.pop()
    if not words:
        return None
    s, e = words[0][0], words[-1][1]
    while e > s and text[e - 1] in ".,":
        e -= 1
    return (s, e) if e - s >= 2 else None


class PersonHeuristicRecognizer(BedsideRecognizer):
    """Finds ``PERSON`` spans the small spaCy model misses (see module docstring)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="BedsidePerson")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return name spans from cues, the gazetteer and signature lines."""
        if "PERSON" not in entities:
            return []
        names = first_names()
        out: list[RecognizerResult] = []

        def add(start: int, end: int, score: float) -> None:
            span = _trim_name(text, start, end)
            if span is not None:
                out.append(self._result("PERSON", span[0], span[1], score))

        for m in _STRONG_RE.finditer(text):
            add(m.start("n"), m.end("n"), 0.9)
        for m in _STRONG_LOWER_RE.finditer(text):
            add(m.start("n"), m.end("n"), 0.8)
        for rx, score in ((_RELATION_RE, 0.85), (_NAME_QUESTION_RE, 0.85), (_SAID_RE, 0.7), (_SUBJECT_RE, 0.7)):
            for m in rx.finditer(text):
                add(m.start("n"), m.end("n"), score)
        if not any(c.isupper() for c in text):  # typed all in lower case: names are lower case too
            for m in _SUBJECT_LOWER_RE.finditer(text):
                add(m.start("n"), m.end("n"), 0.6)
            for m in _INTRO_LOWER_RE.finditer(text):  # "hi its piaras tyrrell here": a known first name or surname
                tokens = m.group("n").split()
                if tokens[0] not in NOT_NAMES and (fold(tokens[0]) in names or (len(tokens) > 1 and fold(tokens[-1]) in surnames())):
                    add(m.start("n"), m.end("n"), 0.6)
            words = name_words()
            for m in _LOWER_TOKEN_RE.finditer(text):
                if m.group() in names and m.group() not in NOT_NAMES and m.group() not in words and not _in_identifier(text, m.start(), m.end()):
                    add(m.start(), m.end(), 0.55)
        for m in _CC_RE.finditer(text):
            for n in _NAME_RE.finditer(text, m.start("n"), m.end("n")):
                add(n.start(), n.end(), 0.7)
        for m in _WEAK_RE.finditer(text):
            first = fold(m.group("n").split()[0])
            if m.group("n").isupper():  # shouting, not a name
                continue
            if first in names or (len(m.group("n").split()) >= 2 and first not in NOT_NAMES):
                add(m.start("n"), m.end("n"), 0.6 if first in names else 0.5)
        for m in _GAZ_RE.finditer(text):
            if m.end() < len(text) and text[m.end()].isalpha():  # "Mac" of "MacBook"
                continue
            # the name may start after capitalised words that are none ("Can Anita Nowak ...")
            for t in re.finditer(r"\S+", m.group("n")):
                token = t.group()
                if _known_first(token, names) and token.lower() not in NOT_NAMES and _CAPITALISED_RE.fullmatch(token):
                    rest = len(m.group("n")[t.start() :].split())
                    if rest == 1 and fold(token) in name_stop_words():  # "Many thanks": the word
                        break
                    add(m.start("n") + t.start(), m.end("n"), 0.7 if rest > 1 else 0.55)
                    break
        for rx, score in ((_POSSESSIVE_RE, 0.7), (_ADDRESSEE_RE, 0.7)):
            for m in rx.finditer(text):
                add(m.start("n"), m.end("n"), score)
        strong = strong_surnames()
        for m in _PAIR_RE.finditer(text, overlapped=True):
            a, b = m.group("a"), m.group("b")
            if a.lower() in NOT_NAMES or b.lower() in NOT_NAMES or not b[1:].islower():
                continue
            if fold(b) in strong:
                add(m.start("a"), m.end("b"), 0.6)
        if "\n" in text.strip():
            for m in _LINE_NAME_RE.finditer(text):
                add(m.start("n"), m.end("n"), 0.5)
        return out

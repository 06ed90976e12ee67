"""Bedside's own Presidio recognizers: street addresses and better PERSON recall.

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
from presidio_analyzer import EntityRecognizer, RecognizerResult

from proxy.detectors.structured_pii import SSN_AREA, SSN_GROUP, SSN_SERIAL

#: Name of the recognition source that :mod:`proxy.detectors.pii_engine` ranks as heuristic.
BEDSIDE_SOURCE = "bedside"

_UP = r"\p{Lu}"
_WORD_CAP = r"\p{Lu}[\p{L}\p{M}'’.-]*"
_WORD_ANY = r"[\p{L}][\p{L}\p{M}'’.-]*"
_NUM = r"\d{1,6}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
#: Small words that never start a street name word ("3 dogs on the street" is no address).
_STOP = (
    r"(?!(?i:on|the|in|at|of|to|and|or|a|an|my|your|our|his|her|their|for|with|from|is|are|was|"
    r"were|down|up|across|near|by|more|less|times|minutes|hours|days|weeks|years|per)\b)"
)

_US_SUFFIX = (
    r"(?i:street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|crescent|cres|circle|cir|parkway|pkwy|highway|hwy|freeway|fwy|expressway|expy|"
    r"loop|pass|trail|trl|square|sq|alley|aly|row|close|mews|plaza|plz|walk|grove|gardens|gdns|"
    r"green|greens|heights|hts|hill|park|point|pt|ridge|run|path|pike|turnpike|tpke|crossing|"
    r"crossroad|junction|jct|landing|bend|cove|creek|estates?|glen|harbou?r|hollow|knoll|manor|"
    r"meadows?|orchard|radial|shores?|springs?|summit|trace|valley|view|vista|wharf|wynd|quay|"
    r"parade|esplanade|promenade|causeway|chase|croft|drove|rise|vale|yard|broadway)"
)
#: Street words that precede the name (French, Italian, Spanish, Portuguese, Polish, ...).
_PREFIX = (
    r"(?i:via|viale|vicolo|piazza|piazzale|corso|largo|strada|rue|avenue|allée|allee|boulevard|"
    r"chemin|impasse|quai|calle|carrer|avenida|avda\.?|paseo|camino|rua|praça|praca|travessa|"
    r"estrada|alameda|ul\.|ulica|al\.|aleja|pl\.|plac|os\.|calea|bulevardul|odos|leoforos)"
)
_PARTICLE = r"(?i:de|del|della|dei|degli|di|da|do|dos|das|des|du|la|le|les|van|von|der|den|y|e)"
#: Street-type endings of compound or following words (German, Dutch, Nordic, Finnish, Hungarian...).
_COMPOUND = (
    r"(?i:straße|strasse|str\.|gasse|weg|allee|platz|ring|damm|ufer|steig|vej|vägen|väg|gatan|"
    r"gata|gate|veien|vei|vegen|veg|gade|stræde|stræti|vegur|braut|katu|kuja|tie|polku|kaari|"
    r"straat|laan|gracht|plein|kade|dreef|steeg|singel|utca|út|tér|körút|sor|iela|tänav|terrasse)"
)
_UNIT = (
    r"(?i:apt\.?|apartment|suite|ste\.?|unit|flat|fl\.?|floor|room|rm\.?|bldg\.?|building|#)"
    r"\s*#?\s*[A-Za-z]?\d{1,5}[A-Za-z]?"
)
_STREET_PATTERNS: tuple[tuple[str, float], ...] = (
    # 12 Baker Street / 1600 N. Pennsylvania Ave NW / 221B baker st
    (
        rf"\b{_NUM}(?:[ \t]+{_NUM})?[ \t]+(?:(?i:[NSEW]|north|south|east|west)\.?[ \t]+)?"
        rf"(?:(?!{_US_SUFFIX}\b){_STOP}{_WORD_ANY}[ \t]+){{0,3}}{_STOP}{_WORD_ANY}[ \t]+{_US_SUFFIX}\b\.?"
        r"(?:[ \t]+(?:N|S|E|W|NE|NW|SE|SW)\b)?",
        0.75,
    ),
    # Via Roma 131 / ul. Zamkowa 33 / Rua Cyro Franco 1213 / 20 Rue Eloued / 33 avenue de Provence
    (
        rf"\b(?:{_NUM},?[ \t]+)?{_PREFIX}[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_WORD_CAP}"
        rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_WORD_CAP}){{0,3}}(?:,?[ \t]+{_NUM}\b)?",
        0.7,
    ),
    # Parijsstraat 8 / Brucker Bundesstrasse 31 / Rákóczi út 66. / Stensås terrasse 38
    (
        rf"\b(?:{_NUM}[ \t]+)?(?:{_WORD_CAP}[ \t]+){{0,2}}(?:[\p{{L}}-]*{_COMPOUND})[ \t]*{_NUM}\b\.?",
        0.7,
    ),
    # postal code + street + house number: 7878 Rahu 37 / 94941 2505 Heatherleigh
    (rf"\b\d{{3,6}}[ \t]+(?:{_WORD_CAP}[ \t]+){{1,3}}\d{{1,4}}[A-Za-z]?\b", 0.6),
    (rf"\b\d{{3,6}}[ \t]+\d{{1,5}}[ \t]+{_WORD_CAP}(?:[ \t]+{_WORD_CAP}){{0,2}}", 0.6),
    # military and post-office boxes
    (r"\b(?:PSC|CMR|Unit)\s+\d{3,5},?\s+Box\s+\d{2,5}(?:\s*\n?\s*[AFD]PO\s+A[AEP]\s+\d{5})?", 0.8),
    (rf"\b(?:USS|USNS|USNV|USCGC)\s+{_WORD_CAP}(?:\s+{_WORD_CAP})?\s*\n?\s*[AFD]PO\s+A[AEP]\s+\d{{5}}", 0.8),
    (r"\b(?i:P\.?\s?O\.?\s?Box|Post\s+Office\s+Box|Postfach)\s+\d{1,6}\b", 0.7),
    # the corner of X and Y
    (
        r"\b(?i:corner\s+of)\s+(?:the\s+)?(?:[\p{L}\d.'’-]+\s+){0,4}?[\p{Lu}\d][\p{L}\d.'’-]*"
        r"\s+(?:and|&)\s+[\p{Lu}\d][\p{L}\d.'’-]*(?:\s+[\p{Lu}\d][\p{L}\d.'’-]*){0,3}",
        0.65,
    ),
    # a unit on its own: Apt. 4B, Suite 210
    (r"\b(?i:apt\.?|apartment|suite|flat)\s*#?\s*[A-Za-z]?\d{1,5}[A-Za-z]?\b", 0.5),
)
#: Address cue words: "Name 12" after one of these is read as a street and number.
_ADDRESS_CUE = (
    r"(?:address(?:\s+is)?|live[sd]?\s+(?:at|on|in)|living\s+(?:at|on)|located\s+(?:at|on)|"
    r"reside[sd]?\s+(?:at|on)|moved\s+to|meet\s+(?:me\s+)?at|stop\s+at|deliver(?:ed)?\s+to|"
    r"ship(?:ped)?\s+to|send\s+(?:it\s+)?to|return\s+(?:it\s+)?to|is\s+on|street:)"
)
_CUED_STREET = rf"(?i:{_ADDRESS_CUE})[:\s]+(?P<s>(?:{_WORD_CAP}[ \t]+){{0,3}}{_WORD_CAP}[ \t]+{_NUM}\b\.?)"
_TAIL_SEP = r"(?:[ \t]*[,\n][ \t>]*|[ \t]+)"
_TAIL_SEGMENT = (
    rf"(?:{_UNIT}|\d{{4,6}}(?:-\d{{4}})?|[A-Z]{{1,2}}\d[A-Z\d]?\s*\d[A-Z]{{2}}|[A-Z]\d[A-Z]\s?\d[A-Z]\d"
    rf"|\p{{Lu}}{{2,3}}\b|\(\p{{Lu}}\p{{Ll}}+\))"
)
_TAIL_PLACE = rf"{_WORD_CAP}(?:[ \t]+{_WORD_CAP}){{0,2}}(?![\p{{L}}\p{{M}}'’.-])(?![ \t]*:)"

_STREET_RES = tuple((re.compile(p), s) for p, s in _STREET_PATTERNS)
_CUED_RE = re.compile(_CUED_STREET)
_TAIL_SEGMENT_RE = re.compile(_TAIL_SEP + _TAIL_SEGMENT)
_TAIL_PLACE_RE = re.compile(r"[ \t]*[,\n][ \t>]*" + _TAIL_PLACE)
_MAX_TAIL = 6


def _extend_tail(text: str, end: int) -> int:
    """Extend an address match over unit, city, state, postcode and country segments."""
    for _ in range(_MAX_TAIL):
        m = _TAIL_SEGMENT_RE.match(text, end)
        if m is None:
            m = _TAIL_PLACE_RE.match(text, end)
        if m is None:
            break
        end = m.end()
    return end


class _BedsideRecognizer(EntityRecognizer):
    """Base for Bedside's recognizers: no model to load, results tagged as Bedside's."""

    def load(self) -> None:
        """Nothing to load: the patterns are compiled at import."""

    def _result(self, entity: str, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            entity,
            start,
            end,
            score,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: type(self).__name__,
                "source": BEDSIDE_SOURCE,
            },
        )


class StreetAddressRecognizer(_BedsideRecognizer):
    """Finds ``STREET_ADDRESS`` spans by the shapes streets are written in (see module docstring)."""

    def __init__(self) -> None:
        super().__init__(supported_entities=["STREET_ADDRESS"], name="BedsideStreetAddress")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        """Return address spans; overlapping matches are merged later by the engine."""
        if "STREET_ADDRESS" not in entities:
            return []
        out: list[RecognizerResult] = []
        for rx, score in _STREET_RES:
            for m in rx.finditer(text):
                start, end = m.span()
                while end > start and text[end - 1] in " ,":
                    end -= 1
                out.append(self._result("STREET_ADDRESS", start, _extend_tail(text, end), score))
        for m in _CUED_RE.finditer(text):
            out.append(self._result("STREET_ADDRESS", m.start("s"), _extend_tail(text, m.end("s")), 0.6))
        return out


_NAME_TOKEN = r"(?:\p{Lu}[\p{Ll}\p{M}'’]+(?:-\p{Lu}?[\p{Ll}\p{M}'’]+)*|\p{Lu}{2,}(?:-\p{Lu}{2,})?)"  # noqa: S105  # a regex, not a password
_INITIAL = r"\p{Lu}\.?"
_NAME_PARTICLE = r"(?:van|von|de|der|den|del|della|di|da|dos|du|la|le|ten|ter|bin|ibn|al|el|st\.)"
_NAME = rf"(?:{_NAME_TOKEN})(?:[ \t]+(?:{_INITIAL}[ \t]+)?(?:{_NAME_PARTICLE}[ \t]+){{0,2}}(?:{_NAME_TOKEN})){{0,3}}"
_LOWER_NAME = r"[\p{Ll}][\p{Ll}\p{M}'’-]+(?:[ \t]+[\p{Ll}][\p{Ll}\p{M}'’-]+)?"
_STRONG_CUE = (
    r"(?:my\s+name\s+is|my\s+name's|name\s*:|(?:people\s+|everyone\s+)?call(?:s)?\s+me|i\s+am\s+called|"
    r"signed,?|sincerely,?|regards,?|yours\s+truly,?|best\s+wishes,?|dear|attn:?|attention:?|c/o|"
    r"mr\.?|mrs\.?|ms\.?|miss|mx\.?|dr\.?|prof\.?|professor|sir|dame|rev\.?|herr|frau|mme\.?|"
    r"mlle\.?|monsieur|madame|señor|señora|sra\.?|sig\.?|sig\.ra)"
)
_WEAK_CUE = (
    r"(?:i\s+am|i'm|this\s+is|it's|hi|hello|hey|thanks|thank\s+you|with|to|speak\s+to|spoke\s+to|"
    r"talk\s+to|ask\s+for|named|called|directed\s+by|written\s+by|by|under|from|and|kid|son|"
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
    """.split()
)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """The first-name gazetteer, lower-cased (loaded once, from package data)."""
    raw = resources.files("proxy.detectors").joinpath("data/first_names.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _surname_table() -> tuple[frozenset[str], frozenset[str]]:
    raw = resources.files("proxy.detectors").joinpath("data/surnames.txt").read_text(encoding="utf-8")
    every, words = set(), set()
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, flag = line.partition(" ")
        every.add(name)
        if flag.strip() == "*":
            words.add(name)
    return frozenset(every), frozenset(words)


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


class PersonHeuristicRecognizer(_BedsideRecognizer):
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
            for m in _LOWER_TOKEN_RE.finditer(text):
                if m.group() in names and m.group() not in NOT_NAMES:
                    add(m.start(), m.end(), 0.55)
        for m in _WEAK_RE.finditer(text):
            first = fold(m.group("n").split()[0])
            if m.group("n").isupper():  # shouting, not a name
                continue
            if first in names or (len(m.group("n").split()) >= 2 and first not in NOT_NAMES):
                add(m.start("n"), m.end("n"), 0.6 if first in names else 0.5)
        for m in _GAZ_RE.finditer(text):
            tokens = m.group("n").split()
            if fold(tokens[0]) in names and tokens[0].lower() not in NOT_NAMES and tokens[0][1:].islower():
                add(m.start("n"), m.end("n"), 0.7 if len(tokens) > 1 else 0.55)
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


_EXT = r"(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?"
_PHONE_END = r"(?!\d)(?!-\d)"
_PHONE_STRONG = (
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
    r"|\(\d{3}\)[ ]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4}"
    r"|0\d{1,4}(?:[ .-]\d{2,8}){1,4})" + _EXT + _PHONE_END
)
_PHONE_CUED = (
    r"(?i:phone|tel|telephone|mobile|cell|cellphone|call|ring|text|sms|whatsapp|fax|reach|contact|"
    r"dial|answering|messages|registered|number|no\.)(?:[^\n\d]{0,25}?)[:\s]*"
    r"(?P<p>\+?(?:\(\d{1,4}\)[ .-]?)?\d{2,12}(?:[ .-]\d{2,8}){0,4}" + _EXT + ")" + _PHONE_END
)
#: A number followed by what kind of line it is: ``085 175 7641-Office``, ``28-64-66-98 fax``.
_PHONE_LABELLED = (
    r"(?<![\w+])(?P<p>\+?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}" + _EXT + ")"
    r"[ -]?(?i:office|fax|mobile|cell|home|work|desk)\b"
)
_PHONE_STRONG_RE = re.compile(_PHONE_STRONG)
_DATE_RE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")
_PHONE_CUED_RE = re.compile(_PHONE_CUED)
_PHONE_LABELLED_RE = re.compile(_PHONE_LABELLED)


class PhoneShapeRecognizer(_BedsideRecognizer):
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
        for rx in (_PHONE_CUED_RE, _PHONE_LABELLED_RE):
            for m in rx.finditer(text):
                if 7 <= sum(c.isdigit() for c in m.group("p")) <= 15:
                    out.append(self._result("PHONE_NUMBER", m.start("p"), m.end("p"), 0.6))
        return out


_SSN_RE = re.compile(
    r"(?i:ssn|ss\#|social[ \t]+security(?:[ \t]+(?:number|no\.?|#))?)[^\n\d]{0,20}?"
    rf"(?P<s>(?<!\d){SSN_AREA}(?P<sep>[- ]?){SSN_GROUP}(?P=sep){SSN_SERIAL}(?!\d))"
)


class SsnCueRecognizer(_BedsideRecognizer):
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


class CardNumberRecognizer(_BedsideRecognizer):
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
        return out

"""``STREET_ADDRESS`` by the shapes streets are written in (:class:`StreetAddressRecognizer`).

House number + street name + suffix (``12 Baker Street``), continental forms (``Parijsstraat 8``,
``Via Roma 131``, ``ul. Zamkowa 33``, ``20 Rue X``), postal-code + street + number blocks, military
(``PSC 1234, Box 5678 APO AE 09012``) and PO boxes, each extended over a unit (``Apt. 4``), city,
state, postcode and country tail. Plain regular expressions, no spaCy artefacts needed.
"""

from __future__ import annotations

from typing import Any

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_recognizer_base import BedsideRecognizer

__all__ = ["StreetAddressRecognizer"]

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
    r"parade|esplanade|promenade|causeway|chase|croft|drove|rise|vale|yard|broadway|"
    # more USPS / Canada Post / Australia Post street types, and Indian street words
    r"ferry|skyway|land|camp|cliffs?|gap|plains?|spurs?|brooks?|mills?|port|prairie|ranch|rapids|"
    r"shoals?|station|stream|throughway|track|tunnel|underpass|villages?|ville|wells?|fords?|forges?|"
    r"forks?|falls|extension|divide|dale|corners?|canyon|cape|bypass|bridge|branch|"
    r"bluffs?|beach|arcade|centreway|centre|center|circuit|close|concourse|crest|drive|gateway|"
    r"highroad|lookout|outlook|ramble|retreat|ridgeway|tarn|walkway|"
    r"marg|nagar|ganj|chowk|galli|gali|colony|bazaar|bagh|pur|peth)s?"
)
#: Street words that precede the name (French, Italian, Spanish, Portuguese, Polish, ...).
_PREFIX = (
    r"(?i:via|viale|vicolo|piazza|piazzale|corso|largo|strada|rue|avenue|allée|allee|boulevard|"
    r"chemin|impasse|quai|calle|carrer|avenida|avda\.?|paseo|camino|rua|praça|praca|travessa|"
    r"estrada|alameda|ul\.|ulica|al\.|aleja|pl\.|plac|os\.|calea|bulevardul|odos|leoforos|"
    r"r\.|av\.|trav\.|acceso|pasadizo|cuesta|ronda|vía|plaza|travesía|glorieta|callejón|pasaje|rambla|urbanización|"
    r"contrada|borgo|vico|rotonda|località|frazione|lungomare|salita|rue de la|place|cours|sentier|route)"
)
_PARTICLE = r"(?i:de|del|della|dei|degli|di|da|do|dos|das|des|du|la|le|les|van|von|der|den|y|e)"
#: Street-type endings of compound or following words (German, Dutch, Nordic, Finnish, Hungarian...).
_COMPOUND = (
    r"(?i:straße|strasse|str\.|gasse|weg|allee|platz|ring|damm|ufer|steig|vej|vägen|väg|gatan|"
    r"gata|gate|veien|vei|vegen|veg|gade|stræde|stræti|vegur|braut|katu|kuja|tie|polku|kaari|"
    r"straat|laan|gracht|plein|kade|dreef|steeg|singel|utca|út|tér|körút|sor|iela|tänav|terrasse|"
    r"gränd|gränden|stigen|stig|torget|torg|backe|backen|allén|baan|dijk|hof|markt|plads|allé)"
)
_UNIT = (
    r"(?i:apt\.?|apartment|suite|ste\.?|unit|flat|fl\.?|floor|room|rm\.?|bldg\.?|building|studio|appartamento|puerta|piso|#)"
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
    # India: house number, locality, city and six-digit PIN: 84/699, Loke, Aizawl 476329
    (rf"\b\d{{1,4}}(?:/\d{{1,4}})?,?[ \t\n]+(?:{_WORD_CAP}[ \t]+){{0,3}}{_WORD_CAP},[ \t\n]*{_WORD_CAP}(?:[ \t]+{_WORD_CAP})?[ \t]*[- ]?[ \t]*\d{{3}}[ ]?\d{{3}}\b", 0.7),
    # Portugal and Brazil: a street without number (S/N, sem número)
    (rf"\b{_PREFIX}[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_WORD_CAP}(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_WORD_CAP}){{0,3}},?[ \t]+S/N\b", 0.7),
    # military and post-office boxes
    (r"\b(?:PSC|CMR|Unit)\s+\d{3,5},?\s+Box\s+\d{2,5}(?:\s*\n?\s*[AFD]PO\s+A[AEP]\s+\d{5})?", 0.8),
    (rf"\b(?:USS|USNS|USNV|USCGC)\s+{_WORD_CAP}(?:\s+{_WORD_CAP})?,?\s*\n?\s*[AFD]PO\s+A[AEP]\s+\d{{5}}", 0.8),
    (r"\b(?i:P\.?\s?O\.?\s?Box|Post\s+Office\s+Box|Postfach)\s+\d{1,6}\b", 0.7),
    # the corner of X and Y
    (
        r"\b(?i:corner\s+of)\s+(?:the\s+)?(?:[\p{L}\d.'’-]+\s+){0,4}?[\p{Lu}\d][\p{L}\d.'’-]*"
        r"\s+(?:and|&)\s+[\p{Lu}\d][\p{L}\d.'’-]*(?:\s+[\p{Lu}\d][\p{L}\d.'’-]*){0,3}",
        0.65,
    ),
    # a unit on its own: Apt. 4B, Suite 210, Studio 78R (then the street after it: Flat 7, Jones Light)
    (r"\b(?i:apt\.?|apartment|suite|flat|studio|unit)\s*#?\s*[A-Za-z]?\d{1,5}[A-Za-z]?\b", 0.5),
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


class StreetAddressRecognizer(BedsideRecognizer):
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

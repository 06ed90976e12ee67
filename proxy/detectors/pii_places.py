"""Places named in passing are no one's data: NER LOCATION (and PERSON) hits dropped by
:func:`not_places`, a step of :func:`proxy.detectors.pii_cleanup.clean` (``docs/pii.md``,
"Clean-up of results").
"""

from __future__ import annotations

from functools import lru_cache

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_address_words import POSTCODE
from proxy.detectors.pii_recognizer_base import is_bedside
from proxy.detectors.pii_recognizers import data_lines, first_names, fold, strong_surnames, surnames

__all__ = ["not_places", "places", "regions"]


def _normal(s: str) -> str:
    return " ".join(s.strip(" \t\n.,;:!?'\"()").lower().split())


@lru_cache(maxsize=1)
def regions() -> frozenset[str]:
    """Countries, continents and first-level regions, lower-cased (``data/regions.txt``, built by
    ``training/build_region_list.py`` from Faker, MIT): no one's location on their own."""
    return frozenset(data_lines("regions.txt"))


#: Where someone lives or was born ...
_LIVED = r"live[sd]?|living|born|raised|grew[ \t]+up|moved|moving|relocat\w*|based|resid\w*|citizen|native|home|address"
#: ... or stays or is going (a whereabouts).
_HOME_OR_TRIP = _LIVED + r"|located|stay\w*|travel\w*|visit\w*|trip|flying|flight|going|holiday|vacation"
#: Words that make a place someone's own: where they live, come from, were born, are going.
_PERSONAL_PLACE_RE = re.compile(rf"(?i:\b(?:{_HOME_OR_TRIP}|from)\b[^.!?\n]{{0,25}})$")


#: Someone in the sentence: the writer, the reader, their own.
_SOMEONE_RE = re.compile(r"(?i:\b(?:i|me|my|mine|we|us|our|you|your|yours|he|him|his|she|her|hers|they|them|their)\b)")
#: Words that make a place someone's even with no one named: where people live or were born.
_LIVED_PLACE_RE = re.compile(rf"(?i:\b(?:{_LIVED})\b)")
#: Words that lead to a place: ``in``, ``near``, ``from`` ...
_TO_A_PLACE = r"in|at|near|from|to|via|around|into|outside|towards?"
_SENTENCE_START_RE = re.compile(r"[.!?\n][ \t]*")
_PLACE_BEFORE_RE = re.compile(rf"(?i:\b(?:{_TO_A_PLACE}|across|through|of|the))[ \t]+$")


def _impersonal_place(text: str, r: RecognizerResult) -> bool:
    """An NER place (not Bedside's address) that a place word leads to (``in``, ``near``, ``the``)
    in a sentence that names no one, is no known first name or surname, and has no word tying it
    to someone before it (``street food in Delhi``, ``the traffic near the Embarcadero``)."""
    starts = [m.end() for m in _SENTENCE_START_RE.finditer(text, 0, r.start)]
    sentence_start = starts[-1] if starts else 0
    if _PLACE_BEFORE_RE.search(text, max(sentence_start, r.start - 12), r.start) is None:
        return False
    if _SOMEONE_RE.search(text, sentence_start, r.start) or _LIVED_PLACE_RE.search(text, max(0, r.start - 60), r.start):
        return False
    names, family = first_names(), strong_surnames()
    return not any(fold(w) in names or fold(w) in family for w in text[r.start : r.end].split())


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Towns and cities of 5,000 people or more, folded, first names removed (``data/places.txt``,
    built by ``training/build_place_list.py`` from GeoNames, CC BY 4.0)."""
    return frozenset(data_lines("places.txt"))


#: The words of ``_PERSONAL_PLACE_RE`` but ``from``: where someone lives, stays or is going (a
#: whereabouts: ``I am flying to Lisbon``), not where flights leave from.
_HOME_OR_TRIP_RE = re.compile(rf"(?i:\b(?:{_HOME_OR_TRIP})\b[^.!?\n]{{0,25}})$")
_POSTCODE_NEXT_RE = re.compile(rf"[ \t]*,?[ \t]*(?:\p{{Lu}}{{2,3}}[ \t]+)?{POSTCODE}(?![\p{{L}}\d])")
_POSTCODE_BEFORE_RE = re.compile(r"\d{3,6}(?:[ \t]?\p{Lu}{2})?[ \t]+$")
_TO_A_PLACE_RE = re.compile(rf"(?i:\b(?:{_TO_A_PLACE}))[ \t]+$")
_POSSESSIVE_END_RE = re.compile(r"['’]s$")
#: Someone's own place, said of them: ``I'm from``, ``we live in``, ``born in``, ``our home in``.
_OWN_PLACE_RE = re.compile(r"(?i:\b(?:(?:i['’]?m|i[ \t]+am|we['’]?re|we[ \t]+are|he['’]?s|she['’]?s|they['’]?re|originally|comes?|came)[ \t]+from)\b[^.!?\n]{0,15})$")


def _town_of(value: str) -> str | None:
    """The town ``value`` names: the whole of it (``Porto``, ``Porto's``), or its first word when the
    others are no first name or surname (``Manchester Piccadilly``, ``Amsterdam Centraal``); else None."""
    words = [fold(w) for w in _POSSESSIVE_END_RE.sub("", value).split()]
    if not words:
        return None
    whole = " ".join(words)
    if whole in places():
        return whole
    rest = words[1:]
    if 1 <= len(rest) <= 2 and words[0] in places() and not any(w in first_names() or w in strong_surnames() for w in rest):
        return words[0]
    return None


def _town_in_passing(text: str, r: RecognizerResult) -> bool:
    """A town or city (``data/places.txt``; or a station or district named after it,
    :func:`_town_of`) that NER took for a place or a person, named with no
    word before it that makes it someone's home or whereabouts (``flights from Manchester``, ``Is
    Porto nicer than Lisbon?``; not ``I live in Leeds``, ``I'm from Derry`` or ``I am flying to
    Lisbon``), nor next to a postcode (``London SW18 1SW``, ``75011 Paris``: an address's town).
    A "person" stays a person when it is also a surname (``Durham``, ``Jackson``) or no
    place word leads to it (``Lotte rang``: towns are named after people too)."""
    name = _town_of(text[r.start : r.end])
    if name is None or _POSTCODE_NEXT_RE.match(text, r.end) or _POSTCODE_BEFORE_RE.search(text, max(0, r.start - 12), r.start):
        return False  # "London SW18 1SW", "75011 Paris": a town of an address
    if r.entity_type == "PERSON" and (name in surnames() or _TO_A_PLACE_RE.search(text, max(0, r.start - 8), r.start) is None):
        return False  # a "person" is a town only where a place word leads to it: names are towns too
    window = max(0, r.start - 60)
    return _HOME_OR_TRIP_RE.search(text, window, r.start) is None and _OWN_PLACE_RE.search(text, window, r.start) is None


def not_places(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Drop NER LOCATION hits in a general statement: a country, continent or state with no word
    tying it to someone before it (``Do you ship to Canada?``; kept in ``I live in Texas``, ``born
    in Poland``, ``flying to Spain``), and any other place in a sentence that names no one
    (:func:`_impersonal_place`). A place in a sentence about the writer stays redacted, and so do
    one-word "places" no place word leads to: NER reads many names as places (``thank Shirin``).
    A known town or city is dropped wherever no word makes it someone's home (:func:`_town_in_passing`)."""
    names = regions()
    out = []
    for r in results:
        if r.entity_type == "LOCATION" and not is_bedside(r):
            if _normal(text[r.start : r.end]) in names and _PERSONAL_PLACE_RE.search(text, max(0, r.start - 60), r.start) is None:
                continue
            if _impersonal_place(text, r):
                continue
        if r.entity_type in ("LOCATION", "PERSON") and not is_bedside(r) and _town_in_passing(text, r):
            continue
        out.append(r)
    return out



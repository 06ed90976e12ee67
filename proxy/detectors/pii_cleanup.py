"""Clean-up of Presidio's results: false positives dropped, overlaps resolved, names completed.

:func:`clean` is what :meth:`proxy.detectors.pii_engine.AnalyzerHandle.analyze` does to the raw
results, in order (see ``docs/pii.md``, "Clean-up of results"):

1. :func:`drop_false_positives`: NER hits on payment/technical terms (``Visa``, ``IBAN``), a lone
   common noun read as a PERSON, empty spans; then
   :func:`~proxy.detectors.pii_ner_language.drop_misreadings`: the NER's names and places that are
   ordinary words of a sentence in another language (``Der Kuchen``, ``sigue el papel``); then
   :func:`~proxy.detectors.pii_not_data.drop_not_data`:
   spans that are the message's shape (identifiers, JSON keys, form labels, teams, versions,
   reference numbers);
2. :func:`_names_over_places`: a one-word NER LOCATION that is a known first name and follows no
   place preposition becomes a PERSON;
3. :func:`resolve_overlaps`: one type per span (validated formats > Bedside recognizers > NER);
4. :func:`_name_lists` and :func:`_propagate_names`: items of a list of names, and a name found once
   wherever it recurs in the same text.

Between 2 and 3, :func:`~proxy.detectors.pii_places.not_places` drops NER LOCATION hits that are
a country, continent or state, or a place in a sentence that names no one, and towns or cities
named in passing, unless a word before ties the place to someone (``I live in Texas``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_addresses import address_cue_before
from proxy.detectors.pii_ner_language import drop_misreadings
from proxy.detectors.pii_not_data import drop_not_data
from proxy.detectors.pii_places import not_places
from proxy.detectors.pii_recognizer_base import NER_TYPES, is_bedside
from proxy.detectors.pii_recognizers import BEDSIDE_SOURCE, NOT_NAMES, first_names, fold, strong_surnames, surnames

__all__ = ["COMMON_NOUNS", "NER_TYPES", "NOT_ENTITIES", "STRUCTURED", "clean", "drop_false_positives", "resolve_overlaps"]

#: Entities whose recognizers validate a checksum or a strict format: they win any overlap.
STRUCTURED = frozenset(
    {
        "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "PHONE_NUMBER", "URL",
        "US_ITIN", "US_PASSPORT", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "CRYPTO", "UK_NHS",
        "MEDICAL_LICENSE", "MAC_ADDRESS", "UUID", "NATIONAL_ID",
    }
)  # fmt: skip
#: Words NER tags as organisations or people that are payment/technical terms, not PII.
NOT_ENTITIES = frozenset(
    [
        *"""visa mastercard amex discover maestro jcb iban bic swift sepa ssn itin ipv4 ipv6 ip url
        email e-mail pin cvv cvc otp sms atm dob zip usd eur gbp faq api wifi wi-fi vpn pdf http https""".split(),
        "master card",
        "american express",
        "credit card",
        "debit card",
        "social security",
    ]
)
#: Tie-break between types proposed for the same span (earlier wins).
_PRIORITY = (
    "EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS", "US_SSN", "NATIONAL_ID", "URL", "PHONE_NUMBER",
    "STREET_ADDRESS", "PERSON", "LOCATION",
)  # fmt: skip

def _tier(r: RecognizerResult) -> int:
    """2: validated formats; 1: Bedside's recognizers; 0: statistical NER."""
    if r.entity_type in STRUCTURED:
        return 2
    if is_bedside(r) and not (r.entity_type == "PERSON" and r.score < 0.6):
        return 1
    return 0 if r.entity_type in NER_TYPES else 1


def _rank(r: RecognizerResult) -> tuple[int, float, int, int]:
    prio = _PRIORITY.index(r.entity_type) if r.entity_type in _PRIORITY else len(_PRIORITY)
    return (_tier(r), r.score, r.end - r.start, -prio)


#: Capitalised common nouns (abstract nouns, virtues, disciplines) the small model tags as PERSON;
#: alone they are not names. Words that are also first names (Grace, Hope, Faith) are not listed.
COMMON_NOUNS = frozenset(
    """wisdom discipline patience courage honesty integrity loyalty kindness humility gratitude respect
    knowledge truth justice freedom liberty peace love hate fear anger joyfulness happiness sadness
    success failure power strength beauty virtue vice pride greed envy wrath sloth lust gluttony
    ambition passion curiosity creativity leadership teamwork excellence innovation quality safety
    health wealth fortune fate destiny karma nature science history mathematics math physics
    chemistry biology philosophy psychology economics literature music art poetry religion faithfulness
    compassion empathy mercy forgiveness trust hope despair chaos order silence darkness light death
    life time space energy wellness mindfulness motivation focus balance harmony unity diversity
    equality charity grace""".split()
)
_LOCATION_PREP_RE = re.compile(
    r"(?i:\b(?:in|at|from|to|near|across|around|through|into|of|outside|inside|visit(?:ed|ing)?|via|toward|towards))[ \t]+(?:the[ \t]+)?$"
)


#: The last word of a public place's name ("Central Park", "the British Museum"): no one's address.
_LANDMARK_RE = re.compile(
    r"(?i:park|museum|tower|square|gate|bridge|cathedral|palace|castle|stadium|arena|airport|zoo|gallery|abbey|"
    r"temple|basilica|monument|memorial|theatre|theater|opera|garden|gardens|market|falls|canyon)$"
)
#: A model name after a brand NER read as a person ("the Dyson V15", "Galaxy S23").
_MODEL_AFTER_RE = re.compile(r"[ \t]+\p{Lu}{0,3}\d[\p{L}\d-]*\b")
_ARTICLE_BEFORE_RE = re.compile(r"(?i:\bthe)[ \t]+$")


#: A street named without a house number: the name ends with a street type or starts with a street
#: word ("Oxford Street", "Rue de Rivoli", "Piazza Navona"), or a street type follows the span
#: ("George" + " Street").
_STREET_NAME_RE = re.compile(
    r"(?:^|[ \t])(?:Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|Drive|Crescent|Terrace|"
    r"Gardens|Mews|Parade|Embankment|Straße|Strasse|Platz|Allee|Straat|Gracht|Gatan|Gade)(?:[ \t]+(?:North|South|East|West))?$"
    r"|^(?:Rue|Via|Viale|Piazza|Corso|Calle|Carrer|Avenida|Paseo|Plaza|Rua|Praça|Boulevard|Place|Avenue|Plac|Ulica|Las|Los|La|El|Gran|Unter)[ \t]"
)
_STREET_AFTER_RE = re.compile(r"[ \t]+(?:Street|St\.?|Road|Avenue|Ave\.?|Boulevard|Drive|Square|Gardens)\b")


def _product_or_place(text: str, r: RecognizerResult) -> bool:
    """A product ("the Dyson V15", "Galaxy S23") or a public place or street named without a
    number ("Central Park", "Oxford Street", "Baker" + " Street"), unless an address cue comes
    before it ("I live on Oxford Street"). Results from Bedside's strong name cues (score >= 0.85)
    and Bedside's addresses are kept."""
    if r.entity_type not in ("PERSON", "LOCATION", "ORGANIZATION"):
        return False
    if is_bedside(r) and (r.entity_type != "PERSON" or r.score >= 0.85):
        return False
    value = text[r.start : r.end]
    if _LANDMARK_RE.search(value) and not is_bedside(r):
        return True
    if (_STREET_NAME_RE.search(value) or _STREET_AFTER_RE.match(text, r.end)) and not address_cue_before(text, r.start):
        return True
    return r.entity_type == "PERSON" and (
        _MODEL_AFTER_RE.match(text, r.end) is not None or _ARTICLE_BEFORE_RE.search(text, 0, r.start) is not None
    )


def drop_false_positives(text: str, results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """Remove NER hits on payment/technical terms ("Visa", "IBAN"), NER PERSON hits on one common
    noun ("Discipline") not next to a first name, NER hits on public places ("Central Park") and
    products ("the Dyson V15"), and empty spans."""
    out = []
    for r in results:
        if r.end <= r.start:
            continue
        value = _normal(text[r.start : r.end])
        if r.entity_type in NER_TYPES and value in NOT_ENTITIES:
            continue
        if _product_or_place(text, r):
            continue
        if r.entity_type == "PERSON" and not is_bedside(r) and (value in COMMON_NOUNS or value in NOT_NAMES):
            if not _next_to_first_name(text, r.start, r.end):
                continue
        out.append(r)
    return out


_WORD_BEFORE_RE = re.compile(r"([\p{L}\p{M}'’]+)[ \t]+$")
_WORD_AFTER_RE = re.compile(r"[ \t]+([\p{L}\p{M}'’]+)")


def _next_to_first_name(text: str, start: int, end: int) -> bool:
    before = _WORD_BEFORE_RE.search(text[max(0, start - 40) : start])
    after = _WORD_AFTER_RE.match(text, end)
    names = first_names()
    return any(m is not None and m.group(1)[:1].isupper() and fold(m.group(1)) in names for m in (before, after))


def _names_over_places(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """A one-word NER LOCATION that is a known first name and follows no place preposition
    (``Why is Rebecca so ...``, not ``in Victoria``) is read as a PERSON."""
    names = first_names()
    out = []
    for r in results:
        value = text[r.start : r.end]
        if (
            r.entity_type == "LOCATION"
            and not is_bedside(r)
            and value.isalpha()
            and value[:1].isupper()
            and value[1:].islower()
            and fold(value) in names
            and not _LOCATION_PREP_RE.search(text[max(0, r.start - 30) : r.start])
        ):
            r = RecognizerResult("PERSON", r.start, r.end, r.score, recognition_metadata=r.recognition_metadata)
        out.append(r)
    return out


def _normal(s: str) -> str:
    return " ".join(s.strip(" \t\n.,;:!?'\"()").lower().split())


def _meaningful(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    if end - start < 2 or not any(c.isalnum() for c in text[start:end]):
        return None
    return start, end


def resolve_overlaps(text: str, results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """Return non-overlapping results with one type per span.

    Same-type overlaps merge into their union. Across types the higher-ranked result (validated
    format > Bedside recognizer > NER, then score, then length) keeps its span; a lower-ranked
    validated result that overlaps it is dropped (the phone inside an IP, the URL inside an e-mail),
    any other loser keeps only the parts outside the winners, so nothing detected is left unredacted.
    """
    merged: dict[str, list[RecognizerResult]] = {}
    for r in sorted(results, key=lambda x: (x.entity_type, x.start, -x.end)):
        group = merged.setdefault(r.entity_type, [])
        if group and r.start < group[-1].end:
            last = group[-1]
            keep = last if _rank(last) >= _rank(r) else r
            group[-1] = RecognizerResult(
                last.entity_type,
                last.start,
                max(last.end, r.end),
                max(last.score, r.score),
                recognition_metadata=keep.recognition_metadata,
            )
        else:
            group.append(r)
    kept: list[RecognizerResult] = []
    for r in sorted((r for g in merged.values() for r in g), key=_rank, reverse=True):
        pieces = [(r.start, r.end)]
        dropped = False
        for k in kept:
            if not any(k.start < e and k.end > s for s, e in pieces):
                continue
            if r.entity_type in STRUCTURED:
                dropped = True
                break
            nxt: list[tuple[int, int]] = []
            for s, e in pieces:
                if k.end <= s or k.start >= e:
                    nxt.append((s, e))
                else:
                    nxt.extend(p for p in ((s, k.start), (k.end, e)) if p[1] > p[0])
            pieces = nxt
        if dropped:
            continue
        for s, e in pieces:
            span = (s, e) if (s, e) == (r.start, r.end) else _meaningful(text, s, e)
            if span is None:
                continue
            if (s, e) != (r.start, r.end) and r.entity_type in NER_TYPES:
                if _normal(text[span[0] : span[1]]) in NOT_ENTITIES | NOT_NAMES:
                    continue
            kept.append(RecognizerResult(r.entity_type, span[0], span[1], r.score, recognition_metadata=r.recognition_metadata))
    return sorted(kept, key=lambda x: (x.start, x.end))


_LIST_ITEM = r"\p{Lu}[\p{Ll}\p{M}'’]+(?:-\p{Lu}?[\p{Ll}\p{M}'’]+)*(?:[ \t]+(?:\p{Lu}\.?[ \t]+)?\p{Lu}[\p{Ll}\p{M}'’]+(?:-\p{Lu}?[\p{Ll}\p{M}'’]+)*){0,2}"
#: ``A, B and C`` / ``A and B`` / ``A & B``: capitalised items joined by commas and a conjunction.
_LIST_RE = re.compile(
    rf"(?<![\p{{L}}\p{{M}}])(?:{_LIST_ITEM})(?:,[ \t]+(?:{_LIST_ITEM}))*,?[ \t]+(?:and|&|or)[ \t]+(?:{_LIST_ITEM})(?![\p{{L}}\p{{M}}])"
)
_ITEM_RE = re.compile(_LIST_ITEM)


def _name_lists(text: str, results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """Items of a list of names are names (``founders: Kónya, Becker and Vasquez``).

    A list counts when one item is already a PERSON, a known first name or a surname that is no
    English word, and at least half of its items are name-like (also surnames such as ``Brown``).
    Items the NER model reads as places are no evidence (``France, Germany and Spain``) and become
    names only in a list with two or more other name items; items of other types are left alone.
    """
    if " and " not in text and " & " not in text and " or " not in text:
        return []
    persons = [(r.start, r.end) for r in results if r.entity_type == "PERSON"]
    others = [(r.start, r.end, r.entity_type == "LOCATION" and not is_bedside(r)) for r in results if r.entity_type != "PERSON"]
    firsts, every, strong = first_names(), surnames(), strong_surnames()
    out: list[RecognizerResult] = []
    for m in _LIST_RE.finditer(text):
        items: list[tuple[int, int, list[str]]] = []
        for it in _ITEM_RE.finditer(text, m.start(), m.end()):
            words = it.group().split()
            while words and words[0].lower() in NOT_NAMES | NOT_ENTITIES:
                words = words[1:]
            if not words:
                items = []
                break
            start = it.end() - len(" ".join(words)) if len(words) < len(it.group().split()) else it.start()
            held = [ner_place for os_, oe, ner_place in others if os_ < it.end() and oe > start]
            if held and not all(held):
                continue  # an address or a validated value: left to its type
            items.append((start, it.end(), [] if held else [fold(w) for w in words]))
        if len(items) < 2:
            continue
        seeded = namey = 0
        for s, e, words in items:
            is_person = any(ps < e and pe > s for ps, pe in persons)
            strong_hit = is_person or any(w in firsts or w in strong for w in words)
            seeded += strong_hit
            namey += strong_hit or any(w in every for w in words)
        if seeded and 2 * namey >= len(items):
            for s, e, words in items:
                if words or seeded >= 2:  # an NER place among two or more names is a mis-tagged name
                    out.append(RecognizerResult("PERSON", s, e, 0.6, recognition_metadata={"source": BEDSIDE_SOURCE}))
    return out


_TOKEN_RE = re.compile(r"[\p{L}\p{M}'’-]{3,}")


def _propagate_names(text: str, results: Sequence[RecognizerResult]) -> list[RecognizerResult]:
    """A name found once is a name everywhere in the same text (``Ann ... Ann's``)."""
    tokens: set[str] = set()
    for r in results:
        if r.entity_type == "PERSON":
            for m in _TOKEN_RE.finditer(text[r.start : r.end]):
                word = m.group().strip("'’-")
                if len(word) >= 3 and word[0].isupper() and word.lower() not in NOT_NAMES | NOT_ENTITIES:
                    tokens.add(word)
    out: list[RecognizerResult] = []
    for word in tokens:
        for m in re.finditer(rf"(?<![\p{{L}}\p{{M}}]){re.escape(word)}(?![\p{{L}}\p{{M}}])", text):
            out.append(RecognizerResult("PERSON", m.start(), m.end(), 0.6, recognition_metadata={"source": BEDSIDE_SOURCE}))
    return out


def clean(text: str, raw: Iterable[RecognizerResult], wanted: set[str], threshold: float, *, all_places: bool = False) -> list[RecognizerResult]:
    """Non-overlapping results for the ``wanted`` entities at or above ``threshold``, sorted;
    ``all_places``: no place is dropped for being named in passing (the policy's ``pii.places: all``)."""
    cleaned = drop_not_data(text, drop_misreadings(text, drop_false_positives(text, raw)))
    if "PERSON" in wanted:
        cleaned = _names_over_places(text, cleaned)
    if not all_places:
        cleaned = not_places(text, cleaned)
    resolved = resolve_overlaps(text, cleaned)
    if "PERSON" in wanted:
        resolved = resolve_overlaps(text, resolved + _name_lists(text, resolved))
        resolved = resolve_overlaps(text, resolved + _propagate_names(text, resolved))
    return [r for r in resolved if r.entity_type in wanted and r.score >= threshold]

"""Whether a text can hold anything the spaCy NER would find: the gate in front of the NER.

The NER (``en_core_web_sm``) is most of the PII analysis' cost (about 3 ms for a 30-word message,
15 ms for 150 words on the reference machine), and in a text written in ordinary case it finds
names, places and organisations by their capital letters. Most support messages hold none beyond
the first word of a sentence and "I". :func:`ner_ranges` says which sentences of a text have a
word that could start a named entity; the analysis runs the NER on those only (none: it is
skipped) and every other recognizer on the whole text's tokens (``AnalyzerHandle.analyze``).

The gate is conservative. The whole text goes to the NER when it is typed without any capital
letter at all (the NER then also reads lower-case places), has letters outside the Latin script,
or is mostly in capitals. Otherwise a sentence goes to the NER when it

* has a word with a capital letter anywhere but at its start, other than "I" and its contractions;
* starts with a capitalised word that is not in :data:`SENTENCE_STARTERS`, a closed list of
  function words, greetings and common verbs that are not names (no "Will", "May", "Hope",
  "Grace", "Mark", colours or months: those go to the NER);
* has a word in lower case that is a known first name, a surname that is not also an English word,
  or a country or region (the gazetteers of the person recognizer and the clean-up): the NER
  finds names written in lower case in an otherwise capitalised text ("the patient is maria
  garcia"), which the heuristics alone miss;
* has a word that ties a place to someone ("live", "from", "flying", "I'm in", ...): the NER also
  finds some places written in lower case ("the rain in seattle").

Names in lower case in ordinary text ("my friend maria") are the heuristic person recognizer's,
which runs either way. ``bench/pii_eval.py`` measured the gate: the same leaks on every source
(``docs/pii.md``, "The NER gate").
"""

from __future__ import annotations

from functools import lru_cache

import regex as re

__all__ = ["SENTENCE_STARTERS", "ner_ranges"]

#: words that, capitalised at the start of a sentence, are not names (lower case)
SENTENCE_STARTERS = frozenset("""
a about above actually after again all also although always am an and another any anyway anything
are as at back be because been before being below besides both but by can cannot could did do does
doing done during each either else even every everything few first for from further had has have
having he her here hers herself hey hi him himself his how however i if in instead into is it its
itself just last let lets let's like maybe me meanwhile more most much must my myself neither never
nevertheless next no nobody none nor not nothing now of off often oh ok okay on once one only or
other otherwise our ours ourselves out over perhaps please quite rather really regarding same second
shall she should since so some somebody someone something sometimes soon sorry still such sure than
thank thanks that that's the their theirs them themselves then there there's therefore these they
they're third this those though through thus to today tomorrow too two under unfortunately unless
until up upon us very was we we're were what what's whatever when whenever where whereas wherever
whether which while who whoever whom whose why with within without would yes yesterday yet you
you're your yours yourself yourselves hello dear greetings good great fine right well alright cheers
ask asking call calling check checking could couldn't did didn't do don't does doesn't is isn't was
wasn't are aren't can't won't wouldn't shouldn't haven't hasn't hadn't it's i'm i've i'll i'd he's
she's we've we'll they've they'll you've you'll you'd need needs want wants got get getting give
send sending tell telling make made see seems seem help helping note noted received receiving
order ordered paid paying tried trying went going just kindly honestly anyway besides nope yeah yep
""".split())

#: words that tie a place to someone ("I live in ...", "I'm in ...", "flying to ..."): a text with one
#: goes to the NER whatever its case, since a place then becomes personal data and the NER also
#: finds some places written in lower case
_PERSONAL_PLACE_CUE = re.compile(
    r"(?i)\b(?:live[sd]?|living|born|raised|grew\s+up|moved|moving|relocat\w*|based|resid\w*|from|citizen|"
    r"native|home|address|located|stay\w*|travel\w*|visit\w*|trip|flying|flight|going|holiday|vacation|"
    r"(?:i|we|they|he|she)(?:['\u2019]m|['\u2019]re|['\u2019]s|\s+am|\s+are|\s+is|\s+was|\s+were)\s+(?:\w+\s+)?in|"
    r"(?:here|over|back|currently|now)\s+in)\b")

_LOWER_WORD = re.compile(r"(?<![\p{L}\p{M}])\p{Ll}[\p{Ll}\p{M}'\u2019\-]+")


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    """First names, surnames that are not also English words, and countries and regions (lower
    case): the same gazetteers the person recognizer and the clean-up read, less the function words
    some of them hold ("you", "from", "how": first names somewhere in the world)."""
    from proxy.detectors.pii_places import regions
    from proxy.detectors.pii_recognizers import NOT_NAMES, first_names, strong_surnames

    return (first_names() | strong_surnames() | regions()) - SENTENCE_STARTERS - NOT_NAMES


#: "I" and its contractions (any apostrophe)
_I_FORMS = re.compile(r"I(?:['\u2019](?:m|ve|ll|d|M|VE|LL|D))?")
_WORD = re.compile(r"\p{L}[\p{L}\p{M}'\u2019\-]*")
_NON_LATIN = re.compile(r"[^\p{Latin}\P{L}]")
#: what may stand between a sentence's end and its first word (spaces, quotes, brackets, bullets)
_OPENERS = " \t\r\n\"'\u201c\u2018([*-\u2022>"


def _sentence_start(text: str, start: int) -> bool:
    """Whether the word at ``start`` begins the text, a line or a sentence."""
    i = start - 1
    while i >= 0 and text[i] in _OPENERS:
        if text[i] == "\n":
            return True
        i -= 1
    return i < 0 or text[i] in ".!?:;"


#: where a sentence ends: after ., ! or ? and white space (lines without one stay together: an
#: address block or a signature is read as one)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence (and line) of ``text``."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            out.append((start, m.start()))
        start = m.end()
    if start < len(text):
        out.append((start, len(text)))
    return out


def _sentence_may_hold(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (one sentence of a cased text) has a word that could start a
    named entity (the module docstring's list)."""
    part = text[start:end]
    if _PERSONAL_PLACE_CUE.search(part):
        return True
    known = _known_names()
    if any(w in known for w in _LOWER_WORD.findall(part)):
        return True  # a name in lower case in a cased text ("the patient is maria garcia")
    for m in _WORD.finditer(text, start, end):
        word = m.group()
        if not any(c.isupper() for c in word):
            continue
        if _I_FORMS.fullmatch(word):
            continue
        if word[0].isupper() and not any(c.isupper() for c in word[1:]) and _sentence_start(text, m.start()) \
                and word.lower().replace("\u2019", "'") in SENTENCE_STARTERS:
            continue
        return True
    return False


def ner_ranges(text: str) -> list[tuple[int, int]] | None:
    """The parts of ``text`` the NER must read: ``None`` for all of it, ``[]`` for none, otherwise
    the ``(start, end)`` character ranges of the sentences that may hold a named entity (adjacent
    ones joined, so the NER reads them together as it would in the whole text)."""
    if not any(c.isupper() for c in text) or _NON_LATIN.search(text):
        return None
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) * 2 > len(letters):
        return None  # mostly capitals: case says nothing
    sentences = _sentences(text)
    ranges: list[tuple[int, int]] = []
    joined = False
    for start, end in sentences:
        if not _sentence_may_hold(text, start, end):
            joined = False
            continue
        if joined and ranges:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
        joined = True
    if len(ranges) == 1 and ranges[0][0] == sentences[0][0] and ranges[0][1] == sentences[-1][1]:
        return None
    return ranges

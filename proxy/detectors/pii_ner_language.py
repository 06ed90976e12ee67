"""The English NER's misreadings of other languages: dropped before overlaps are resolved.

Bedside's NER (``en_core_web_sm``) reads every text as English. In a sentence of another language
it takes ordinary words for names and places: runs of lower-case words (``hond loopt los``,
``sigue el papel``, ``bin mir``), a capitalised first word (``Der Kuchen``, ``Necesito``,
``Merhaba,``), and in scripts without capitals whatever it meets (``경비실에 맡겨도``,
``هنكلمك بكرة``). :func:`drop_misreadings`, a step of :func:`proxy.detectors.pii_cleanup.clean`,
reads each line of an NER PERSON or LOCATION in a sentence that is not English as follows:

* in a script with capitals (Latin, Cyrillic, Greek, Armenian), only its capitalised core is kept:
  words in lower case at either end go, and so do capitalised words of another language or English
  stop words there (``Je``, ``Sie``, ``Un``), but not particles inside or at the start of a name
  (``Fenna van 't Hof``, ``Ms. van der Berg``), a lone capitalised word inside a sentence
  (``zadzwoń do Ani``), nor a gazetteer first name typed in lower case that is no word of another
  language, no English word and no day or month (``lisa``, ``ivana``; not ``domingo``);
* a core of one word is dropped when it stands first in its sentence or line and a mark or a word
  in lower case follows it (``Bedankt voor``, ``Merhaba, ...``), when it is alone on its line
  before a comma (a sign-off: ``Groetjes,``), or after a German article (``der Kuchen``); never
  when it is a known first name or surname, carries a Turkish suffix after an apostrophe
  (``Selin'e``), or stands before "and" and another capitalised word (``Zosia i Bartek``), and a
  name alone at the end of its line (a signature) is kept;
* in a script without capitals (Chinese, Japanese, Korean, Arabic, Hebrew, Indic, Thai ...) the
  model has nothing to go by: its reading is kept only when the text holds personal data some other
  recognizer found (a phone, an address, a name after its cue) or a Latin-script NER name with a
  known first name or surname. Names in those scripts are found by how people mark them
  (:mod:`proxy.detectors.pii_names_scripts`) and by form labels.

A sentence is not English when, among its words in lower case, words of other languages
(``data/function_words.txt``: spaCy's stop-word lists of 37 languages written in the Latin script,
less English words; built by ``training/build_function_words.py``), French and Italian elisions
(``l'heure``) and words with letters English has not (``ş``, ``ñ``, another script) outnumber English
stop words and contractions (``it’s``), two at least. Capitalised words
are not counted: they may be the names. A sentence with too little to tell takes the verdict of the
whole text, and a text with too little to tell is taken for English, whose readings this step never
changes. Bedside's own recognizers, which read cues of many languages, are never touched here.
"""

from __future__ import annotations

import re as re_std
from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import lru_cache

import regex as re
from presidio_analyzer import RecognizerResult

from proxy.detectors.pii_recognizer_base import NER_TYPES, is_bedside
from proxy.detectors.pii_recognizers import data_lines, first_names, fold, name_words, strong_surnames

__all__ = ["drop_misreadings", "is_english"]

_WORD = re.compile(r"\p{L}[\p{L}\p{M}'’-]*")
#: where a sentence may end: ., ! or ? before white space, or a line break (stdlib ``re``: fast)
_SENTENCE_END = re_std.compile(r"[.!?][ \t]+|\n")
#: a word of one to three letters before a full stop: an abbreviation or an initial (``Ms.``, ``R.``)
_SHORT_WORD = re_std.compile(r"(?:^|[^\w])[^\W\d_]{1,3}$")
#: what may stand before a sentence's first word: quotes, brackets, bullets, a speaker's label
_LEAD = re.compile(r"[ \t\"'“‘«¿¡(*•>-]*(?:\p{L}[\p{L}\p{M}\d ]{0,24}[ \t]?:[ \t]*[\"'“‘«¿¡(]*)?")
#: a letter of a script without capitals
_UNCASED = re.compile(r"[^\p{Latin}\p{Cyrillic}\p{Greek}\p{Armenian}\P{L}]")


@lru_cache(maxsize=1)
def _foreign() -> frozenset[str]:
    """Words of other languages in the Latin script that are no English word (lower case)."""
    return frozenset(data_lines("function_words.txt"))


@lru_cache(maxsize=1)
def _english() -> frozenset[str]:
    """spaCy's English stop words (lower case)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(w.lower() for w in STOP_WORDS)


#: a word (letters, with apostrophes inside): stdlib ``re``, several times faster here than ``regex``
_COUNTED = re_std.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_I_FORMS = frozenset({"I", "I'm", "I've", "I'll", "I'd", "I’m", "I’ve", "I’ll", "I’d"})
#: the endings of English contractions, and the elided articles and pronouns of French and Italian
_CONTRACTIONS = frozenset({"t", "s", "re", "ve", "ll", "d", "m"})
_ELISIONS = frozenset({"l", "d", "j", "c", "qu", "m", "n", "s", "t", "dell", "all", "nell", "sull", "dall", "un"})


def _counts(text: str) -> tuple[int, int]:
    """English stop words and words of other languages or scripts in ``text``. Capitalised words
    are not counted (they may be names: ``María del Carmen``), but for "I" and its contractions."""
    english, foreign = _english(), _foreign()
    en = other = 0
    for word in _COUNTED.findall(text):
        if word[0].isupper():
            en += word in _I_FORMS
        elif word in english:
            en += 1
        elif "'" in word or "’" in word:
            head, _, tail = word.replace("’", "'").partition("'")
            if tail in _CONTRACTIONS and head.isascii():
                en += 1  # don't, it’s, they're
            elif head in _ELISIONS:
                other += 1  # l'amour, c'est, dell'anno
        elif word in foreign or not word.isascii():
            other += 1  # a word of another language, another script, or with letters English has not
    return en, other


def _verdict(en: int, other: int) -> bool | None:
    """True: English; False: another language; None: too little to tell."""
    if other >= 2 and other > en:
        return False
    if en >= 2 and en >= other:
        return True
    return None


def is_english(text: str) -> bool | None:
    """Whether ``text`` reads as English by its function words (None: too little to tell)."""
    return _verdict(*_counts(text))


class _Sentences:
    """The sentences and lines of a text, and whether each (or the whole text) is English."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts, self.ends = [0], []
        for m in _SENTENCE_END.finditer(text):
            if text[m.start()] == "." and _SHORT_WORD.search(text, max(0, m.start() - 4), m.start()):
                continue  # ``Ms. van der Berg``: no sentence ends here
            self.ends.append(m.start() + (text[m.start()] != "\n"))
            self.starts.append(m.end())
        self.ends.append(len(text))
        self._counts: dict[int, tuple[int, int]] = {}
        self._whole: bool | None = None

    def start_of(self, offset: int) -> int:
        """Where the sentence holding ``offset`` starts."""
        return self.starts[bisect_right(self.starts, offset) - 1]

    def english(self, offset: int) -> bool:
        """Whether the sentence holding ``offset`` is English (too little to tell: the whole text's
        verdict; a text with too little to tell is taken for English)."""
        verdict = _verdict(*self._count(bisect_right(self.starts, offset) - 1))
        if verdict is None:
            if self._whole is None:
                counts = [self._count(i) for i in range(len(self.starts))]
                self._whole = _verdict(sum(c[0] for c in counts), sum(c[1] for c in counts)) is not False
            verdict = self._whole
        return verdict

    def _count(self, i: int) -> tuple[int, int]:
        if i not in self._counts:
            self._counts[i] = _counts(self.text[self.starts[i] : self.ends[i]])
        return self._counts[i]


#: lower-case words that begin a name (``van der Berg``, ``de Wit``, ``bin Hashim``, ``al-Amin``)
_LEADING_PARTICLES = frozenset("van von de da di du del della dos bin ibn al el le la".split())


def _core(text: str, start: int, end: int, sentence_start: int) -> tuple[int, int] | None:
    """The capitalised core of ``text[start:end]``: its words less those at either end that are
    written in lower case or, unless the word stands alone inside a sentence (``zadzwoń do Ani``),
    a word of another language or an English stop word capitalised (``Sie``, ``Je``, ``La``).
    Particles inside stay (``Fenna van 't Hof``), and so do those that begin a name (``Ms. van der
    Berg``). None when nothing is left."""
    words = list(_WORD.finditer(text, start, end))
    foreign, english = _foreign(), _english()
    lone = len(words) == 1 and not _at_start(text, words[0].start(), sentence_start)

    def ordinary(m: re.Match[str]) -> bool:
        word = m.group()
        if not word[0].isupper():
            return not _lower_case_name(word)
        return not lone and not word.isupper() and (word.lower() in foreign or word.lower() in english)

    while words and ordinary(words[0]):
        if words[0].group() in _LEADING_PARTICLES and any(w.group()[0].isupper() for w in words[1:]):
            break  # a name's first particle
        words.pop(0)
    while words and ordinary(words[-1]):
        words.pop()
    return (words[0].start(), words[-1].end()) if words else None


#: days and months of languages written with capitals, some of them also first names (``domingo``)
_CALENDAR = frozenset(
    """lunes martes miércoles jueves viernes sábado domingo enero febrero marzo abril mayo junio julio agosto
    septiembre setiembre octubre noviembre diciembre segunda terça quarta quinta sexta janeiro fevereiro março
    maio junho julho setembro outubro novembro dezembro lunedì martedì mercoledì giovedì venerdì sabato domenica
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre lundi mardi mercredi jeudi vendredi
    samedi dimanche janvier février mars avril mai juin juillet août septembre octobre novembre décembre montag
    dienstag mittwoch donnerstag freitag samstag sonntag januar februar märz juni juli oktober dezember maandag
    dinsdag woensdag donderdag vrijdag zaterdag zondag mandag tirsdag onsdag torsdag fredag lørdag lördag søndag
    söndag poniedziałek wtorek środa czwartek piątek sobota niedziela pazartesi salı çarşamba perşembe cuma
    cumartesi pazar senin selasa rabu kamis jumat sabtu minggu""".split()
)


def _lower_case_name(word: str) -> bool:
    """A first name typed in lower case in a chat (``lisa``, ``ivana``): a gazetteer first name that
    is no word of another language, no English word (``name_words``) and no day or month."""
    return word in first_names() and word not in _foreign() and word not in name_words() and word not in _english() \
        and word not in _CALENDAR


def _known_name(word: str) -> bool:
    """A gazetteer first name or a surname that is no English word."""
    folded = fold(word)
    return folded in first_names() or folded in strong_surnames()


def _at_start(text: str, start: int, sentence_start: int) -> bool:
    """Whether ``start`` is the first word of the sentence or line at ``sentence_start``."""
    lead = _LEAD.match(text, sentence_start, start)
    return lead is not None and lead.end() == start


#: a German article or determiner: the capitalised word after it is a noun (``der Kuchen``)
_GERMAN_ARTICLE = re.compile(
    r"(?i:\b(?:der|die|das|den|dem|des|ein|eine|einen|einem|einer|eines|kein|keine|keinen|keinem|keiner|"
    r"mein|meine|meinen|meinem|meiner|dein|deine|sein|seine|seinen|seinem|ihre|ihren|ihrem|unser|unsere|"
    r"zum|zur|vom|im|am|beim|ins|ans)[ \t]+)$"
)


#: lower-case words inside names (``Fenna van 't Hof``, ``Maria da Conceição``, ``Ahmad bin Hashim``)
_PARTICLES = frozenset("van von de der den da das do dos di del della du des la le ter ten bin binti bint al el ibn zu y e t".split())
#: "and" in languages with capitals: a capitalised word before "and" and another capitalised word is
#: one of a list of names (``Zosia i Bartek``)
_AND = frozenset("and i y e und et en og och ve и і a és ja ir un oraz та".split())
#: a proper noun's suffix after an apostrophe (Turkish writes one only there: ``Selin'e``, ``Mert'in``)
_PROPER_SUFFIX = re.compile(r"^\p{Lu}\p{Ll}+['’]\p{Ll}{1,5}$")
_NEXT = re.compile(r"[ \t]*(?:([,:;.!?])|(\p{L}[\p{L}\p{M}'’-]*))")
#: after a particle: at most two more lower-case words, then a capitalised one (``van 't Hof``, ``van der Berg``)
_NAME_GOES_ON = re.compile(r"(?:[ \t]+['’]?\p{Ll}+){0,2}[ \t]+['’]?\p{Lu}")


def _ordinary_first(text: str, start: int, end: int, sentence_start: int) -> bool:
    """Whether the one capitalised word ``text[start:end]`` is an ordinary word by where it stands:
    first in its sentence or line and followed by a mark or a word in lower case that begins no
    name's particle (``Bedankt voor``, ``Necesito ayuda``, ``Merhaba,``), alone on its line before a
    comma (a sign-off: ``Groetjes,``), or after a German article (``der Kuchen``); a known first
    name or surname never is."""
    word = text[start:end]
    if _known_name(word) or _PROPER_SUFFIX.search(word):
        return False
    if not _at_start(text, start, sentence_start):
        return _GERMAN_ARTICLE.search(text, max(sentence_start, start - 12), start) is not None
    nxt = _NEXT.match(text, end)
    if nxt is None:
        return False  # alone at the end of its line or text: a signature's name
    if nxt.group(1):
        return True
    following = nxt.group(2)
    if not following[0].islower():
        return False
    if following in _AND:
        return _NAME_GOES_ON.match(text, nxt.end(2)) is None  # ``Zosia i Bartek``: names in a list
    return following not in _PARTICLES or _NAME_GOES_ON.match(text, nxt.end(2)) is None


def _reading(text: str, start: int, end: int, sentence_start: int, evidence: Callable[[], bool]) -> tuple[int, int] | None:
    """What of ``text[start:end]`` (one line of an NER result in a sentence of another language)
    may be a name or a place: its capitalised core, the whole of it (another script, when the
    text holds other personal data), or None."""
    if _UNCASED.search(text, start, end):
        return (start, end) if evidence() else None
    core = _core(text, start, end, sentence_start)
    if core is None:
        return None
    if len(_WORD.findall(text, core[0], core[1])) == 1 and _ordinary_first(text, core[0], core[1], sentence_start):
        return None
    return core


_LINE = re.compile(r"[^\n]+")


def _line_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` cut at line breaks, each piece without its outer white space."""
    pieces = []
    for m in _LINE.finditer(text, start, end):
        a, b = m.start(), m.end()
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            pieces.append((a, b))
    return pieces


def _holds_personal_data(text: str, results: list[RecognizerResult]) -> bool:
    """Whether ``text`` holds personal data found otherwise than by the NER's reading of another
    script: any other recognizer's result scoring 0.5 or more, or an NER name in the Latin script
    with a known first name or surname (``张晓东`` + ``Zhang Xiaodong``)."""
    for r in results:
        if (r.entity_type not in NER_TYPES or is_bedside(r)) and r.score >= 0.5:
            return True
        if r.entity_type == "PERSON" and not _UNCASED.search(text, r.start, r.end):
            if any(_known_name(w) for w in _WORD.findall(text, r.start, r.end)):
                return True
    return False


def drop_misreadings(text: str, results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """``results`` without the NER's names and places misread in sentences of another language,
    and with what may be one narrowed to it (the module docstring's rules)."""
    results = list(results)
    if not any(r.entity_type in ("PERSON", "LOCATION") and not is_bedside(r) for r in results):
        return results
    holds: list[bool] = []  # whether the text holds other personal data: asked only for another script

    def evidence() -> bool:
        if not holds:
            holds.append(_holds_personal_data(text, results))
        return holds[0]

    sentences = _Sentences(text)
    out = []
    for r in results:
        if r.entity_type not in ("PERSON", "LOCATION") or is_bedside(r):
            out.append(r)
            continue
        kept: list[tuple[int, int]] = []
        changed = False
        for start, end in _line_pieces(text, r.start, r.end):
            english = sentences.english(start)
            piece = (start, end) if english else _reading(text, start, end, sentences.start_of(start), evidence)
            changed |= piece != (start, end)
            if piece is not None:
                kept.append(piece)
        if not changed:
            out.append(r)  # the later steps judge it whole (a name read across lines: pii_not_data)
            continue
        out.extend(RecognizerResult(r.entity_type, a, b, r.score, recognition_metadata=r.recognition_metadata) for a, b in kept)
    return out

"""A cheap guess at the language of a text (:func:`detect_language`), for the ``language`` rail.

Pure Python, no guardrails-ai: scripts decide non-Latin text, common function words Latin text.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["detect_language"]

_STOPWORDS: Final[dict[str, frozenset[str]]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and is are was were you your i my to of in that it this for with have not be "
              "what can please would could do does how me we they an at from there will",
        "es": "el la los las y es son que de en un una por para con no se su mi tu yo lo como "
              "pero más está estoy tengo quiero hola gracias usted",
        "fr": "le la les et est sont que de des du en un une pour avec ne pas se son mon je tu "
              "vous nous il elle ce qui bonjour merci suis",
        "de": "der die das und ist sind nicht ein eine zu mit für ich du sie wir es den dem "
              "auf ein auch wie bitte danke habe haben mein",
        "it": "il lo la gli le e è sono che di in un una per con non si mio tu io noi come "
              "ma anche questo ciao grazie sono ho",
        "pt": "o a os as e é são que de do da em um uma por para com não se meu eu você nós "
              "como mas também olá obrigado tenho",
        "nl": "de het een en is zijn niet van in op voor met ik je jij wij we dat die er "
              "maar ook hoe alstublieft dank heb",
    }.items()
}
_SCRIPTS: Final = (
    ("ja", ((0x3040, 0x30FF),)),
    ("ko", ((0xAC00, 0xD7AF), (0x1100, 0x11FF))),
    ("zh", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))),
    ("ru", ((0x0400, 0x04FF),)),
    ("el", ((0x0370, 0x03FF),)),
    ("ar", ((0x0600, 0x06FF), (0x0750, 0x077F))),
    ("he", ((0x0590, 0x05FF),)),
    ("hi", ((0x0900, 0x097F),)),
    ("th", ((0x0E00, 0x0E7F),)),
)
_LATIN_WORD = re.compile(r"[a-zà-öø-ÿ']+")


def detect_language(text: str, *, min_words: int = 3) -> str | None:
    """A cheap guess at the language of ``text``: ISO 639-1 code, or None when unsure.

    Non-Latin scripts decide by script (Japanese kana wins over shared Han characters; any
    Cyrillic is reported as "ru"). Latin text is judged by counting common function words of
    en/es/fr/de/it/pt/nl; fewer than ``min_words`` words or fewer than two function-word hits
    give None.
    """
    if not text.isascii():
        counts: dict[str, int] = {}
        latin = 0
        for ch in text:
            cp = ord(ch)
            if cp < 0x250:
                latin += ch.isalpha()
                continue
            for lang, ranges in _SCRIPTS:
                if any(lo <= cp <= hi for lo, hi in ranges):
                    counts[lang] = counts.get(lang, 0) + 1
                    break
        if counts:
            if counts.get("ja") and counts.get("zh"):
                counts["ja"] += counts.pop("zh")
            lang, n = max(counts.items(), key=lambda kv: kv[1])
            if n >= latin:
                return lang
    words = _LATIN_WORD.findall(text.lower())
    if len(words) < min_words:
        return None
    scores = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    return lang if best >= 2 else None

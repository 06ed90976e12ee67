"""Build ``proxy/detectors/data/function_words.txt``: words of languages written in the Latin script
other than English (``der``, ``und``, ``los``, ``pour``, ``też``, ``och``, ``ve``) that are no
English word, so a sentence can be told to be in another language by counting them.

Run offline: ``python -m training.build_function_words``. Deterministic. Source: spaCy's stop-word
lists (``spacy.lang.<code>.stop_words``, MIT, installed with spaCy) of the languages in
:data:`LANGUAGES`; a word is left out when it is an English word (spaCy's English lemma tables and
stop words, with their regular inflections: ``sons``, ``dies``) or English chat usage
(:data:`ENGLISH_CHAT`: ``lol``, ``im``, ``ya``). The PII clean-up reads the list
(``proxy/detectors/pii_ner_language.py``): the English NER's names and places in a sentence of another
language are mostly ordinary words.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from training.build_name_words import english_words

OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "data" / "function_words.txt"
#: spaCy's languages written in the Latin script (Norwegian Nynorsk has no list of its own)
LANGUAGES = (
    "af", "ca", "cs", "da", "de", "es", "et", "eu", "fi", "fr", "ga", "hr", "hu", "id", "is", "it", "la", "lb",
    "lg", "lij", "lt", "lv", "ms", "nb", "nl", "pl", "pt", "ro", "sk", "sl", "sq", "sv", "tl", "tn", "tr", "vi", "yo",
)  # fmt: skip
#: English as typed in chats and forums, which some of those lists also hold
ENGLISH_CHAT = frozenset(
    """lol lmao rofl haha hahaha hehe aha ah eh oh um uh hmm nah yeah yep ya yo ye im dont cant wont isnt didnt
    doesnt ive id ill op etc ty thx pls plz ik og wat ez af memes vid vids pre ok okay bro sis mom dad hi ha ho
    pa ma tv pc man""".split()
)


def _inflected(words: set[str]) -> set[str]:
    """``words`` with the regular English inflections of each (-s, -es, -ed, -d, -ing)."""
    out = set(words)
    for w in words:
        out.update((w + "s", w + "es", w + "ed", w + "d", w + "ing"))
    return out


def build() -> list[str]:
    """The sorted words (lower case, letters only, two or more) of :data:`LANGUAGES`' stop lists
    that are no English word (the module docstring's rule)."""
    from training.build_name_words import stop_words

    lists: dict[str, int] = {}
    for code in LANGUAGES:
        listed = importlib.import_module(f"spacy.lang.{code}.stop_words").STOP_WORDS
        for w in {w.lower() for w in listed if w.isalpha() and len(w) >= 2}:
            lists[w] = lists.get(w, 0) + 1
    lemmas = _inflected({w for w in english_words() if len(w) >= 3})
    english = stop_words() | ENGLISH_CHAT
    return sorted(w for w, n in lists.items() if w not in english and not (w in lemmas and len(w) >= 3 and n <= 2))


def main(argv: list[str] | None = None) -> int:
    """Write the list to ``--out``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    words = build()
    header = (
        "# Words of other languages in the Latin script that are no English word (spaCy's stop-word lists, MIT,\n"
        f"# of {' '.join(LANGUAGES)}). Built by python -m training.build_function_words.\n"
    )
    args.out.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

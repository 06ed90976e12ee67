"""Leave-one-source-out model selection of the harmful-request detector (``training/harm_selection.py``):
a source's own rows never choose the setting that scores it, and false stops cap the choice."""

from __future__ import annotations

import numpy as np

from training.harm_selection import ALWAYS_GATED, MAX_FALSE_STOPS, Setting, family, flags_for, group_masks, nested, select


def _data() -> tuple[dict[tuple[str, float], np.ndarray], np.ndarray, np.ndarray, dict[tuple[str, int], np.ndarray]]:
    # three harmful sources and two benign ones; the model logit separates them except on "hard_benign"
    sources = ["h1"] * 20 + ["h2"] * 20 + ["h3"] * 20 + ["b1"] * 50 + ["hard_benign"] * 50
    labels = [1] * 60 + [0] * 100
    logits = np.r_[np.full(20, 3.0), np.full(20, 2.5), np.full(20, 1.5), np.full(50, -3.0), np.linspace(-3.0, 2.0, 50)]
    heur = np.zeros(len(labels))
    fired = np.zeros(len(labels), dtype=bool)
    return {("lexicon", 1.0): logits}, heur, fired, group_masks(sources, labels)


def test_flags_follow_the_setting() -> None:
    logits = np.array([4.0, 0.0, -4.0])
    heur = np.array([0.0, 3.0, 0.0])
    fired = np.array([False, True, False])
    assert flags_for(Setting("lexicon", 1.0, 1.0, -2.0, False), logits, heur, fired).tolist() == [True, True, False]
    assert flags_for(Setting("lexicon", 1.0, 1.0, -2.0, True), logits, heur, fired).tolist() == [False, True, False]  # gated: needs a feature


def test_selection_keeps_every_benign_source_under_the_cap() -> None:
    oos, heur, fired, groups = _data()
    chosen = select(oos, heur, fired, groups)
    flags = flags_for(chosen, oos[(chosen.features, chosen.c)], heur, fired)
    assert flags[groups[("hard_benign", 0)]].mean() <= MAX_FALSE_STOPS
    assert flags[groups[("h1", 1)]].all() and flags[groups[("h2", 1)]].all()


def test_nested_selection_leaves_the_scored_source_out() -> None:
    oos, heur, fired, groups = _data()
    res = nested(oos, heur, fired, groups, log=lambda _: None)
    # without hard_benign the cap no longer binds: a looser setting is chosen, and it shows its false stops there
    loose, flags = res[("hard_benign", 0)]
    assert loose != select(oos, heur, fired, groups)
    assert flags.mean() > MAX_FALSE_STOPS


def test_sources_generated_together_are_held_out_together() -> None:
    assert family("own_styled_harmful") == family("own_styled_benign")
    assert family("dna_toxicity") == family("dna_malicious_uses") == "dna"
    assert family("pyrit_airt") == "pyrit_airt"


def test_always_gated_selection_never_drops_the_gate() -> None:
    oos, heur, fired, groups = _data()
    assert not select(oos, heur, fired, groups).gate  # the toy data has no feature, so only an ungated model detects
    assert select(oos, heur, fired, groups, gates=ALWAYS_GATED).gate
    assert all(s.gate for s, _ in nested(oos, heur, fired, groups, log=lambda _: None, gates=ALWAYS_GATED).values())

"""Leave-one-source-out selection of the encoder head (``training/harm_encoder_selection.py``): the
threshold caps every benign source it may see, a source's own rows never choose what scores it, and
the weights balance classes and sources."""

from __future__ import annotations

import numpy as np
import pytest

from training.harm_encoder_selection import MAX_FALSE_STOPS, Embedded, Setting, choose, groups_of, nested, row_logits, sample_weights, threshold_for


def _data() -> tuple[dict[Setting, np.ndarray], np.ndarray, dict[tuple[str, int], np.ndarray]]:
    # harmful h1, h2; benign b1 (easy) and hard_benign (overlaps the harmful logits)
    sources = ["h1"] * 20 + ["h2"] * 20 + ["b1"] * 50 + ["hard_benign"] * 50
    labels = [1] * 40 + [0] * 100
    good = np.r_[np.full(20, 3.0), np.full(20, 1.0), np.full(50, -3.0), np.linspace(-3.0, 2.0, 50)]
    weak = np.r_[np.full(20, -0.5), np.full(20, -1.0), np.full(50, -3.0), np.linspace(-3.0, 0.0, 50)]
    return {Setting(1.0, "rows"): good, Setting(0.3, "rows"): weak}, np.zeros(len(labels)), groups_of(labels, sources)


def test_the_threshold_keeps_every_benign_source_at_or_under_the_cap() -> None:
    oos, _, groups = _data()
    z = oos[Setting(1.0, "rows")]
    t = threshold_for(z, groups)
    for (source, label), mask in groups.items():
        if not label:
            assert (z[mask] >= t).mean() <= MAX_FALSE_STOPS, source
    assert (z[groups[("hard_benign", 0)]] >= np.nextafter(t, -np.inf) - 0.2).mean() > MAX_FALSE_STOPS, "and it is the lowest such threshold"


def test_choose_takes_the_setting_that_detects_most_under_the_cap() -> None:
    oos, heur, groups = _data()
    chosen = choose(oos, heur, groups, weights=(0.0,))
    assert chosen.setting == Setting(1.0, "rows")
    z = oos[chosen.setting]
    assert (z[groups[("hard_benign", 0)]] >= chosen.threshold).mean() <= MAX_FALSE_STOPS


def test_nested_reports_a_source_under_a_choice_made_without_it() -> None:
    oos, heur, groups = _data()
    res = nested(oos, heur, groups, weights=(0.0,), log=lambda _: None)
    loose, flags = res[("hard_benign", 0)]
    assert loose.threshold < choose(oos, heur, groups, weights=(0.0,)).threshold, "without hard_benign the cap no longer binds"
    assert flags.mean() > MAX_FALSE_STOPS, "so its own figure shows the false stops a new source would see"


def test_hand_written_features_count_only_with_their_weight() -> None:
    oos, _, groups = _data()
    heur = np.r_[np.full(40, 5.0), np.zeros(100)]  # the features fire on every harmful row only
    chosen = choose(oos, heur, groups, weights=(0.0, 1.0))
    assert chosen.features == 1.0
    assert choose(oos, heur, groups, weights=(0.0,)).features == 0.0


def test_weights_balance_classes_and_split_a_row_over_its_windows() -> None:
    labels = [1, 1, 1, 0]
    sources = ["a", "a", "b", "c"]
    counts = np.array([1, 2, 1, 1])
    rows = sample_weights(labels, sources, counts, "rows")
    assert rows[:4].sum() == pytest.approx(rows[4:].sum()) == pytest.approx(2.0), "harmful rows weigh as much as benign ones in total"
    assert rows[1] == rows[2] == pytest.approx(rows[0] / 2), "a row's windows share its weight"
    by_source = sample_weights(labels, sources, counts, "sources")
    assert by_source[:3].sum() == pytest.approx(by_source[3]), "source a weighs as much as source b"
    with pytest.raises(ValueError, match="balance"):
        sample_weights(labels, sources, counts, "nope")


def test_a_row_takes_its_largest_window() -> None:
    emb = Embedded(np.zeros((5, 2), np.float32), np.array([0, 2, 3, 5]))
    assert row_logits(np.array([0.1, 0.9, -1.0, 2.0, 0.5]), emb.starts).tolist() == [0.9, -1.0, 2.0]
    assert emb.row_of.tolist() == [0, 0, 1, 2, 2]


def test_fitting_needs_scikit_learn_and_separates_separable_rows() -> None:
    pytest.importorskip("sklearn")
    from training.harm_encoder_selection import fit_head

    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(1, 0.1, (20, 4)), rng.normal(-1, 0.1, (20, 4))].astype(np.float32)
    y = np.r_[np.ones(20, np.int64), np.zeros(20, np.int64)]
    w, b = fit_head(x, y, np.ones(40), 1.0)
    assert ((x @ w + b > 0) == (y == 1)).all()

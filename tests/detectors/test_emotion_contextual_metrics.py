"""The class-balanced scoring the contextual reader is selected and reported with."""

from __future__ import annotations

import pytest

from proxy.detectors.emotion import EMOTIONS
from proxy.detectors.emotion_contextual_metrics import BEDSIDE_TO_EKMAN6, EKMAN6, balanced_scores


def test_every_bedside_label_maps_to_an_ekman_class() -> None:
    assert set(BEDSIDE_TO_EKMAN6) == set(EMOTIONS)
    assert set(BEDSIDE_TO_EKMAN6.values()) == set(EKMAN6)


def test_perfect_and_constant_predictions() -> None:
    gold = ["joy"] * 90 + ["fear"] * 10
    assert balanced_scores(gold, gold)["macro_f1"] == 1.0
    # always "joy": joy recall 1, precision 0.5 once both classes weigh the same
    scores = balanced_scores(gold, ["joy"] * 100)
    assert scores["per_class"]["joy"]["precision"] == pytest.approx(0.5)
    assert scores["macro_f1"] == pytest.approx((2 * 0.5 / 1.5) / 2)


def test_balancing_weighs_a_rare_class_like_a_common_one() -> None:
    gold = ["joy"] * 90 + ["fear"] * 10
    pred = ["joy"] * 80 + ["fear"] * 10 + ["fear"] * 5 + ["joy"] * 5
    balanced = balanced_scores(gold, pred)
    plain = balanced_scores(gold, pred, balanced=False)
    assert balanced["per_class"]["fear"]["precision"] > plain["per_class"]["fear"]["precision"]


def test_disgust_counts_as_anger_unless_asked_not_to() -> None:
    assert balanced_scores(["disgust", "joy"], ["anger", "joy"])["macro_f1"] == 1.0
    assert balanced_scores(["disgust", "joy"], ["anger", "joy"], merge_disgust=False)["macro_f1"] == 0.5


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="length"):
        balanced_scores(["joy"], [])

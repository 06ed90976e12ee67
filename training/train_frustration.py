"""Fit the frustration score on generated support conversations and ship it as ``frustration.json``.

    python -m training.train_frustration [--out proxy/detectors/emotion_model]

1. Generate the ``train`` split (``training.support_conversations``: 320 conversations, graded
   user turns) and read every turn with the shipped emotion classifier (the run-time code:
   :func:`proxy.detectors.emotion_frustration.turn_facts`).
2. Split the conversations 75 / 25 (seeded): on the 75% fit the **turn model** (ridge regression
   of grade / 4 on the turn's own features), then the **conversation model** (ridge on the turn's
   features, its turn score and the earlier turns'); on the other 25% fit the **isotonic
   calibration** (scikit-learn ``IsotonicRegression``) from the raw score to grade / 4.
3. Measure on the ``held_out`` split (other seed, disjoint templates and domains): Spearman between
   the calibrated score and the grade, mean absolute error in grades, and a reliability table.
   Nothing is chosen on it; the figures are recorded in ``frustration.json``.

Needs numpy, scipy and scikit-learn (training only); deterministic; a few seconds.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proxy.detectors.emotion import DEFAULT_MODEL_DIR, load_classifier
from proxy.detectors.emotion_frustration import FEATURES, TURN_FEATURES, FrustrationModel
from proxy.detectors.emotion_memo import read_turns
from training.support_conversations import SEEDS, conversations

RIDGE = 1.0
SPLIT_SEED = 7


#: features that can only lower the score; every other feature can only raise it (sign-constrained
#: ridge: prior knowledge that keeps the fit sensible on phrasing the generator never wrote)
LOWERING = frozenset({"vader_pos", "polite", "resolved"})


def _ridge(x: np.ndarray, y: np.ndarray, names: Sequence[str], alpha: float = RIDGE) -> tuple[list[float], float]:
    """Ridge regression with each weight's sign fixed (:data:`LOWERING` negative, the rest
    positive) and an unpenalised intercept: non-negative least squares on the centred, sign-flipped,
    ridge-augmented problem."""
    from scipy.optimize import nnls

    sign = np.array([-1.0 if n in LOWERING else 1.0 for n in names])
    mx, my = x.mean(0), y.mean()
    xc = (x - mx) * sign
    aug_x = np.vstack([xc, np.sqrt(alpha) * np.eye(x.shape[1])])
    aug_y = np.concatenate([y - my, np.zeros(x.shape[1])])
    w = nnls(aug_x, aug_y)[0] * sign
    return [float(v) for v in w], float(my - mx @ w)


def _model(turn: tuple[list[float], float], conv: tuple[list[float], float], xs: Sequence[float],
           ys: Sequence[float]) -> FrustrationModel:
    return FrustrationModel({
        "turn": {"features": list(TURN_FEATURES), "weights": turn[0], "bias": turn[1]},
        "conversation": {"features": list(FEATURES), "weights": conv[0], "bias": conv[1]},
        "calibration": {"x": list(xs), "y": list(ys)},
    })


def _rows(clf: Any, model: FrustrationModel, convs: Sequence[dict[str, Any]]) -> tuple[list[Any], list[int]]:
    """(turn facts and states, grades) of every user turn, read with ``model``."""
    states: list[Any] = []
    grades: list[int] = []
    for conv in convs:
        texts = [m["content"] for m in conv["messages"] if m["role"] == "user"]
        grades.extend(int(m["frustration"]) for m in conv["messages"] if m["role"] == "user")
        states.append(read_turns(clf, texts, model=model))
    return states, grades


def _features(model: FrustrationModel, states: Sequence[Sequence[Any]]) -> tuple[np.ndarray, np.ndarray]:
    from proxy.detectors.emotion_frustration import _turn_row, frustration_features

    turn_x, conv_x = [], []
    for conv in states:
        for i, s in enumerate(conv):
            turn_x.append(_turn_row(s.facts))
            score = model.turn_score(s.facts)
            earlier = [(e.facts, model.turn_score(e.facts)) for e in conv[:i]]
            conv_x.append(frustration_features(s.facts, score, earlier, i))
    return np.asarray(turn_x), np.asarray(conv_x)


def evaluate(model: FrustrationModel, clf: Any, convs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Spearman, MAE in grades and a reliability table of the calibrated score on ``convs``."""
    from scipy.stats import spearmanr

    states, grades = _rows(clf, model, convs)
    scores = np.asarray([s.frustration for conv in states for s in conv])
    g = np.asarray(grades)
    bins = []
    for lo in (0.0, 0.2, 0.4, 0.6, 0.8):
        sel = (scores >= lo) & (scores < lo + 0.2 if lo < 0.8 else scores <= 1.0)
        if sel.any():
            bins.append({"score": f"{lo:.1f}-{lo + 0.2:.1f}", "n": int(sel.sum()),
                         "mean_score": round(float(scores[sel].mean()), 3),
                         "mean_grade_over_4": round(float(g[sel].mean() / 4), 3)})
    return {"turns": len(g), "spearman": round(float(spearmanr(scores, g).statistic), 4),
            "mae_grades": round(float(np.abs(scores * 4 - g).mean()), 3), "reliability": bins}


def fit(clf: Any) -> tuple[FrustrationModel, dict[str, Any]]:
    """Fit on the train split (see the module docstring); returns the model and its figures."""
    from sklearn.isotonic import IsotonicRegression

    convs = list(conversations("train"))
    rng = random.Random(SPLIT_SEED)  # noqa: S311 - a reproducible split, not cryptography
    order = list(range(len(convs)))
    rng.shuffle(order)
    cut = len(order) * 3 // 4
    fit_convs = [convs[i] for i in sorted(order[:cut])]
    cal_convs = [convs[i] for i in sorted(order[cut:])]
    zero = ([0.0] * len(TURN_FEATURES), 0.0)
    probe = _model(zero, ([0.0] * len(FEATURES), 0.0), [0.0, 1.0], [0.0, 1.0])
    states, grades = _rows(clf, probe, fit_convs)
    y = np.asarray(grades, dtype=np.float64) / 4
    turn_x, _ = _features(probe, states)
    turn = _ridge(turn_x, y, TURN_FEATURES)
    with_turn = _model(turn, ([0.0] * len(FEATURES), 0.0), [0.0, 1.0], [0.0, 1.0])
    _, conv_x = _features(with_turn, states)
    conv = _ridge(conv_x, y, FEATURES)
    raw_model = _model(turn, conv, [-10.0, 10.0], [-10.0, 10.0])  # identity calibration, clipped later
    cal_states, cal_grades = _rows(clf, raw_model, cal_convs)
    _, cal_x = _features(raw_model, cal_states)
    raw = np.asarray([raw_model.raw(r) for r in cal_x])
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, np.asarray(cal_grades) / 4)
    xs = [round(float(v), 5) for v in iso.X_thresholds_]
    ys = [round(float(v), 5) for v in iso.y_thresholds_]
    model = _model(turn, conv, xs, ys)
    figures = {"train_fit_turns": len(y), "calibration_turns": len(cal_grades),
               "calibration_split": evaluate(model, clf, cal_convs),
               "held_out": evaluate(model, clf, list(conversations("held_out")))}
    return model, figures


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: fit, print the figures, write ``frustration.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    args = ap.parse_args(argv)
    clf = load_classifier("builtin")
    model, figures = fit(clf)
    data = dict(model.metadata)
    data["training"] = {"generator": "training/support_conversations.py", "seeds": dict(SEEDS),
                        "split_seed": SPLIT_SEED, "ridge_alpha": RIDGE, "classifier": clf.name,
                        "target": "grade / 4 (0 calm .. 4 furious)", **figures}
    (args.out / "frustration.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Scoring helpers of ``bench/emotion_eval.py`` (not a bench itself).

* the header's top label mapped to Ekman (frustration, anger -> anger; anxiety -> fear; joy,
  gratitude -> joy; confusion -> surprise; sadness; neutral), scored on GoEmotions single-label
  comments with gold ``disgust`` counted as ``anger`` (Bedside reads disgust as anger), over the 6
  classes: **class-balanced** macro-F1, computed with every comment weighted by 1 / (its class's
  count), which is what a class-balanced sample measures on average, and on seeded class-balanced
  samples (as many comments per class as the rarest class has) to show the spread of one sample;
* Bedside macro-F1 on comments whose fine labels map to one Bedside label;
* Spearman's rank correlation (ties averaged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

BEDSIDE_TO_EKMAN: Mapping[str, str] = {
    "frustration": "anger", "anger": "anger", "anxiety": "fear", "joy": "joy", "gratitude": "joy",
    "confusion": "surprise", "sadness": "sadness", "neutral": "neutral",
}
EKMAN6 = ("anger", "fear", "joy", "neutral", "sadness", "surprise")


def read_tsv(path: Path) -> list[tuple[str, list[int]]]:
    """``text \\t ids \\t id`` rows -> [(text, [label ids])]."""
    with path.open(encoding="utf-8") as fh:
        return [(t, [int(x) for x in ids.split(",")])
                for t, ids, _ in (line.rstrip("\n").split("\t") for line in fh)]


def macro_f1(gold: Sequence[str], pred: Sequence[str], classes: Sequence[str],
             weights: Sequence[float] | None = None) -> tuple[float, dict[str, float]]:
    """Macro-F1 (optionally with per-item weights) and the per-class F1."""
    g, p = np.asarray(gold), np.asarray(pred)
    w = np.ones(len(g)) if weights is None else np.asarray(weights, dtype=np.float64)
    per = {}
    for c in classes:
        tp = w[(g == c) & (p == c)].sum()
        pp, gg = w[p == c].sum(), w[g == c].sum()
        prec, rec = (tp / pp if pp else 0.0), (tp / gg if gg else 0.0)
        per[c] = float(2 * prec * rec / (prec + rec)) if prec + rec else 0.0
    return float(np.mean(list(per.values()))), per


def ekman_gold(ekman_names: Sequence[str], rows: Sequence[tuple[str, list[int]]]) -> tuple[list[int], list[str]]:
    """Indices of the single-label comments and their gold label on the 6 classes."""
    idx, gold = [], []
    for i, (_, labs) in enumerate(rows):
        if len(labs) == 1:
            name = ekman_names[labs[0]]
            idx.append(i)
            gold.append("anger" if name == "disgust" else name)
    return idx, gold


def balanced_f1(gold: Sequence[str], pred_bedside: Sequence[str]) -> tuple[float, dict[str, float]]:
    """Class-balanced macro-F1 of Bedside labels mapped to Ekman (each class weighs the same)."""
    counts = {c: sum(1 for g in gold if g == c) for c in EKMAN6}
    weights = [1.0 / counts[g] for g in gold]
    return macro_f1(gold, [BEDSIDE_TO_EKMAN[p] for p in pred_bedside], EKMAN6, weights)


def balanced_sample(gold: Sequence[str], seed: int) -> list[int]:
    """Positions of one class-balanced sample: the rarest class's count from every class."""
    rng = np.random.default_rng(seed)
    by_class = {c: [i for i, g in enumerate(gold) if g == c] for c in EKMAN6}
    size = min(len(v) for v in by_class.values())
    return sorted(int(i) for c in EKMAN6 for i in rng.choice(by_class[c], size=size, replace=False))


def sampled_f1(gold: Sequence[str], pred_bedside: Sequence[str], draws: int = 200) -> tuple[float, float, float]:
    """Mean and 2.5 / 97.5 percentiles of the macro-F1 over ``draws`` class-balanced samples."""
    values = []
    for seed in range(draws):
        pos = balanced_sample(gold, seed)
        values.append(macro_f1([gold[i] for i in pos], [BEDSIDE_TO_EKMAN[pred_bedside[i]] for i in pos], EKMAN6)[0])
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(np.mean(values)), float(lo), float(hi)


def _ranks(x: Sequence[float]) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    order = arr.argsort(kind="mergesort")
    ranks = np.empty(len(arr))
    ranks[order] = np.arange(len(arr))
    for value in np.unique(arr):  # average the ranks of ties
        tie = arr == value
        ranks[tie] = ranks[tie].mean()
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho (Pearson on ranks, ties averaged)."""
    rx, ry = _ranks(x), _ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])

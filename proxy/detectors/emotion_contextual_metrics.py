"""Class-balanced figures for emotion readers, shared by the training script and the bench.

The issue's headline figure is the **header's top label** mapped to Ekman and scored with macro-F1
on a class-balanced sample of single-label comments. Mapping (:data:`BEDSIDE_TO_EKMAN6`):
frustration, anger -> anger; anxiety -> fear; joy, gratitude -> joy; confusion -> surprise;
sadness -> sadness; neutral -> neutral. Bedside's ``anger`` covers GoEmotions ``disgust`` too, so
gold ``disgust`` counts as ``anger`` (six classes, :data:`EKMAN6`).

"Class-balanced" is computed exactly rather than by drawing a sample: each comment weighs
``1 / (number of comments of its gold class)``, so every class weighs the same in precision as well
as in recall; this is the figure a balanced sample estimates, without the sampling noise.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

EKMAN6: tuple[str, ...] = ("anger", "fear", "joy", "neutral", "sadness", "surprise")
BEDSIDE_TO_EKMAN6: Mapping[str, str] = MappingProxyType({
    "frustration": "anger", "anger": "anger", "anxiety": "fear", "joy": "joy", "gratitude": "joy",
    "confusion": "surprise", "sadness": "sadness", "neutral": "neutral",
})


def bedside_to_ekman6(label: str) -> str:
    """A Bedside label's Ekman class for scoring."""
    return BEDSIDE_TO_EKMAN6[label]


def balanced_scores(gold: Sequence[str], pred: Sequence[str], *, merge_disgust: bool = True,
                    labels: Sequence[str] | None = None, balanced: bool = True) -> dict[str, Any]:
    """Macro-F1 and per-class precision/recall/F1, each gold class weighted equally (``balanced``).

    ``merge_disgust`` scores gold and predicted ``disgust`` as ``anger`` (for Bedside top labels,
    which have no disgust). ``labels`` defaults to the classes present in ``gold``.
    """
    if len(gold) != len(pred):
        raise ValueError("gold and pred differ in length")

    def fold(label: str) -> str:
        return "anger" if merge_disgust and label == "disgust" else label

    g = [fold(x) for x in gold]
    p = [fold(x) for x in pred]
    counts = Counter(g)
    names = list(labels) if labels is not None else sorted(counts)
    weight = {c: (1.0 / n if balanced else 1.0) for c, n in counts.items()}
    tp: defaultdict[str, float] = defaultdict(float)
    predicted: defaultdict[str, float] = defaultdict(float)
    actual: defaultdict[str, float] = defaultdict(float)
    for gi, pi in zip(g, p, strict=True):
        w = weight[gi]
        actual[gi] += w
        predicted[pi] += w
        if gi == pi:
            tp[gi] += w
    per_class, f1s = {}, []
    for c in names:
        prec = tp[c] / predicted[c] if predicted[c] else 0.0
        rec = tp[c] / actual[c] if actual[c] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[c] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4)}
        if counts.get(c):
            f1s.append(f1)
    return {"macro_f1": sum(f1s) / len(f1s) if f1s else 0.0, "per_class": per_class, "comments": len(g)}

"""Choose how much of the default reader the contextual reader blends in, on the held-out slice.

Usage (after ``train_contextual``, and ``train_emotion --no-refit --out DIR`` with the shipped
``cnn.npz``/``cnn.json`` copied into ``DIR``, so that neither reader saw the held-out comments)::

    python -m training.choose_contextual_blend --linear DIR [--data ../shared/data/emotion/goemotions]

Reads the same seeded 10% slice of GoEmotions **train** that both training scripts held out, reads
it with the contextual reader as shipped (int8 ONNX, built into a temporary folder) and with the
default reader fitted on the other 90%, and scores each blend weight ``a`` of
``softmax((1 - a) * log p_contextual + a * log p_default)`` (each head) by the class-balanced Ekman-6
macro-F1 of the top label (:mod:`proxy.detectors.emotion_contextual_metrics`). The best weight and
the whole grid are written into the artefact's ``meta.json`` under ``blend``; dev is never read.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proxy.detectors import emotion as emo
from proxy.detectors.emotion_contextual_build import ARTEFACT_DIR, build
from proxy.detectors.emotion_contextual_metrics import balanced_scores, bedside_to_ekman6

SEED = 20261122
GRID = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


def _blend(p: np.ndarray, q: np.ndarray, a: float) -> np.ndarray:
    z = (1 - a) * np.log(p + 1e-9) + a * np.log(q + 1e-9)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Score the grid on the held-out slice and record the choice in ``meta.json``."""
    from proxy.detectors.emotion_contextual import ContextualEmotionClassifier

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/emotion/goemotions"))
    ap.add_argument("--linear", type=Path, required=True, help="default reader fitted on the 90%% slice")
    ap.add_argument("--holdout", type=float, default=0.1)
    args = ap.parse_args(argv)
    rows = [line.rstrip("\n").split("\t") for line in (args.data / "ekman" / "train.tsv").open(encoding="utf-8")]
    order = np.random.default_rng(SEED).permutation(len(rows))
    hold = np.sort(order[: int(len(rows) * args.holdout)])
    single = [(rows[i][0], emo.EKMAN[int(rows[i][1])]) for i in hold if "," not in rows[i][1]]
    start = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        contextual = ContextualEmotionClassifier.load(build(Path(tmp)), blend=False)
        default = emo.LinearEmotionClassifier.load(args.linear)
        ctx = [contextual.classify(t) for t, _ in single]
    dflt = [default.classify(t) for t, _ in single]
    gold = [g for _, g in single]

    def matrix(readings: list[emo.EmotionReading], head: str) -> np.ndarray:
        labels = emo.EMOTIONS if head == "bedside" else emo.EKMAN
        return np.array([[(r.probabilities if head == "bedside" else r.ekman)[k] for k in labels] for r in readings])

    grid: dict[str, dict[str, float]] = {}
    for a in GRID:
        bed = _blend(matrix(ctx, "bedside"), matrix(dflt, "bedside"), a)
        ek = _blend(matrix(ctx, "ekman"), matrix(dflt, "ekman"), a)
        top = [bedside_to_ekman6(emo.EMOTIONS[int(i)]) for i in bed.argmax(1)]
        head = [emo.EKMAN[int(i)] for i in ek.argmax(1)]
        grid[f"{a:.1f}"] = {
            "top_label_balanced_ekman6": round(balanced_scores(gold, top)["macro_f1"], 4),
            "ekman_head_balanced_ekman7": round(balanced_scores(gold, head, merge_disgust=False)["macro_f1"], 4),
        }
        print(f"a={a:.1f}: {grid[f'{a:.1f}']}", file=sys.stderr)
    best = max(GRID, key=lambda a: (grid[f"{a:.1f}"]["top_label_balanced_ekman6"], -a))
    meta_path = ARTEFACT_DIR / "meta.json"
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["blend"] = {"default_reader_weight": best, "chosen_on": "held-out slice of train (single-label comments)",
                     "comments": len(single), "default_reader_for_choice": "train_emotion --no-refit (90% slice) + shipped cnn",
                     "grid": grid}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"chosen": best, "cpu_seconds": round(time.process_time() - start)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measure Bedside's emotion model on the GoEmotions dev split, beside a plain TF-IDF + LR baseline.

    python bench/emotion_eval.py [--data ../shared/data/emotion/goemotions] [--no-baseline]

Figures: macro-F1 over the 7 Ekman classes on the single-label comments of ``ekman/dev.tsv``
with its 95% bootstrap interval (1,000 resamples of the comments), per-class precision/recall,
recall of the negative emotions (anger, disgust, fear, sadness), recall of the fine
``confusion`` label (``original/dev.tsv``) as Bedside ``confusion``, and latency per
message (p50/p99) on one core, single-threaded. The baseline (scikit-learn, word 1-2 gram TF-IDF
+ logistic regression on the train split, no class weights) is fitted here in about half a minute.
If the data folder is absent the script says so and exits 0.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402  (thread limits must be set before numpy loads)
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proxy.detectors.emotion import EKMAN, LinearEmotionClassifier  # noqa: E402

NEGATIVE = ("anger", "disgust", "fear", "sadness")


def read_tsv(path: Path) -> list[tuple[str, list[int]]]:
    """``text \\t ids \\t id`` rows -> [(text, [label ids])]."""
    with path.open(encoding="utf-8") as fh:
        return [(t, [int(x) for x in ids.split(",")])
                for t, ids, _ in (line.rstrip("\n").split("\t") for line in fh)]


def scores(gold: Sequence[int], pred: Sequence[int]) -> dict[str, object]:
    """Macro-F1, per-class (precision, recall) and negative-emotion recall over EKMAN ids."""
    g, p = np.asarray(gold), np.asarray(pred)
    per, f1s = {}, []
    for k, name in enumerate(EKMAN):
        tp = float(((g == k) & (p == k)).sum())
        prec, rec = tp / max((p == k).sum(), 1), tp / max((g == k).sum(), 1)
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
        per[name] = (prec, rec)
    neg = np.isin(g, [EKMAN.index(e) for e in NEGATIVE])
    return {"macro": float(np.mean(f1s)), "per": per, "neg_recall": float((g[neg] == p[neg]).mean())}


def macro_interval(gold: Sequence[int], pred: Sequence[int], rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the Ekman macro-F1 (comments resampled with replacement)."""
    g, p = np.asarray(gold), np.asarray(pred)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        idx = rng.integers(0, len(g), len(g))
        values.append(float(scores(g[idx].tolist(), p[idx].tolist())["macro"]))  # type: ignore[arg-type]
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def baseline(data: Path, texts: Sequence[str]) -> list[int]:
    """Plain TF-IDF (word 1-2 grams) + logistic regression, trained on the Ekman train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train = read_tsv(data / "ekman" / "train.tsv")
    xs = [t for t, labs in train for _ in labs]
    ys = [lab for _, labs in train for lab in labs]
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = LogisticRegression(C=4.0, max_iter=1000).fit(vec.fit_transform(xs), ys)
    return [int(v) for v in model.predict(vec.transform(texts))]


def main() -> int:
    """Print the figures; exit 0 also when the data is missing."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/emotion/goemotions")
    ap.add_argument("--no-baseline", action="store_true")
    args = ap.parse_args()
    ek_file, fine_file = args.data / "ekman" / "dev.tsv", args.data / "original" / "dev.tsv"
    if not ek_file.exists() or not fine_file.exists():
        print(f"GoEmotions dev data not found under {args.data}: nothing to measure.")
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    clf = LinearEmotionClassifier.load()
    ekman, fine = read_tsv(ek_file), read_tsv(fine_file)
    confusion_id = (args.data / "original" / "labels.txt").read_text().split().index("confusion")

    for text, _ in ekman[:200]:  # warm-up
        clf.classify(text)
    readings, times = [], []
    for text, _ in ekman:
        t0 = time.perf_counter_ns()
        readings.append(clf.classify(text))
        times.append(time.perf_counter_ns() - t0)
    single = [i for i, (_, labs) in enumerate(ekman) if len(labs) == 1]
    gold = [ekman[i][1][0] for i in single]
    pred = [int(np.argmax([readings[i].ekman[e] for e in EKMAN])) for i in single]
    ours = scores(gold, pred)
    conf = [i for i, (_, labs) in enumerate(fine) if confusion_id in labs]
    conf_recall = sum(readings[i].label == "confusion" for i in conf) / len(conf)
    base_pred = None if args.no_baseline else baseline(args.data, [ekman[i][0] for i in single])
    base = None if base_pred is None else scores(gold, base_pred)

    print(f"GoEmotions dev: {ek_file} ({len(single)} single-label comments of {len(ekman)});")
    print(f"confusion recall from {fine_file}; model {clf.name}, one core, single-threaded\n")
    head = f"{'':28}{'bedside':>18}" + (f"{'tfidf+LR baseline':>22}" if base else "")
    print(head)
    print(f"{'Ekman macro-F1':28}{ours['macro']:>18.4f}" + (f"{base['macro']:>22.4f}" if base else ""))
    lo, hi = macro_interval(gold, pred)
    row = f"{'  95% bootstrap interval':28}{f'{lo:.3f} - {hi:.3f}':>18}"
    if base_pred is not None:
        blo, bhi = macro_interval(gold, base_pred)
        row += f"{f'{blo:.3f} - {bhi:.3f}':>22}"
    print(row)
    for name in EKMAN:
        p, r = ours["per"][name]  # type: ignore[index]
        row = f"  {name + ' P / R':26}{f'{p:.3f} / {r:.3f}':>18}"
        if base:
            bp, br = base["per"][name]  # type: ignore[index]
            row += f"{f'{bp:.3f} / {br:.3f}':>22}"
        print(row)
    print(f"{'negative recall (a/d/f/s)':28}{ours['neg_recall']:>18.4f}"
          + (f"{base['neg_recall']:>22.4f}" if base else ""))
    print(f"{'confusion recall':28}{conf_recall:>18.4f}  ({len(conf)} dev comments labelled confusion)")
    ms = np.asarray(times) / 1e6
    print(f"{'latency p50 / p99 (ms)':28}{f'{np.percentile(ms, 50):.3f} / {np.percentile(ms, 99):.3f}':>18}"
          f"  over {len(ms)} messages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

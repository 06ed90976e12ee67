"""Train Bedside's emotion model on GoEmotions and write the numpy-only artefact.

Usage (from the project root)::

    python -m proxy.training.train_emotion [--data ../shared/data/emotion/goemotions]
                                           [--out proxy/detectors/emotion_model]

Only the **train** split is read. A seeded 10% slice of it is held out: the model is fitted on the
other 90% and the held-out figures (Ekman macro-F1 on single-label comments, per-class precision
and recall, Bedside macro-F1, confusion recall) are printed and written into ``model.json``; the
dev split is left for ``bench/emotion_eval.py``. Two multinomial logistic-regression heads share
the hashed features of :func:`proxy.detectors.emotion.featurize` (the runtime function itself, so
training and run time see identical features):

* ``ekman``: the 7 Ekman labels;
* ``bedside``: the 28 fine labels mapped by :data:`proxy.detectors.emotion.FINE_TO_BEDSIDE`.

A comment with k labels is k rows of weight 1/k. Classes are re-weighted by
``(n / (K * count)) ** balance`` (``balance`` 0.5 by default: half-way to balanced). Weights are
quantised to int8 with one scale per column and saved with ``numpy.savez_compressed``.
scikit-learn is needed here only, never at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from proxy.detectors import emotion as emo

DEFAULT_DATA = Path("../shared/data/emotion/goemotions")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "detectors" / "emotion_model"
SEED = 20261122
PROBES = (
    "I've been waiting 3 weeks and still no refund!!!",
    "I'm not happy at all with this.",
    "thank you so much, that fixed it",
)

Labelled = list[tuple[str, list[int]]]


def log(msg: str) -> None:
    """Progress to stderr with a timestamp."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def read_tsv(path: Path) -> Labelled:
    """Rows of ``text \\t ids \\t comment-id`` -> [(text, [label ids])]."""
    rows: Labelled = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            text, ids, _ = line.rstrip("\n").split("\t")
            rows.append((text, [int(x) for x in ids.split(",")]))
    return rows


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def featurize_corpus(texts: Sequence[str], config: emo.FeatureConfig, *, progress: bool = False) -> Any:
    """CSR matrix of runtime features (duplicates summed), one row per text."""
    import scipy.sparse as sp

    ind: list[int] = []
    val: list[float] = []
    ptr = [0]
    for n, text in enumerate(texts, 1):
        i, v = emo.featurize(text, emo.text_signals(text, emo.vader_compound(text)), config)
        ind.extend(i)
        val.extend(v)
        ptr.append(len(ind))
        if progress and n % 10000 == 0:
            log(f"  featurised {n}/{len(texts)}")
    matrix = sp.csr_matrix(
        (np.asarray(val, dtype=np.float64), np.asarray(ind, dtype=np.int64), np.asarray(ptr)),
        shape=(len(texts), config.n_features),
    )
    matrix.sum_duplicates()
    return matrix


def expand(labels: Sequence[Sequence[int]]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                                    npt.NDArray[np.float64]]:
    """Multi-label -> (row index, label, weight 1/k) triples."""
    rows, ys, ws = [], [], []
    for r, labs in enumerate(labels):
        distinct = sorted(set(labs))
        for lab in distinct:
            rows.append(r)
            ys.append(lab)
            ws.append(1.0 / len(distinct))
    return np.asarray(rows), np.asarray(ys), np.asarray(ws)


def fit_head(x: Any, labels: Sequence[Sequence[int]], n_classes: int, c: float, balance: float,
             max_iter: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Multinomial logistic regression; returns (W [n_features, K], b [K])."""
    from sklearn.linear_model import LogisticRegression

    rows, y, w = expand(labels)
    counts = np.bincount(y, weights=w, minlength=n_classes)
    class_w = (w.sum() / (n_classes * np.maximum(counts, 1e-9))) ** balance
    model = LogisticRegression(C=c, max_iter=max_iter, tol=1e-3)
    model.fit(x[rows], y, sample_weight=w * class_w[y])
    if list(model.classes_) != list(range(n_classes)):
        raise RuntimeError("a class is missing from the training slice")
    return model.coef_.T.copy(), model.intercept_.copy()


def quantise(w: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """int8 weights with one float32 scale per column."""
    scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
    return np.round(w / scale).astype(np.int8), scale.astype(np.float32)


def f1_table(gold: Sequence[int], pred: Sequence[int], names: Sequence[str]) -> dict[str, Any]:
    """Macro-F1 and per-class precision/recall/F1/support (no scikit-learn)."""
    g, p = np.asarray(gold), np.asarray(pred)
    per: dict[str, dict[str, float]] = {}
    for k, name in enumerate(names):
        tp = float(((g == k) & (p == k)).sum())
        prec = tp / max(float((p == k).sum()), 1.0)
        rec = tp / max(float((g == k).sum()), 1.0)
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[name] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
                     "support": int((g == k).sum())}
    macro = float(np.mean([v["f1"] for v in per.values()]))
    return {"macro_f1": round(macro, 4), "per_class": per, "n": len(g)}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--bits", type=int, default=19, help="log2 of the hashed feature space")
    ap.add_argument("--char-min", type=int, default=1, help="shortest character n-gram")
    ap.add_argument("--char-max", type=int, default=6, help="longest character n-gram")
    ap.add_argument("--C", type=float, default=2.0, help="inverse L2 strength")
    ap.add_argument("--balance", type=float, default=0.5, help="0 = no class weights, 1 = balanced")
    ap.add_argument("--max-iter", type=int, default=150)
    ap.add_argument("--holdout", type=float, default=0.1, help="share of TRAIN held out for metrics")
    ap.add_argument("--jobs", type=int, default=2)
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Train, measure on the held-out slice of train, write model.npz + model.json."""
    from joblib import Parallel, delayed

    args = parse_args(argv)
    start = time.perf_counter()
    fine_path, ekman_path = args.data / "original" / "train.tsv", args.data / "ekman" / "train.tsv"
    fine_names = (args.data / "original" / "labels.txt").read_text().split()
    ekman_names = (args.data / "ekman" / "labels.txt").read_text().split()
    if tuple(ekman_names) != emo.EKMAN:
        raise SystemExit(f"unexpected Ekman labels {ekman_names}")
    fine, ekman = read_tsv(fine_path), read_tsv(ekman_path)
    if [t for t, _ in fine] != [t for t, _ in ekman]:
        raise SystemExit("original/ and ekman/ train files are not aligned")
    log(f"read {len(fine)} train comments from {args.data}")

    bedside_of = [emo.EMOTIONS.index(emo.FINE_TO_BEDSIDE[n]) for n in fine_names]
    bedside_labels = [sorted({bedside_of[i] for i in labs}) for _, labs in fine]
    ekman_labels = [labs for _, labs in ekman]
    order = np.random.default_rng(SEED).permutation(len(fine))
    n_hold = int(len(fine) * args.holdout)
    hold, fit = np.sort(order[:n_hold]), np.sort(order[n_hold:])

    config = emo.FeatureConfig(n_features=1 << args.bits, char_min=args.char_min,
                               char_max=args.char_max)
    log(f"featurising (2^{args.bits} hashed features, character {args.char_min}-{args.char_max} grams)")
    x = featurize_corpus([fine[i][0] for i in fit], config, progress=True)
    log(f"  {x.nnz / x.shape[0]:.0f} non-zeros per comment; fitting 2 heads on {len(fit)} rows")
    jobs = [(ekman_labels, len(emo.EKMAN)), (bedside_labels, len(emo.EMOTIONS))]
    fitted = Parallel(n_jobs=args.jobs)(
        delayed(fit_head)(x, [labs[i] for i in fit], k, args.C, args.balance, args.max_iter)
        for labs, k in jobs
    )
    log(f"fitted in {time.perf_counter() - start:.0f}s since start")
    w = np.hstack([fw for fw, _ in fitted])
    b = np.concatenate([fb for _, fb in fitted]).astype(np.float32)
    weights, scales = quantise(w)
    k_ek = len(emo.EKMAN)
    metadata: dict[str, Any] = {
        "name": "bedside-linear",
        "format": 1,
        "features": config.to_json(),
        "heads": {
            "ekman": {"labels": list(emo.EKMAN), "start": 0, "stop": k_ek},
            "bedside": {"labels": list(emo.EMOTIONS), "start": k_ek, "stop": k_ek + len(emo.EMOTIONS)},
        },
        "outputs": {"bedside": [{"head": "bedside"}], "ekman": [{"head": "ekman"}]},
        "fine_to_bedside": dict(emo.FINE_TO_BEDSIDE),
        "training": {
            "data": {str(p.relative_to(args.data)): sha256(p) for p in (fine_path, ekman_path)},
            "data_dir": str(args.data), "rows_fitted": len(fit), "rows_held_out": len(hold),
            "seed": SEED, "C": args.C, "balance": args.balance, "max_iter": args.max_iter,
            "model": "multinomial logistic regression (scikit-learn lbfgs), int8-quantised",
        },
    }
    clf = emo.LinearEmotionClassifier(weights, scales, b, metadata)
    metadata["probes"] = {t: emo.featurize(t, emo.text_signals(t, emo.vader_compound(t)), config)[0]
                          for t in PROBES}
    metadata["training"]["held_out"] = held_out_metrics(clf, [fine[i] for i in hold],
                                                        [ekman[i] for i in hold], fine_names,
                                                        bedside_of)
    metadata["training"]["seconds"] = round(time.perf_counter() - start, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "model.npz", weights=weights, scales=scales, bias=b)
    (args.out / "model.json").write_text(json.dumps(metadata, indent=1) + "\n", encoding="utf-8")
    size = (args.out / "model.npz").stat().st_size
    log(f"wrote {args.out} ({size / 1e6:.2f} MB) in {metadata['training']['seconds']}s")
    print(json.dumps(metadata["training"]["held_out"]["summary"], indent=1))
    return 0


def held_out_metrics(clf: emo.LinearEmotionClassifier, fine: Labelled, ekman: Labelled,
                     fine_names: Sequence[str], bedside_of: Sequence[int]) -> dict[str, Any]:
    """Figures of the runtime classifier itself on the held-out slice of train."""
    log(f"measuring on {len(fine)} held-out train comments")
    readings = [clf.classify(t) for t, _ in fine]
    single = [i for i, (_, labs) in enumerate(ekman) if len(labs) == 1]
    ek_pred = [int(np.argmax([readings[i].ekman[e] for e in emo.EKMAN])) for i in single]
    ek = f1_table([ekman[i][1][0] for i in single], ek_pred, emo.EKMAN)
    bs_single = [i for i, (_, labs) in enumerate(fine) if len({bedside_of[x] for x in labs}) == 1]
    bs_gold = [bedside_of[fine[i][1][0]] for i in bs_single]
    bs_pred = [emo.EMOTIONS.index(readings[i].label) for i in bs_single]
    bs = f1_table(bs_gold, bs_pred, emo.EMOTIONS)
    conf_id = fine_names.index("confusion")
    conf = [i for i, (_, labs) in enumerate(fine) if conf_id in labs]
    conf_recall = sum(readings[i].label == "confusion" for i in conf) / max(len(conf), 1)
    negative = [emo.EKMAN.index(e) for e in ("anger", "disgust", "fear", "sadness")]
    neg_rows = [k for k, i in enumerate(single) if ekman[i][1][0] in negative]
    neg_recall = sum(ek_pred[k] == ekman[single[k]][1][0] for k in neg_rows) / max(len(neg_rows), 1)
    summary = {
        "ekman_macro_f1_single_label": ek["macro_f1"],
        "ekman_negative_recall": round(neg_recall, 4),
        "bedside_macro_f1_single_label": bs["macro_f1"],
        "confusion_recall": round(conf_recall, 4),
    }
    return {"summary": summary, "ekman": ek, "bedside": bs}


if __name__ == "__main__":
    raise SystemExit(main())

"""Train Bedside's emotion model on GoEmotions and write the numpy-only artefact.

Usage (from the project root)::

    python -m training.train_emotion [--data ../shared/data/emotion/goemotions]
                                     [--out proxy/detectors/emotion_model]

Only the **train** split is read. A seeded 10% slice of it is held out: the model is fitted on the
other 90% and the held-out figures (Ekman macro-F1 on single-label comments, per-class precision
and recall, Bedside macro-F1, confusion recall) are printed and written into ``model.json``; the
dev split is left for ``bench/emotion_eval.py``. Two multinomial logistic-regression heads share
the hashed features of :func:`proxy.detectors.emotion.featurize` (the runtime function itself, so
training and run time see identical features):

* ``ekman``: the 7 Ekman labels;
* ``bedside``: the 28 fine labels mapped by :data:`proxy.detectors.emotion.FINE_TO_BEDSIDE`.

The Ekman head is an NB-SVM (Wang & Manning 2012) by default: per class, the features are scaled by the
naive-Bayes log-count ratio ``r = log(p / |p|_1) - log(q / |q|_1)`` (binarised presence, smoothing
``alpha``) and a one-vs-rest L2-regularised linear SVM (liblinear, squared hinge) is fitted on the
scaled features; the ratio is then folded into the weights (``w * r``), so the run-time model is
still one linear map followed by a softmax. A temperature, fitted on the held-out slice (negative
log-likelihood), turns the SVM margins into probabilities and is folded into the weights too. The
Bedside head stays a multinomial logistic regression (NB-SVM did not beat it there once its recall
of frustration/confusion was matched); ``--ekman-model`` / ``--bedside-model`` choose per head.

A comment with k labels is k rows of weight 1/k. Classes are re-weighted by
``(n / (K * count)) ** balance`` (``balance`` 0.5 by default: half-way to balanced). After the
held-out measurement both heads are fitted again on all of train (``--no-refit`` keeps the 90%
model). Weights are quantised to int8 with one scale per column and saved with
``numpy.savez_compressed``. scikit-learn is needed here only, never at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from proxy.detectors import emotion as emo

DEFAULT_DATA = Path("../shared/data/emotion/goemotions")
#: the source tree the runtime loads the artefacts from (never an installed package)
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "emotion_model"
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


def fit_head_nbsvm(x: Any, labels: Sequence[Sequence[int]], n_classes: int, c: float,
                   balance: float, alpha: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """NB-SVM head (one-vs-rest, naive-Bayes log-count ratios folded in); returns (W, b)."""
    from sklearn.svm import LinearSVC

    rows, y, w = expand(labels)
    counts = np.bincount(y, weights=w, minlength=n_classes)
    if (counts == 0).any():
        raise RuntimeError("a class is missing from the training slice")
    class_w = (w.sum() / (n_classes * counts)) ** balance
    used = np.unique(x.indices)  # columns never seen keep a zero weight
    xs = x[rows][:, used].tocsr()
    present = xs.copy()
    present.data[:] = 1.0
    weights = np.zeros((x.shape[1], n_classes))
    bias = np.zeros(n_classes)
    for k in range(n_classes):
        pos = y == k
        p = np.asarray(present[pos].T @ w[pos]).ravel() + alpha
        q = np.asarray(present[~pos].T @ w[~pos]).ravel() + alpha
        ratio = np.log(p / p.sum()) - np.log(q / q.sum())
        svm = LinearSVC(C=c, tol=1e-4, max_iter=3000, random_state=0)
        svm.fit(xs.multiply(ratio).tocsr(), pos.astype(np.int64),
                sample_weight=w * np.where(pos, class_w[k], 1.0))
        weights[used, k] = svm.coef_.ravel() * ratio
        bias[k] = svm.intercept_[0]
    return weights, bias


def fit_temperature(z: npt.NDArray[np.float64], labels: Sequence[Sequence[int]]) -> float:
    """Scale t minimising the soft-label NLL of softmax(t * z) (golden-section search on log t)."""
    rows, y, w = expand(labels)
    zr = z[rows]

    def nll(log_t: float) -> float:
        s = zr * math.exp(log_t)
        s = s - s.max(axis=1, keepdims=True)
        logp = s[np.arange(len(y)), y] - np.log(np.exp(s).sum(axis=1))
        return float(-(w * logp).sum())

    lo, hi = math.log(0.05), math.log(50.0)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = nll(b)
    return math.exp((lo + hi) / 2)


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
    ap.add_argument("--ekman-model", choices=("nbsvm", "lr"), default="nbsvm")
    ap.add_argument("--bedside-model", choices=("nbsvm", "lr"), default="lr")
    ap.add_argument("--C-lr", type=float, default=2.0, help="inverse L2 strength of lr heads")
    ap.add_argument("--C-nbsvm", type=float, default=0.3, help="inverse L2 strength of nbsvm heads")
    ap.add_argument("--alpha", type=float, default=1.0, help="NB smoothing of the log-count ratios")
    ap.add_argument("--balance", type=float, default=0.5, help="0 = no class weights, 1 = balanced")
    ap.add_argument("--max-iter", type=int, default=150, help="lbfgs iterations (lr only)")
    ap.add_argument("--holdout", type=float, default=0.1, help="share of TRAIN held out for metrics")
    ap.add_argument("--no-refit", action="store_true",
                    help="ship the model fitted on the 90%% slice instead of refitting on all of train")
    ap.add_argument("--jobs", type=int, default=2)
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Train, measure on the held-out slice of train, refit on all of train, write the artefact."""
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
    kinds = (args.ekman_model, args.bedside_model)
    log(f"featurising (2^{args.bits} hashed features, character {args.char_min}-{args.char_max} grams)")
    x_all = featurize_corpus([t for t, _ in fine], config, progress=True)
    jobs = [(ekman_labels, len(emo.EKMAN)), (bedside_labels, len(emo.EMOTIONS))]

    def fit_heads(rows: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        x = x_all[rows]
        log(f"  {x.nnz / x.shape[0]:.0f} non-zeros per comment; fitting heads {kinds} on "
            f"{len(rows)} rows")
        calls = [
            delayed(fit_head_nbsvm)(x, [labs[i] for i in rows], k, args.C_nbsvm, args.balance, args.alpha)
            if kind == "nbsvm" else
            delayed(fit_head)(x, [labs[i] for i in rows], k, args.C_lr, args.balance, args.max_iter)
            for (labs, k), kind in zip(jobs, kinds, strict=True)
        ]
        fitted = Parallel(n_jobs=args.jobs)(calls)
        log(f"fitted in {time.perf_counter() - start:.0f}s since start")
        return np.hstack([fw for fw, _ in fitted]), np.concatenate([fb for _, fb in fitted])

    k_ek = len(emo.EKMAN)
    spans = [(0, k_ek), (k_ek, k_ek + len(emo.EMOTIONS))]
    w, b = fit_heads(fit)
    # One temperature per NB-SVM head on the held-out slice, turning margins into probabilities
    # (it does not move the head's argmax); logistic-regression heads keep their own scale.
    z_hold = np.asarray(x_all[hold] @ w) + b
    temps = [fit_temperature(z_hold[:, lo:hi], [labs[i] for i in hold]) if kind == "nbsvm" else 1.0
             for (lo, hi), (labs, _), kind in zip(spans, jobs, kinds, strict=True)]
    log("temperatures (ekman, bedside): " + ", ".join(f"{t:.3f}" for t in temps))
    scale = np.concatenate([np.full(hi - lo, t) for (lo, hi), t in zip(spans, temps, strict=True)])
    names = {"nbsvm": "NB-SVM (naive-Bayes log-count ratios x one-vs-rest L2 linear SVM, liblinear; "
                      "ratios and a temperature folded into the weights)",
             "lr": "multinomial logistic regression (scikit-learn lbfgs)"}
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
            "data_dir": str(args.data), "rows_held_out": len(hold),
            "rows_fitted_for_held_out_figures": len(fit),
            "rows_fitted": len(fit) if args.no_refit else len(fine),
            "seed": SEED, "balance": args.balance,
            "heads": {
                head: {"model": names[kind], "C": args.C_nbsvm if kind == "nbsvm" else args.C_lr,
                       **({"alpha": args.alpha, "temperature": round(t, 4)} if kind == "nbsvm"
                          else {"max_iter": args.max_iter})}
                for head, kind, t in zip(("ekman", "bedside"), kinds, temps, strict=True)
            },
            "model": "linear heads over hashed features, int8-quantised",
        },
    }
    weights, scales = quantise(w * scale)
    clf = emo.LinearEmotionClassifier(weights, scales, (b * scale).astype(np.float32), metadata)
    metadata["probes"] = {t: emo.featurize(t, emo.text_signals(t, emo.vader_compound(t)), config)[0]
                          for t in PROBES}
    metadata["training"]["held_out"] = held_out_metrics(clf, [fine[i] for i in hold],
                                                        [ekman[i] for i in hold], fine_names,
                                                        bedside_of)
    if not args.no_refit:
        log("refitting both heads on all of train with the same settings and temperatures")
        w, b = fit_heads(np.arange(len(fine)))
    weights, scales = quantise(w * scale)
    b32 = (b * scale).astype(np.float32)
    metadata["training"]["seconds"] = round(time.perf_counter() - start, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "model.npz", weights=weights, scales=scales, bias=b32)
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

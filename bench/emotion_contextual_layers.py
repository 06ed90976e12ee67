"""CPU cost of the contextual reader's int8 ONNX run by encoder depth (first N of the 6 layers).

Usage (from the project root, the ``contextual`` extra installed)::

    OMP_NUM_THREADS=1 python -m bench.emotion_contextual_layers [--layers 3 4 6] [--tokens 32] [--runs 200]

For each depth, builds the int8 graph the run time would build (base weights of the first N
layers, random heads: the cost does not depend on the values), opens it as the reader does (one
thread, sequential) and times ``session.run`` on one ``[1, tokens]`` input: the median thread CPU
time of ``--runs`` runs after 20 warm-up runs. Prints one JSON line per depth.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from proxy.detectors.emotion_contextual_base import load_base_weights
from proxy.detectors.emotion_contextual_build import open_encoder, write_int8
from proxy.detectors.emotion_contextual_graph import HEADS_WIDTH, assemble, build_model


def time_depth(base: dict[str, np.ndarray], layers: int, tokens: int, runs: int, folder: Path) -> dict[str, float]:
    """Median and quartiles (ms of thread CPU time) of one int8 run at ``layers`` deep."""
    rng = np.random.default_rng(0)
    heads: dict[str, np.ndarray] = {}
    for name, width in HEADS_WIDTH.items():
        heads[f"{name}_w"] = rng.normal(0, 0.05, (384, width)).astype(np.float32)
        heads[f"{name}_b"] = np.zeros(width, np.float32)
    path = write_int8(build_model(assemble(base, heads, layers=layers)), folder / f"l{layers}.int8.onnx")
    session, _ = open_encoder(path)
    feed = {"input_ids": rng.integers(1000, 20000, (1, tokens)).astype(np.int64),
            "attention_mask": np.ones((1, tokens), np.int64)}
    for _ in range(20):
        session.run(None, feed)
    cpu = []
    for _ in range(runs):
        t0 = time.thread_time()
        session.run(None, feed)
        cpu.append((time.thread_time() - t0) * 1000)
    q = statistics.quantiles(cpu, n=4)
    return {"layers": layers, "tokens": tokens, "runs": runs, "cpu_ms_median": round(statistics.median(cpu), 3),
            "cpu_ms_q1": round(q[0], 3), "cpu_ms_q3": round(q[2], 3),
            "model_bytes": path.stat().st_size}


def main(argv: Sequence[str] | None = None) -> int:
    """Print one JSON line per depth."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", type=int, nargs="+", default=[3, 4, 6])
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args(argv)
    base = load_base_weights()
    with tempfile.TemporaryDirectory() as tmp:
        for layers in args.layers:
            print(json.dumps(time_depth(base, layers, args.tokens, args.runs, Path(tmp))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

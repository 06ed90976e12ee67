"""The default and the contextual emotion readers side by side: accuracy against cost.

    python bench/emotion_eval_contextual.py [--data ../shared/data/emotion/goemotions] [--no-overlap]

For ``bench/emotion_eval.py`` to call: :func:`reader_figures` measures any reader (what
``load_classifier`` returns) on GoEmotions **dev** and :func:`contextual_reader` loads the contextual
one, or returns the reason it cannot. Figures per reader:

* **balanced Ekman-6 macro-F1 of the top label** (the header's label): Bedside's top label mapped
  frustration/anger -> anger, anxiety -> fear, joy/gratitude -> joy, confusion -> surprise, sadness,
  neutral; gold ``disgust`` counts as anger; single-label comments of ``ekman/dev.tsv``, each class
  weighed equally (:mod:`proxy.detectors.emotion_contextual_metrics`), with a 95% bootstrap interval;
* Ekman-7 macro-F1 of the reader's Ekman head on the same comments, unbalanced (the figure
  ``docs/emotion-model.md`` has always reported) and balanced;
* Bedside macro-F1 on the dev comments with one mapped fine label, and recall of fine ``confusion``;
* cost per message on one core, single-threaded: wall p50/p99 and CPU time per message
  (``time.process_time``), with the load average, since wall figures are noisy on a shared machine;
* with ``--no-overlap`` left out, the overlap of a contextual read with the PII analysis of the
  same message (Presidio + spaCy as Bedside builds it): PII alone, PII then the read, and the read
  started on the reader's worker thread before the PII analysis and collected after it.

Only dev is read here; nothing was tuned on it. If the data folder is absent the script says so.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proxy.detectors.emotion import EKMAN, EMOTIONS, FINE_TO_BEDSIDE, EmotionClassifier, load_classifier  # noqa: E402
from proxy.detectors.emotion_contextual_metrics import balanced_scores, bedside_to_ekman6  # noqa: E402

Labelled = list[tuple[str, list[int]]]


def read_tsv(path: Path) -> Labelled:
    """``text \\t ids \\t id`` rows -> [(text, [label ids])]."""
    with path.open(encoding="utf-8") as fh:
        return [(t, [int(x) for x in ids.split(",")])
                for t, ids, _ in (line.rstrip("\n").split("\t") for line in fh)]


def contextual_reader() -> tuple[EmotionClassifier | None, str]:
    """The contextual reader, or None and why it cannot load (extra missing, not built ...)."""
    try:
        return load_classifier("contextual"), "ok"
    except Exception as exc:
        return None, str(exc)


def _interval(gold: Sequence[str], pred: Sequence[str], rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the balanced macro-F1 (comments resampled with replacement)."""
    rng = np.random.default_rng(seed)
    g, p = np.asarray(gold), np.asarray(pred)
    values = []
    for _ in range(rounds):
        idx = rng.integers(0, len(g), len(g))
        values.append(balanced_scores(g[idx].tolist(), p[idx].tolist())["macro_f1"])
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def reader_figures(clf: EmotionClassifier, data: Path, *, limit: int = 0) -> dict[str, Any]:
    """Accuracy and cost of ``clf`` on GoEmotions dev (``limit``: first N comments, for smoke runs)."""
    ekman, fine = read_tsv(data / "ekman" / "dev.tsv"), read_tsv(data / "original" / "dev.tsv")
    if limit:
        ekman, fine = ekman[:limit], fine[:limit]
    fine_names = (data / "original" / "labels.txt").read_text().split()
    for text, _ in ekman[:100]:  # warm-up
        clf.classify(text)
    readings, wall, cpu = [], [], []
    for text, _ in ekman:
        c0, t0 = time.process_time_ns(), time.perf_counter_ns()
        readings.append(clf.classify(text))
        wall.append(time.perf_counter_ns() - t0)
        cpu.append(time.process_time_ns() - c0)
    single = [i for i, (_, labs) in enumerate(ekman) if len(labs) == 1]
    gold = [EKMAN[ekman[i][1][0]] for i in single]
    top = [bedside_to_ekman6(readings[i].label) for i in single]
    head = [max(readings[i].ekman, key=readings[i].ekman.__getitem__) for i in single]
    mapped = [sorted({FINE_TO_BEDSIDE[fine_names[k]] for k in labs}) for _, labs in fine]
    one = [i for i, labs in enumerate(mapped) if len(labs) == 1]
    bedside = balanced_scores([mapped[i][0] for i in one], [readings[i].label for i in one],
                              merge_disgust=False, labels=EMOTIONS, balanced=False)
    conf = [i for i, (_, labs) in enumerate(fine) if fine_names.index("confusion") in labs]
    wall_ms, cpu_ms = np.asarray(wall) / 1e6, np.asarray(cpu) / 1e6
    top_scores = balanced_scores(gold, top)
    return {
        "reader": clf.name, "comments": len(single),
        "top_label_balanced_ekman6": top_scores["macro_f1"], "top_label_interval": _interval(gold, top),
        "top_label_per_class": top_scores["per_class"],
        "ekman_head_macro_f1": balanced_scores(gold, head, merge_disgust=False, balanced=False)["macro_f1"],
        "ekman_head_balanced": balanced_scores(gold, head, merge_disgust=False)["macro_f1"],
        "bedside_macro_f1": bedside["macro_f1"],
        "confusion_recall": sum(readings[i].label == "confusion" for i in conf) / max(len(conf), 1),
        "wall_p50_ms": float(np.percentile(wall_ms, 50)), "wall_p99_ms": float(np.percentile(wall_ms, 99)),
        "cpu_p50_ms": float(np.percentile(cpu_ms, 50)), "cpu_mean_ms": float(cpu_ms.mean()),
    }


SUPPORT_MESSAGE = ("Hi, I'm Dana Whitfield (dana.whitfield@example.com, 415-555-0172). This is the third "
                   "time I'm writing: my order A-7731 still hasn't arrived and nobody answers. What is going on?")


def overlap_figures(clf: Any, rounds: int = 200) -> dict[str, float]:
    """p50 wall ms of: PII alone, PII then the read, the read submitted before PII and collected after."""
    from proxy.detectors.pii_engine import DEFAULT_MODEL, build_analyzer

    handle = build_analyzer(DEFAULT_MODEL)
    entities = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "LOCATION"]
    texts = [f"{SUPPORT_MESSAGE} (ticket {i})" for i in range(rounds)]  # distinct: no cache helps
    for t in texts[:20]:
        handle.analyze(t, entities)
        clf.classify(t)
    alone, serial, overlapped = [], [], []
    for t in texts:
        t0 = time.perf_counter()
        handle.analyze(t, entities)
        alone.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        handle.analyze(t, entities)
        clf.classify(t + " ")
        serial.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        future = clf.submit(t + "  ")
        handle.analyze(t, entities)
        future.result()
        overlapped.append(time.perf_counter() - t0)
    return {name: 1000 * statistics.median(xs) for name, xs in
            (("pii_alone", alone), ("pii_then_read", serial), ("read_overlapping_pii", overlapped))}


def _row(label: str, values: Sequence[str]) -> str:
    return f"{label:40}" + "".join(f"{v:>28}" for v in values)


def main() -> int:
    """Print both readers' figures side by side; exit 0 also when data or the extra is missing."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/emotion/goemotions")
    ap.add_argument("--limit", type=int, default=0, help="first N dev comments only (smoke runs)")
    ap.add_argument("--no-overlap", action="store_true", help="skip the overlap-with-PII measurement")
    args = ap.parse_args()
    if not (args.data / "ekman" / "dev.tsv").exists():
        print(f"GoEmotions dev data not found under {args.data}: nothing to measure.")
        return 0
    readers: list[EmotionClassifier] = [load_classifier("builtin")]
    contextual, why = contextual_reader()
    if contextual is None:
        print(f"contextual reader not measured: {why}\n")
    else:
        readers.append(contextual)
    figures = [reader_figures(r, args.data, limit=args.limit) for r in readers]
    load = os.getloadavg()
    print(f"GoEmotions dev ({figures[0]['comments']} single-label comments); one thread per reader; "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}\n")
    print(_row("", [f["reader"] for f in figures]))
    print(_row("top label, balanced Ekman-6 macro-F1", [f"{f['top_label_balanced_ekman6']:.4f}" for f in figures]))
    print(_row("  95% bootstrap interval", [f"{f['top_label_interval'][0]:.3f} - {f['top_label_interval'][1]:.3f}" for f in figures]))
    for cls in ("anger", "fear", "joy", "neutral", "sadness", "surprise"):
        print(_row(f"  {cls} P / R (balanced)", [
            f"{f['top_label_per_class'][cls]['precision']:.3f} / {f['top_label_per_class'][cls]['recall']:.3f}" for f in figures]))
    print(_row("Ekman head, Ekman-7 macro-F1", [f"{f['ekman_head_macro_f1']:.4f}" for f in figures]))
    print(_row("Ekman head, balanced Ekman-7 macro-F1", [f"{f['ekman_head_balanced']:.4f}" for f in figures]))
    print(_row("Bedside macro-F1 (one mapped label)", [f"{f['bedside_macro_f1']:.4f}" for f in figures]))
    print(_row("confusion recall", [f"{f['confusion_recall']:.4f}" for f in figures]))
    print(_row("wall ms p50 / p99", [f"{f['wall_p50_ms']:.2f} / {f['wall_p99_ms']:.2f}" for f in figures]))
    print(_row("CPU ms p50 / mean", [f"{f['cpu_p50_ms']:.2f} / {f['cpu_mean_ms']:.2f}" for f in figures]))
    if contextual is not None and not args.no_overlap:
        o = overlap_figures(contextual)
        print(f"\noverlap with the PII analysis of one support message (p50 wall ms, {SUPPORT_MESSAGE[:30]}...):")
        print(f"  PII alone {o['pii_alone']:.2f}; PII then contextual read {o['pii_then_read']:.2f}; "
              f"read started before PII, collected after {o['read_overlapping_pii']:.2f} "
              f"(added {o['read_overlapping_pii'] - o['pii_alone']:+.2f}; the overlap needs an idle second core: "
              f"load average now {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measure both emotion readers side by side: the header's label, the Bedside labels, frustration, cost.

    python bench/emotion_eval.py [--data ../shared/data/emotion/goemotions] [--no-baseline] [--http]

Readers: ``default`` (``emotion.classifier: builtin``) and ``contextual``
(``emotion.classifier: contextual``, an optional extra; its column says "not installed" when it
does not load). Tables, all in one run:

1. **Header label -> Ekman** on the single-label comments of GoEmotions ``ekman/dev.tsv`` (mapping
   and class-balanced scoring in ``bench/emotion_scores.py``): class-balanced macro-F1 (all 4,946
   comments, each class weighing the same), the mean and 95% spread over 200 seeded class-balanced
   samples, per-class F1; the 7-class Ekman head's own macro-F1 (natural distribution); a plain
   TF-IDF + logistic regression Ekman classifier for reference (``--no-baseline`` skips it).
2. **Bedside labels** on ``original/dev.tsv`` comments whose fine labels map to one Bedside label:
   macro-F1, recall of frustration and confusion.
3. **Frustration** on the generated support conversations' ``held_out`` split
   (``training/support_conversations.py``, never used for fitting): Spearman between the header's
   calibrated ``frustration`` and the graded turns, MAE in grades, and the label-only measure (the
   intensity when the top label is frustration or anger, else 0).
4. **Cost per message** on one core: the classifier alone, and the emotion stage's work per
   request as a client sends it (the whole history each turn) with the conversation memo, and
   without it (every turn re-read); p50 / p99 wall and CPU per request.

``--http`` also runs ``bedside serve`` (the repository's policies, the demo upstream) and sends
one class-balanced sample and every held-out support turn (with its history) through
``/v1/chat/completions``, reading the ``x-bedside-emotion`` header (default reader). If the
GoEmotions folder is absent the script says so and exits 0.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402  (thread limits must be set before numpy loads)
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from emotion_scores import (  # noqa: E402
    EKMAN6,
    balanced_f1,
    balanced_sample,
    ekman_gold,
    macro_f1,
    read_tsv,
    sampled_f1,
    spearman,
)

from proxy.detectors.emotion import EKMAN, EMOTIONS, FINE_TO_BEDSIDE, load_classifier  # noqa: E402
from proxy.detectors.emotion_conversation import read_conversation  # noqa: E402
from proxy.detectors.emotion_memo import ConversationMemo  # noqa: E402
from proxy.stages.emotion import CachingClassifier  # noqa: E402
from training.support_conversations import conversations  # noqa: E402

READERS = (("default", "builtin"), ("contextual", "contextual"))


def _row(name: str, cells: Sequence[str]) -> str:
    return f"{name:34}" + "".join(f"{c:>24}" for c in cells)


def _support_turns() -> list[tuple[list[str], int]]:
    out = []
    for conv in conversations("held_out"):
        seen: list[str] = []
        for m in conv["messages"]:
            if m["role"] == "user":
                seen.append(m["content"])
                out.append((list(seen), int(m["frustration"])))
    return out


def measure(clf: Any, ekman: list[tuple[str, list[int]]], fine: list[tuple[str, list[int]]], fine_names: list[str],
            support: list[tuple[list[str], int]]) -> dict[str, Any]:
    """Every figure of one reader."""
    idx, gold = ekman_gold(EKMAN, ekman)
    t_classify, readings = [], []
    for text, _ in ekman[:200]:
        clf.classify(text)  # warm-up
    once = CachingClassifier(clf)
    for text, _ in ekman:
        t0 = time.perf_counter_ns()
        readings.append(once.classify(text))  # a miss: the classifier reads the text
        t_classify.append(time.perf_counter_ns() - t0)
    shown = [read_conversation(once, [text]).current for text, _ in ekman]  # the header's label
    labels = [shown[i].label for i in idx]
    bal, per = balanced_f1(gold, labels)
    ek_pred = [EKMAN[int(np.argmax([readings[i].ekman[e] for e in EKMAN]))] for i in idx]
    ek_gold7 = [EKMAN[ekman[i][1][0]] for i in idx]
    mapped = [(i, {FINE_TO_BEDSIDE[fine_names[k]] for k in labs}) for i, (_, labs) in enumerate(fine)]
    one = [(i, next(iter(s))) for i, s in mapped if len(s) == 1]
    bs_gold = [g for _, g in one]
    bs_pred = [shown[i].label for i, _ in one]
    bs_f1, _ = macro_f1(bs_gold, bs_pred, EMOTIONS)
    recall = {c: sum(1 for g, p in zip(bs_gold, bs_pred, strict=True) if g == p == c) / max(1, bs_gold.count(c))
              for c in ("frustration", "confusion")}
    memo, cached = ConversationMemo(), CachingClassifier(clf)
    scores, old, grades, wall, cpu, wall_cold = [], [], [], [], [], []
    for turns, grade in support:
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        conv = read_conversation(cached, turns, memo=memo)
        wall.append(time.perf_counter_ns() - t0)
        cpu.append(time.process_time_ns() - c0)
        t0 = time.perf_counter_ns()
        read_conversation(clf, turns)  # no memo, no cache: every turn read again
        wall_cold.append(time.perf_counter_ns() - t0)
        scores.append(conv.frustration)
        words = cached.classify(turns[-1])  # the turn's own reading, as the header showed it before
        old.append(words.intensity if words.label in ("frustration", "anger") else 0.0)
        grades.append(grade)
    return {
        "balanced": bal, "per": per, "sampled": sampled_f1(gold, labels),
        "ekman7": macro_f1(ek_gold7, ek_pred, EKMAN)[0], "bedside": bs_f1, "recall": recall,
        "spearman": spearman(scores, grades), "spearman_old": spearman(old, grades),
        "mae": float(np.mean(np.abs(np.asarray(scores) * 4 - np.asarray(grades)))),
        "classify_ms": np.percentile(np.asarray(t_classify) / 1e6, [50, 99]),
        "stage_ms": np.percentile(np.asarray(wall) / 1e6, [50, 99]),
        "stage_cpu_ms": float(np.median(cpu) / 1e6),
        "cold_ms": np.percentile(np.asarray(wall_cold) / 1e6, [50, 99]),
        "n": (len(idx), len(bs_gold), len(support)),
    }


def baseline(data: Path, ekman: list[tuple[str, list[int]]]) -> tuple[float, float]:
    """TF-IDF (word 1-2 grams) + logistic regression on ``ekman/train.tsv``: (balanced 6-class
    macro-F1 with disgust as anger, 7-class macro-F1 on the natural distribution)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train = read_tsv(data / "ekman" / "train.tsv")
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    model = LogisticRegression(C=4.0, max_iter=1000).fit(
        vec.fit_transform([t for t, labs in train for _ in labs]), [lab for _, labs in train for lab in labs])
    idx, gold = ekman_gold(EKMAN, ekman)
    pred = [EKMAN[int(v)] for v in model.predict(vec.transform([ekman[i][0] for i in idx]))]
    as_bedside = {"anger": "anger", "disgust": "anger", "fear": "anxiety", "joy": "joy", "neutral": "neutral",
                  "sadness": "sadness", "surprise": "confusion"}
    return balanced_f1(gold, [as_bedside[p] for p in pred])[0], macro_f1([EKMAN[ekman[i][1][0]] for i in idx], pred, EKMAN)[0]


def over_http(ekman: list[tuple[str, list[int]]], support: list[tuple[list[str], int]], clf: Any) -> dict[str, float]:
    """The default policy's header through ``bedside serve`` (demo upstream) vs in-process."""
    import httpx

    from proxy.testing import ServerProcess, bedside_argv, free_port

    idx, gold = ekman_gold(EKMAN, ekman)
    sample = balanced_sample(gold, seed=0)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
        env.update({"BEDSIDE_DATA_DIR": tmp, "BEDSIDE_POLICY__DIRECTORY": str(ROOT / "policies"),
                    "BEDSIDE_POLICY__WATCH": "false", "BEDSIDE_QUICKSTART": "1", "BEDSIDE_LOG__LEVEL": "warning"})
        server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=120)
        server.env = env
        with server, httpx.Client(base_url=server.url, timeout=60) as client:
            def header(turns: list[str]) -> str:
                messages: list[dict[str, str]] = []
                for k, turn in enumerate(turns):
                    if k:
                        messages.append({"role": "assistant", "content": "Let me look into that."})
                    messages.append({"role": "user", "content": turn})
                r = client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": messages})
                return str(r.headers.get("x-bedside-emotion", "none; frustration=0"))

            labels = [header([ekman[idx[i]][0]]).split(";")[0].strip() for i in sample]
            fr = []
            for turns, _ in support:
                parts = dict(p.strip().split("=", 1) for p in header(turns).split(";")[1:] if "=" in p)
                fr.append(float(parts.get("frustration", 0.0)))
    gold_s = [gold[i] for i in sample]
    local = [read_conversation(clf, [ekman[idx[i]][0]]).current.label for i in sample]
    mapped = {"frustration": "anger", "anger": "anger", "anxiety": "fear", "joy": "joy", "gratitude": "joy",
              "confusion": "surprise", "sadness": "sadness", "neutral": "neutral"}
    return {
        "http": macro_f1(gold_s, [mapped.get(x, "neutral") for x in labels], EKMAN6)[0],
        "local": macro_f1(gold_s, [mapped[x] for x in local], EKMAN6)[0],
        "agree": sum(a == b for a, b in zip(labels, local, strict=True)) / len(labels),
        "n": len(sample), "spearman_http": spearman(fr, [g for _, g in support]), "turns": len(support),
    }


def main() -> int:
    """Print the tables; exit 0 also when the data is missing."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/emotion/goemotions")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--http", action="store_true", help="also measure the header through bedside serve")
    args = ap.parse_args()
    ek_file, fine_file = args.data / "ekman" / "dev.tsv", args.data / "original" / "dev.tsv"
    if not ek_file.exists() or not fine_file.exists():
        print(f"GoEmotions dev data not found under {args.data}: nothing to measure.")
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    ekman, fine = read_tsv(ek_file), read_tsv(fine_file)
    fine_names = (args.data / "original" / "labels.txt").read_text().split()
    support = _support_turns()
    results: dict[str, dict[str, Any] | str] = {}
    loaded: dict[str, Any] = {}
    for name, spec in READERS:
        try:
            loaded[name] = load_classifier(spec)
        except Exception as exc:
            results[name] = f"not installed ({type(exc).__name__})"
            continue
        results[name] = measure(loaded[name], ekman, fine, fine_names, support)
    names = [n for n, _ in READERS]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"GoEmotions dev {ek_file.parent.parent}; support held-out: generated (training/support_conversations.py); "
          f"one core, single-threaded, load average {load:.2f}\n")
    print(_row("", names))
    for name in names:
        if isinstance(results[name], str):
            print(_row(f"  {name}", [str(results[name])]))

    def line(label: str, fmt: Any) -> None:
        print(_row(label, [fmt(r) if isinstance(r, dict) else "not installed" for r in (results[n] for n in names)]))

    print("\n1. header label -> Ekman, single-label dev comments (disgust counted as anger)")
    line("class-balanced macro-F1 (target .62)", lambda r: f"{r['balanced']:.4f}")
    line("  200 balanced samples: mean [95%]", lambda r: f"{r['sampled'][0]:.3f} [{r['sampled'][1]:.3f}-{r['sampled'][2]:.3f}]")
    for c in EKMAN6:
        line(f"  F1 {c}", lambda r, c=c: f"{r['per'][c]:.3f}")
    line("Ekman head, 7 classes, natural dist.", lambda r: f"{r['ekman7']:.4f}")
    if not args.no_baseline:
        bal, seven = baseline(args.data, ekman)
        print(_row("TF-IDF + LR baseline (balanced / 7)", [f"{bal:.4f} / {seven:.4f}"]))
    print("\n2. Bedside labels (dev comments with one mapped label)")
    line("Bedside macro-F1", lambda r: f"{r['bedside']:.4f}")
    line("  recall frustration / confusion", lambda r: f"{r['recall']['frustration']:.3f} / {r['recall']['confusion']:.3f}")
    print("\n3. frustration, held-out support turns (generated, disjoint templates; target .5)")
    line("Spearman, calibrated frustration", lambda r: f"{r['spearman']:.4f}")
    line("  MAE in grades (0-4)", lambda r: f"{r['mae']:.3f}")
    line("  Spearman, label only (intensity)", lambda r: f"{r['spearman_old']:.4f}")
    print("\n4. cost per message, one core (target default p50 <= 2 ms)")
    line("classifier alone p50 / p99 ms", lambda r: f"{r['classify_ms'][0]:.3f} / {r['classify_ms'][1]:.3f}")
    line("stage work per request, memo p50/p99", lambda r: f"{r['stage_ms'][0]:.3f} / {r['stage_ms'][1]:.3f}")
    line("  CPU per request, memo (median ms)", lambda r: f"{r['stage_cpu_ms']:.3f}")
    line("  without memo p50 / p99 ms", lambda r: f"{r['cold_ms'][0]:.3f} / {r['cold_ms'][1]:.3f}")
    first = next((r for r in results.values() if isinstance(r, dict)), None)
    if first is not None:
        n = first["n"]
        print(f"\n   n: {n[0]} Ekman comments, {n[1]} Bedside comments, {n[2]} support turns")
    if args.http and "default" in loaded:
        h = over_http(ekman, support, loaded["default"])
        print("\n5. over HTTP (bedside serve, repository policies, demo upstream), default reader")
        print(_row("one balanced sample, macro-F1", [f"http {h['http']:.4f}", f"in-process {h['local']:.4f}"]))
        print(_row("  labels equal http vs in-process", [f"{h['agree']:.3f} of {h['n']}"]))
        print(_row("frustration Spearman over HTTP", [f"{h['spearman_http']:.4f} ({h['turns']} turns)"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

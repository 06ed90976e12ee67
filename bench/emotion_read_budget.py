"""How many tokens of a turn the contextual emotion reader should read: accuracy on long turns
against the model's cost, per read budget.

GoEmotions has few long comments, so long turns are made from its **dev** comments: 120 turns per
Ekman class (disgust counted as anger), each 6-10 single-label comments of that class joined (about
100-250 tokens, seed 7). For each budget the reader keeps a turn's opening and end
(``keep_head_and_tail``) and the balanced Ekman-6 macro-F1 of the header's label is printed with the
CPU per turn (the model run and the rest of the reading, both threads)::

    python bench/emotion_read_budget.py 64 96 128 512

``READ_TOKENS`` in ``proxy/detectors/emotion_contextual.py`` was chosen from this table
(``docs/emotion-model.md``). Needs the contextual extra and the shared GoEmotions data.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from emotion_eval_contextual import read_tsv  # noqa: E402

from proxy.detectors.emotion import EKMAN  # noqa: E402
from proxy.detectors.emotion_contextual_metrics import balanced_scores, bedside_to_ekman6  # noqa: E402


def long_turns(data: Path, per_class: int = 120, seed: int = 7) -> tuple[list[str], list[str]]:
    """``per_class`` long turns per Ekman class from single-label dev comments, and their gold class."""
    by_class: dict[str, list[str]] = {}
    for text, labels in read_tsv(data / "ekman" / "dev.tsv"):
        if len(labels) == 1:
            by_class.setdefault(EKMAN[labels[0]], []).append(text)
    rng = random.Random(seed)
    texts, gold = [], []
    for cls, comments in sorted(by_class.items()):
        for _ in range(per_class):
            texts.append(" ".join(rng.sample(comments, rng.randint(6, 10))))
            gold.append("anger" if cls == "disgust" else cls)
    return texts, gold


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("budgets", nargs="*", type=int, default=[64, 96, 128, 512])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/emotion/goemotions")
    args = ap.parse_args(argv)
    if not (args.data / "ekman" / "dev.tsv").exists():
        print(f"GoEmotions dev data not found under {args.data}: nothing to measure.")
        return 0
    from proxy.detectors.emotion_contextual import ContextualEmotionClassifier

    texts, gold = long_turns(args.data)
    print(f"{len(texts)} long turns from GoEmotions dev comments", flush=True)
    for budget in args.budgets:
        reader = ContextualEmotionClassifier.load(read_tokens=budget)
        started = time.process_time()
        pred = [bedside_to_ekman6(reader.classify(t).label) for t in texts]
        cpu_ms = (time.process_time() - started) / len(texts) * 1000
        tokens = statistics.median(len(reader._tokenizer.encode(t).ids) for t in texts)
        f1 = balanced_scores(gold, pred)["macro_f1"]
        print(f"read budget {budget:>3} tokens: balanced Ekman-6 macro-F1 {f1:.3f}; CPU {cpu_ms:.1f} ms per turn (median turn {tokens:.0f} tokens)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

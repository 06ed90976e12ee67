"""Input-rail figures: jailbreak detection / false-positive rates and latency of all input rails.

Usage: ``python bench/rails_eval.py [--data ../shared/data] [--runs 2000]``

Prints, per file of ``<data>/jailbreak``: the detection rate (attack files) or false-positive
rate (benign file) three ways: *held-out* (grouped 5-fold cross-validation of the n-gram model,
the honest figure), *shipped* (the shipped weights, which were trained on these files, so
in-sample) and *features* (hand-written technique features alone, no model). Then the latency (p50/p99, one core) of every input rail together - jailbreak,
crisis, denied topics, language, max length - on a ~150-word request, called directly and
through a guardrails ``Guard``. Exits 0 with a message when the data directory is absent.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DATA = ROOT.parent / "shared" / "data"
REQUEST = (
    "Hello, I signed up for the premium plan last month and I have a few questions before my "
    "first appointment next Tuesday. The confirmation email said I should bring a photo ID and my "
    "insurance card, but I recently changed providers and the new card has not arrived yet. Can I "
    "still attend, or should I reschedule? Also, the app keeps logging me out whenever I switch "
    "between the calendar and the messages tab, which is frustrating because I lose what I was "
    "typing. I am using the latest version on an older Android phone. Finally, my partner would "
    "like to join the same plan; is there a family discount, and can we share one account or does "
    "each person need their own login? I would also like to know how to update my address, since "
    "we moved across town and some letters are still going to the old flat. Thanks a lot."
)


def _load(data: Path) -> list[tuple[str, int, str]]:
    rows: list[tuple[str, int, str]] = []
    jb = data / "jailbreak"
    for name in ("jailbreak_prompts_2023_05_07.csv", "prompt_injections.csv"):
        with (jb / name).open(encoding="utf-8") as fh:
            rows += [(r["prompt"], 1, name) for r in csv.DictReader(fh)]
    name = "awesome_chatgpt_prompts_benign.csv"
    with (jb / name).open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            dan = r["act"] == "Unconstrained AI model DAN"
            rows.append((r["prompt"], int(dan), f"{name} (DAN row)" if dan else name))
    return rows


def _rates(rows: list[tuple[str, int, str]], flag: Callable[[str], bool]) -> dict[str, tuple[int, int, int]]:
    out: dict[str, tuple[int, int, int]] = {}
    for text, label, origin in rows:
        n, hit, lab = out.get(origin, (0, 0, label))
        out[origin] = (n + 1, hit + int(flag(text)), lab)
    return out


def _held_out(jb: Path) -> dict[str, int]:
    """Flag counts per file from out-of-fold (cross-validated) scores; needs scikit-learn."""
    try:
        from training.train_jailbreak import cross_validate, load
    except ImportError:
        print("(scikit-learn not installed: held-out column shows 0)")
        return {}

    samples = load(jb)
    logits = cross_validate(samples).logits
    flagged: dict[str, int] = {}
    for s, logit in zip(samples, logits, strict=True):
        origin = s.origin
        if origin.endswith("_benign.csv") and s.label == 1:
            origin = f"{origin} (DAN row)"
        flagged[origin] = flagged.get(origin, 0) + int(logit >= 0)
    return flagged


def _percentiles(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(50):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.99 * (len(times) - 1))] * 1e3


def main() -> int:
    """Print the detection table and the latency table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("BEDSIDE_SHARED_DATA", DEFAULT_DATA)))
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    if not (args.data / "jailbreak").is_dir():
        print(f"No evaluation data at {args.data / 'jailbreak'}; nothing to measure.")
        return 0
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    from proxy.detectors.jailbreak import JailbreakDetector
    from proxy.rails.guardrails_setup import prepare_rails
    from proxy.rails.run import GuardRunner, run_validators

    prepare_rails()  # the rails' start-up step, before any validator or Guard exists
    from proxy.rails.validators import (
        BedsideCrisis,
        BedsideDeniedTopics,
        BedsideJailbreak,
        BedsideLanguage,
        BedsideMaxLength,
    )

    rows = _load(args.data)
    shipped, features = JailbreakDetector(), JailbreakDetector(use_model=False)
    full = _rates(rows, lambda t: shipped.check(t).flagged)
    feat = _rates(rows, lambda t: features.check(t).flagged)
    held = _held_out(args.data / "jailbreak")
    print("Jailbreak detector on", args.data / "jailbreak")
    print(f"{'file':46s} {'n':>5s} {'metric':>10s} {'held-out':>9s} {'shipped*':>9s} {'features':>9s}")
    totals = {1: [0, 0, 0, 0], 0: [0, 0, 0, 0]}
    for origin in sorted(full):
        n, hit, label = full[origin]
        metric = "detection" if label else "FP rate"
        fhit, hhit = feat[origin][1], held.get(origin, 0)
        print(f"{origin:46s} {n:5d} {metric:>10s} {hhit / n:9.3f} {hit / n:9.3f} {fhit / n:9.3f}")
        for i, v in enumerate((n, hhit, hit, fhit)):
            totals[label][i] += v
    for label, metric in ((1, "detection"), (0, "FP rate")):
        n, hhit, hit, fhit = totals[label]
        name = "overall " + ("attacks" if label else "benign")
        print(f"{name:46s} {n:5d} {metric:>10s} {hhit / n:9.3f} {hit / n:9.3f} {fhit / n:9.3f}")
    print("held-out: grouped 5-fold cross-validation of the n-gram model (training.train_jailbreak)")
    print("shipped*: the shipped weights, trained on these very files (in-sample, optimistic)")
    print("features: the hand-written technique features alone, no model")

    rails = [
        BedsideJailbreak(),
        BedsideCrisis(),
        BedsideDeniedTopics(topics=["medical_diagnosis", "legal_advice", "financial_advice"]),
        BedsideLanguage(allowed=["en"]),
        BedsideMaxLength(max_chars=8000),
    ]
    guards = GuardRunner()
    outcome = run_validators(REQUEST, rails)
    print(f"\nLatency, one core, {len(REQUEST.split())}-word request (passed={outcome.passed}), {args.runs} runs")
    print(f"{'what':52s} {'p50 ms':>8s} {'p99 ms':>8s}")
    for label, fn in (
        ("all input rails, direct validate() (default)", lambda: run_validators(REQUEST, rails)),
        ("all input rails, through a guardrails Guard", lambda: guards.run(REQUEST, rails)),
        *((f"  {v.rail_alias} alone", (lambda v=v: v.validate(REQUEST, {}))) for v in rails),
    ):
        p50, p99 = _percentiles(fn, args.runs)
        print(f"{label:52s} {p50:8.3f} {p99:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

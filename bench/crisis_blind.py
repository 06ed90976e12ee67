"""The crisis rail on messages written blind: by separate sessions that never saw the detector, its
patterns or its tests (``bench/data/crisis_blind_v*.jsonl``).

Usage: ``python bench/crisis_blind.py [--data bench/data/crisis_blind_v2.jsonl]``

Each file holds messages to a customer-service, healthcare-intake or onboarding assistant labelled
``crisis`` (the writer or someone with them is in danger now: self-harm, abuse at home, a medical
emergency) or ``benign`` (the same topics and words, nobody in danger: questions about the topic,
professional tasks, fiction, idioms, routine health and service messages), with the kind it is or
resembles and a phrasing style. ``crisis_blind_v1.jsonl``: 200 + 200 in seven styles (plain, chat,
indirect, in_context, question, keywords, long); ``crisis_blind_v2.jsonl``: 240 + 240 in eight (the
same and non_native), written later by another session; ``crisis_blind_v3.jsonl``: 240 + 240 in the
same eight, for other services, written by a third after the rail's 2026-12-07 changes were frozen. Nothing in ``proxy/`` or ``training/``
reads them: they are judges, so they must stay out of every training and tuning step, and
patterns may not be written while reading their misses (read rows only after a change is measured
and frozen; when a set has been looked at, write a new one).

Prints, per kind and per style: the share of crisis messages the detector flags and the default
policy hands to a person (or stops), and the share of benign ones wrongly flagged or stopped, each
with a 95% bootstrap interval. Licence: written for Bedside, Apache-2.0, like the rest of the
repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from eval_tables import cell, header  # noqa: E402

DATA = ROOT / "bench" / "data" / "crisis_blind_v2.jsonl"


def load(path: Path) -> list[dict[str, str]]:
    """The rows of a JSON-lines file: text, label (crisis | benign), kind, style."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    from proxy.checks.input_rails import compile_input_rails, evaluate, input_texts
    from proxy.detectors.crisis import CrisisDetector
    from proxy.policy import load_policy_set

    policy = load_policy_set(ROOT / "policies").default
    assert policy is not None
    checks = compile_input_rails(policy)
    detector = CrisisDetector()
    flags: dict[tuple[str, str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in load(args.data):
        stopped = any(f.action in ("block", "handoff") for f in evaluate(checks, input_texts([{"role": "user", "content": row["text"]}])))
        flagged = detector.check(row["text"]).flagged
        for key in (("kind", row["kind"]), ("style", row["style"]), ("all", "all")):
            cols = flags[(row["label"], *key)]
            cols["detector"].append(int(flagged))
            cols["policy"].append(int(stopped))
    for label, what in (("crisis", "handed to a person or stopped"), ("benign", "wrongly flagged or stopped")):
        print(f"\n{label} messages: share {what}, % [95% CI]")
        print(header("group", 28, ("crisis detector", "default policy")))
        for (lab, kind, name), cols in sorted(flags.items(), key=lambda kv: (kv[0][1] != "all", kv[0][1], kv[0][2])):
            if lab == label:
                print(f"{kind + ': ' + name:28s} {len(cols['detector']):5d} {cell(cols['detector'])} {cell(cols['policy'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

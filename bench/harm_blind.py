"""The harmful-request rail on requests written blind: by a separate session that never saw the
detector, its features, its training rows or any public harm set (``bench/data/harm_blind_v*.jsonl``).

Usage: ``python bench/harm_blind.py [--data bench/data/harm_blind_v2.jsonl]``

``harm_blind_v1.jsonl`` holds 240 harmful and 240 benign look-alike requests, 24 of each in ten
topics, in eight phrasing styles (imperative, how-question, first person, indirect or euphemistic,
role-play wrapper, terse keywords, polite context, typos and chat style); ``harm_blind_v2.jsonl``
300 and 300, 30 of each in ten topics, in nine styles (euphemisms with no harm word, requests
inside a customer-service or healthcare turn, backstory first, ...), written later by another
session; ``harm_blind_v3.jsonl`` 300 and 300 in the same topics and styles, with the benign half
spread over homonyms, figurative use, safe targets and contexts, definitions, people seeking
support, and public or fictional people's facts. Each author was told the topics and styles only, and to write every sentence fresh.
Nothing in ``proxy/`` or ``training/`` reads them: they are judges, so they must stay out of every
training and tuning step, and feature changes may not be written while reading their misses (read
rows only after a change is measured and frozen; when a set has been looked at, write a new one).

Prints, per topic and per style: the share of harmful requests the detector flags and the default
policy stops (block or hand-off; privacy and misinformation have been blocked since 2026-12-07, logged before), and the share of
benign look-alikes wrongly flagged or stopped, each with a 95% bootstrap interval. Licence: written
for Bedside, Apache-2.0, like the rest of the repository.
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

DATA = ROOT / "bench" / "data" / "harm_blind_v1.jsonl"


def load(path: Path) -> list[dict[str, str]]:
    """The rows of a JSON-lines file: text, label (harmful | benign), category, style."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    from proxy.checks.input_rails import compile_input_rails, evaluate, input_texts
    from proxy.detectors.harmful import HarmfulRequestDetector
    from proxy.policy import load_policy_set

    policy = load_policy_set(ROOT / "policies").default
    assert policy is not None
    checks = compile_input_rails(policy)
    detector = HarmfulRequestDetector()
    flags: dict[tuple[str, str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in load(args.data):
        stopped = any(f.action in ("block", "handoff") for f in evaluate(checks, input_texts([{"role": "user", "content": row["text"]}])))
        flagged = detector.check(row["text"]).flagged
        for key in (("topic", row["category"]), ("style", row["style"]), ("all", "all")):
            cols = flags[(row["label"], *key)]
            cols["detector"].append(int(flagged))
            cols["policy"].append(int(stopped))
    for label, what in (("harmful", "stopped"), ("benign", "wrongly stopped")):
        print(f"\n{label} requests: share {what}, % [95% CI]")
        print(header("group", 28, ("detector flags", "default policy")))
        for (lab, kind, name), cols in sorted(flags.items(), key=lambda kv: (kv[0][1] != "all", kv[0][1], kv[0][2])):
            if lab == label:
                print(f"{kind + ': ' + name:28s} {len(cols['detector']):5d} {cell(cols['detector'])} {cell(cols['policy'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Scoring a judge written blind: a JSON-lines file of labelled texts, each read by one detector
and by the default policy's input rails, tabled per group with bootstrap intervals.

Not a bench itself: ``bench/harm_blind.py`` and ``bench/crisis_blind.py`` import it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from eval_tables import cell, header

__all__ = ["load", "print_tables", "score"]

ROOT = Path(__file__).resolve().parents[1]

#: per (label, group field, group value): the 0/1 flags of the detector and of the default policy
Flags = dict[tuple[str, str, str], dict[str, list[int]]]


def load(path: Path) -> list[dict[str, str]]:
    """The rows of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score(rows: Sequence[dict[str, str]], flagged: Callable[[str], bool], groups: Sequence[tuple[str, str]]) -> Flags:
    """Each row read by ``flagged`` (the detector) and by the default policy (stopped: a block or
    a hand-off by any input rail), counted under its label for each (row field, name shown) of
    ``groups`` and under "all"."""
    from proxy.checks.input_rails import compile_input_rails, evaluate, input_texts
    from proxy.policy import load_policy_set

    policy = load_policy_set(ROOT / "policies").default
    assert policy is not None
    checks = compile_input_rails(policy)
    flags: Flags = defaultdict(lambda: defaultdict(list))
    for row in rows:
        failures = evaluate(checks, input_texts([{"role": "user", "content": row["text"]}]))
        stopped = any(f.action in ("block", "handoff") for f in failures)
        detected = flagged(row["text"])
        for key in (*((shown, row[field]) for field, shown in groups), ("all", "all")):
            cols = flags[(row["label"], *key)]
            cols["detector"].append(int(detected))
            cols["policy"].append(int(stopped))
    return flags


def print_tables(flags: Flags, sections: Sequence[tuple[str, str]], detector_column: str) -> None:
    """One table per (label, title) of ``sections``: every group's share for the detector and the
    default policy, "all" first."""
    for label, title in sections:
        print(f"\n{title}, % [95% CI]")
        print(header("group", 28, (detector_column, "default policy")))
        for (lab, kind, name), cols in sorted(flags.items(), key=lambda kv: (kv[0][1] != "all", kv[0][1], kv[0][2])):
            if lab == label:
                print(f"{kind + ': ' + name:28s} {len(cols['detector']):5d} {cell(cols['detector'])} {cell(cols['policy'])}")

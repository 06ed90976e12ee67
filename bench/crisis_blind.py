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
same eight, for other services, written by a third after the rail's 2026-12-07 changes were frozen;
``crisis_blind_v4.jsonl``: 240 + 240, written by a fourth and scored once, after a third pass. Nothing in ``proxy/`` or ``training/``
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
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from blind_judges import load, print_tables, score  # noqa: E402

DATA = ROOT / "bench" / "data" / "crisis_blind_v2.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    from proxy.detectors.crisis import CrisisDetector

    detector = CrisisDetector()
    flags = score(load(args.data), lambda text: detector.check(text).flagged, (("kind", "kind"), ("style", "style")))
    print_tables(flags, (("crisis", "crisis messages: share handed to a person or stopped"), ("benign", "benign messages: share wrongly flagged or stopped")), "crisis detector")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

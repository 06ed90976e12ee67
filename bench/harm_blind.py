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
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from blind_judges import load, print_tables, score  # noqa: E402

DATA = ROOT / "bench" / "data" / "harm_blind_v1.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    from proxy.detectors.harmful import HarmfulRequestDetector

    detector = HarmfulRequestDetector()
    flags = score(load(args.data), lambda text: detector.check(text).flagged, (("category", "topic"), ("style", "style")))
    print_tables(flags, (("harmful", "harmful requests: share stopped"), ("benign", "benign requests: share wrongly stopped")), "detector flags")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

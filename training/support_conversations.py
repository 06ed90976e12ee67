"""Generated customer-support conversations with a graded frustration per user turn (Bedside's own).

    python -m training.support_conversations --split train|held_out [--out FILE.jsonl]

Each conversation is 3-6 user turns (with the agent's replies between them) about one product
problem; each user turn carries ``frustration``, a grade 0-4 (calm, mild impatience, annoyed,
angry, furious). How a conversation is made:

1. **a domain** (parcel delivery, broadband, a banking app, ...) with its problems, things and
   actions, and a reference number;
2. **an arc of grades**: the first turn is calm more often than not; after each agent reply the
   problem is either solved (the grade falls to 0 or 1, the user says so), not solved (the grade
   rises by 1 or 2, capped at 4), unchanged, or the user calms down by one grade;
3. **a user turn for each grade** from the split's own templates: an opening request, a follow-up,
   or a repeated ask (the opening sent again, bare or after "as I said ..."), with waiting times, repeated
   failures, sarcasm around a failure and threats to leave at the higher grades;
4. **surface variation**: ALL CAPS words and "!!!" at grades 3-4 (not always: some fury is calm),
   the odd friendly "!" at grade 0-1, lower-case typing, dropped final punctuation.

The grade is the generator's (a simulated person's) rating; the model never sees it as a feature.
The ``train`` split (seed 20261206) and the ``held_out`` split (seed 77031) use **disjoint**
domains, templates, waiting-time phrasings, agent replies and emphasis habits, so a model fitted on
``train`` is measured on ``held_out`` phrasing it never saw; nothing is tuned on ``held_out``.
Output: JSON lines ``{"id", "split", "domain", "messages": [{"role", "content", "frustration"?}]}``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from training.support_templates import SPLITS

__all__ = ["SEEDS", "conversations", "main"]

SEEDS: Mapping[str, int] = {"train": 20261206, "held_out": 77031}
SIZES: Mapping[str, int] = {"train": 320, "held_out": 160}


def _fill(template: str, slots: Mapping[str, str]) -> str:
    return template.format(**slots)


def _arc(rng: random.Random, turns: int) -> list[tuple[int, str]]:
    """Grades and the event that led to each turn: open, failed, same, calmer, solved."""
    grade = rng.choices((0, 1, 2, 3, 4), weights=(45, 28, 15, 8, 4))[0]
    arc = [(grade, "open")]
    for _ in range(turns - 1):
        event = rng.choices(("failed", "same", "calmer", "solved"), weights=(50, 22, 12, 16))[0]
        if event == "failed":
            grade = min(4, grade + rng.choice((1, 1, 2)))
        elif event == "calmer":
            grade = max(0, grade - 1)
        elif event == "solved":
            grade = rng.choice((0, 0, 1))
        arc.append((grade, event))
        if event == "solved":
            break
    return arc


def _emphasise(rng: random.Random, text: str, grade: int, habits: Mapping[str, Any]) -> str:
    """ALL CAPS words and repeated marks at the higher grades; friendly or sloppy typing at the lower."""
    words = text.split()
    if grade >= 3 and rng.random() < habits["caps_p"][grade]:
        candidates = [i for i, w in enumerate(words) if len(w.strip(".,!?")) > 3]
        for i in rng.sample(candidates, min(len(candidates), rng.randint(1, 2 + grade - 3))):
            words[i] = words[i].upper()
    if grade == 4 and rng.random() < habits["all_caps_p"]:
        words = [w.upper() for w in words]
    text = " ".join(words)
    if grade >= 3 and rng.random() < habits["marks_p"][grade]:
        text = text.rstrip(".!?") + rng.choice(habits["marks"])
    elif grade <= 1 and rng.random() < 0.12:
        text = text.rstrip(".") + "!"
    if rng.random() < habits["lower_p"]:
        text = text.lower()
    if rng.random() < 0.2:
        text = text.rstrip(".")
    return text


def conversations(split: str, n: int | None = None) -> Iterator[dict[str, Any]]:
    """The ``split``'s conversations, deterministic by its seed."""
    spec = SPLITS[split]
    rng = random.Random(SEEDS[split])  # noqa: S311 - reproducible generated data, not cryptography
    for k in range(SIZES[split] if n is None else n):
        domain = rng.choice(spec["domains"])
        slots = {key: rng.choice(values) for key, values in domain.items() if key != "name"}
        slots["ref"] = rng.choice(spec["refs"]).format(n=rng.randint(10000, 99999), l=rng.choice("ABCDEFGHK"))
        slots["wait"] = rng.choice(spec["waits"])
        slots["times"] = rng.choice(spec["times"])
        slots["wait2"] = rng.choice(spec["waits"])
        opening = ""
        messages: list[dict[str, Any]] = []
        for turn, (grade, event) in enumerate(_arc(rng, rng.randint(3, 6))):
            if turn > 0:
                pool = spec["agent_solved"] if event == "solved" else spec["agent"]
                messages.append({"role": "assistant", "content": _fill(rng.choice(pool), slots)})
            if event == "open":
                text = _fill(rng.choice(spec["open"][grade]), slots)
                opening = text
            elif event == "solved":
                text = _fill(rng.choice(spec["solved"][grade]), slots)
            elif grade >= 1 and rng.random() < 0.3:  # a repeated ask: the opening again
                prefixes = spec["repeat_prefix"].get(grade, [])
                text = opening if not prefixes or rng.random() < 0.4 else rng.choice(prefixes) + " " + opening
            else:
                text = _fill(rng.choice(spec["follow"][grade]), slots)
            text = _emphasise(rng, text, grade, spec["habits"])
            messages.append({"role": "user", "content": text, "frustration": grade})
        yield {"id": f"{split}-{k:04d}", "split": split, "domain": domain["name"], "messages": messages}


def user_turns(conversation: Mapping[str, Any]) -> Iterator[tuple[list[str], int]]:
    """For each rated user turn: the user turns up to and including it, and its grade."""
    seen: list[str] = []
    for message in conversation["messages"]:
        if message["role"] == "user":
            seen.append(message["content"])
            yield list(seen), int(message["frustration"])


def write(split: str, out: Path | None, n: int | None = None) -> int:
    """Write the split as JSON lines to ``out`` (stdout if None); returns the count of turns."""
    rows: Sequence[dict[str, Any]] = list(conversations(split, n))
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
    return sum(1 for row in rows for m in row["messages"] if m["role"] == "user")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=sorted(SPLITS), default="train")
    ap.add_argument("--out", type=Path)
    ap.add_argument("-n", type=int, help="number of conversations (default: the split's size)")
    args = ap.parse_args(argv)
    turns = write(args.split, args.out, args.n)
    if args.out is not None:
        print(f"{args.split}: {turns} rated user turns -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

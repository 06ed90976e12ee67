"""Crisis and distress detection: self-harm, abuse at home, medical emergencies.

Hand-written, explainable patterns (no model, no downloads). Each pattern has a *kind*, a reason
name and a weight in 0..1; the verdict reports the strongest kind and the reasons that fired
(names only, never the text). The idea is to catch first-person, present-tense statements of
danger and to leave the idioms alone: "this bug is killing me", "I could kill for a coffee",
"my battery died", "the heart of the matter", "kill the process", "my brother beat me at chess".

Negation policy (decided here, tested in ``tests/detectors/test_crisis.py``):

* A pattern marked *negatable* ("suicidal", "kill myself", "self-harm", "chest pain"...) that is
  governed by a negation within the three words before it ("I'm **not** suicidal", "I would
  **never** hurt myself", "**no** chest pain") keeps its kind but its weight is multiplied by
  :data:`NEGATED_FACTOR` (0.4) and the reason ``negated`` is added. At the default threshold such a
  message is **not flagged**, but ``kind`` and ``score`` stay set so the tone stage can still answer
  with care: a person who brings up suicide unprompted deserves a gentle check-in, not an alarm.
* Intensifiers are not negations: "I **can't stop** thinking about killing myself" is flagged.
* Expressions whose negation *is* the danger ("I don't want to live", "I can't go on", "no reason to
  live") are written as their own patterns and are never discounted.
* Talk about someone else in danger ("my friend wants to kill herself") is flagged too, with the
  reason ``third_party``: the user may need resources to help them.
* A bare topic noun ("suicide", "self-harm", "domestic violence", "overdose") in a sentence that
  is *about* the topic ("what are the warning signs of suicide?", "how do I talk to my students
  about self-harm?") is discounted like a negation, with the reason ``about_the_topic``, unless the
  message shows method, plan, urgency, the writer's own state or someone's present state
  (:mod:`proxy.detectors.crisis_context`). Such a question gets an answer given with care (the
  tone stage's distress rule), not the hand-off text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from proxy.detectors.crisis_context import ABOUT_FACTOR, about_the_topic, is_topic_noun
from proxy.detectors.crisis_patterns import PATTERNS, CrisisKind, Pattern
from proxy.detectors.crisis_signs import SIGNS
from proxy.detectors.trigger_words import more_present, parse_triggers

__all__ = ["NEGATED_FACTOR", "CrisisDetector", "CrisisKind", "CrisisVerdict"]

NEGATED_FACTOR: Final = 0.4


@dataclass(frozen=True, slots=True)
class CrisisVerdict:
    """Whether the text signals a crisis, which kind, how strongly, and which patterns fired."""

    flagged: bool
    kind: str | None  # "self_harm" | "abuse" | "medical_emergency"
    score: float
    reasons: tuple[str, ...]


_COMPILED: Final = tuple((*parse_triggers(p.triggers), re.compile(p.regex), p) for p in (*PATTERNS, *SIGNS))
_WORD = re.compile(r"[a-z]+")
_NEGATION_BEFORE = re.compile(
    r"(?:\bnot|\bnever|n't|\bno longer|\bno|\bnor|\bwithout|\bdenies|\bdenied)(?: \w+){0,2} ?$"
)
_INTENSIFIER_BEFORE = re.compile(
    r"(?:can't|cannot|couldn't|can not|won't) stop(?: \w+){0,2} ?$|\bnot sure\b.{0,30}$|\bdon't know\b.{0,30}$"
)
_TABLE = str.maketrans({"\u2019": "'", "\u2018": "'"})


class CrisisDetector:
    """Find signs that the person writing may be in danger. Stateless and thread-safe."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def check(self, text: str) -> CrisisVerdict:
        """Return the strongest crisis kind found in ``text`` (or none)."""
        norm = " ".join(text.translate(_TABLE).split()).lower()
        words = set(_WORD.findall(norm))
        best: dict[str, float] = {}
        reasons: list[str] = []
        negated_any = False
        about_any = False
        for triggers, more, regex, pat in _COMPILED:
            if triggers.isdisjoint(words) or (more and not more_present(more, words)):
                continue
            for match in regex.finditer(norm):
                weight = self._weigh(pat, norm, match.start())
                negated_any |= weight < pat.weight
                if weight == pat.weight and is_topic_noun(match.group()) and about_the_topic(norm, match.start()):
                    weight *= ABOUT_FACTOR
                    about_any = True
                if weight > best.get(pat.kind, 0.0):
                    best[pat.kind] = weight
                if pat.reason not in reasons:
                    reasons.append(pat.reason)
        if not best:
            return CrisisVerdict(False, None, 0.0, ())
        kind = max(best, key=lambda k: best[k])
        score = best[kind]
        if negated_any and score < self.threshold:
            reasons.append("negated")
        if about_any and score < self.threshold:
            reasons.append("about_the_topic")
        return CrisisVerdict(score >= self.threshold, kind, round(score, 3), tuple(reasons))

    @staticmethod
    def _weigh(pat: Pattern, norm: str, start: int) -> float:
        """The pattern's weight, discounted when a negation governs it."""
        weight = pat.weight
        if pat.negatable:
            before = norm[max(0, start - 40) : start]
            if _NEGATION_BEFORE.search(before) and not _INTENSIFIER_BEFORE.search(before):
                weight *= NEGATED_FACTOR
        return weight

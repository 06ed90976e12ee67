"""A calibrated frustration score for every user turn, read with the conversation before it.

The score (0..1) estimates how a person would grade the turn's frustration on a 0-4 scale (calm,
mild impatience, annoyed, angry, furious), divided by 4: 0.5 is "annoyed", 0.75 "angry". It is
computed whatever the top emotion label is, and it reads the conversation, not only the turn:

* the turn: the emotion reading (frustration + anger, negative mass, intensity), VADER, ALL CAPS,
  "!" and "?!", persistence words ("again", "still not", "third time"), waiting times mentioned
  ("for two weeks", "since Monday"), sarcasm around a failure, insults, threats to leave, and
  politeness or a resolution ("thanks, that fixed it") that pull it down;
* the conversation: how much the turn repeats an earlier user turn (word overlap), how far into
  the conversation it is, and the earlier turns' own scores (escalation).

Two linear models (a turn model, then a conversation model that also reads the earlier turns'
turn scores) and an isotonic calibration map, all fitted by ``python -m training.train_frustration``
on generated support conversations (``training/support_conversations.py``), ship as
``emotion_model/frustration.json``; run time is numpy-free arithmetic over ~25 numbers.

:class:`TurnFacts` are what one turn contributes (computed once per turn and cached by the emotion
stage's conversation memo); :func:`frustration_features` builds the feature row of a turn from its
facts and the facts of the turns before it; :class:`FrustrationModel` scores a row.
"""

from __future__ import annotations

import json
import re
import zlib
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxy.detectors.emotion import DEFAULT_MODEL_DIR, EmotionReading
from proxy.detectors.emotion_cues import _APOSTROPHES, PRIOR_PHRASES

__all__ = [
    "FEATURES", "TURN_FEATURES", "FrustrationModel", "TurnFacts", "frustration_features", "turn_facts",
]

_NUMBER = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|several|many|a few|few|couple of)"
_WAITING = re.compile(
    rf"\b(?:for |over |almost |nearly |more than )?{_NUMBER} (?:more )?(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|"
    r"business days|working days)\b|\bsince (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|last \w+|this morning|the \d+\w*|january|february|march|april|may|june|july|august|september|"
    r"october|november|december)\b|\b(?:for ages|for days|for weeks|for hours|for months|all day|all week|"
    r"on hold|still waiting|been waiting|waiting since|kept waiting)\b"
)
_PERSIST = re.compile(
    r"\b(?:again|still|yet again|once more|every (?:single )?time|keeps?|kept|already|repeatedly|"
    r"over and over|(?:second|third|fourth|fifth|2nd|3rd|4th|5th|\w+ more) time|how many times|"
    r"as i (?:said|told you|mentioned|explained)|i (?:said|told you|already|keep)|like i said)\b"
)
_TIMES = re.compile(
    r"\b(?:(?:second|2nd|two|twice)|(?:third|3rd|three|thrice)|(?:fourth|4th|four)|(?:fifth|5th|five|"
    r"six|seven|ten|\d+|many|multiple|several|countless|umpteenth|hundred))(?:th)? (?:times?|calls?|emails?|messages?|"
    r"attempts?|tries)\b"
)
_INSULT = re.compile(
    r"\b(?:ridiculous|unacceptable|useless|pathetic|absurd|joke|disgrace|incompetent|incompetence|"
    r"terrible|awful|horrible|worst|rubbish|garbage|trash|shambles|nightmare|clowns?|idiots?|stupid|"
    r"insane|outrageous|disgusting|appalling|scam|con|robbery|shameful|hopeless|a mess|"
    r"damn|hell|wtf|crap|bs|bloody|f+\W*(?:ing|ed)?|screw (?:this|you)|sick of|fed up|had enough|"
    r"enough is enough|waste of (?:time|money)|treated like)\b"
)
_THREAT = re.compile(
    r"\b(?:cancel(?:l?ing)?|close my account|chargeback|dispute|lawyer|solicitor|legal action|sue|"
    r"ombudsman|regulator|complain(?:t)?|report (?:you|this)|review|trustpilot|social media|twitter|"
    r"switch(?:ing)? to|go(?:ing)? elsewhere|take my business|never (?:again|use|buy|order)|"
    r"(?:speak|talk) to (?:a|your|the) (?:manager|supervisor|human|person|real)|escalate|"
    r"money back|full refund now|right now|immediately|today|asap)\b"
)
_POLITE = re.compile(r"\b(?:please|could you|would you|kindly|thanks?|thank you|cheers|appreciate|hi|hello|"
                     r"good (?:morning|afternoon|evening)|no worries|no rush|when you (?:can|get a chance))\b")
_RESOLVED = re.compile(
    r"\b(?:that (?:worked|works|fixed it|did it|helped|solved it)|(?:it'?s|it is|all) (?:working|fixed|sorted|"
    r"resolved|good) now|works (?:now|again|perfectly|fine)|problem solved|all sorted|perfect,? thanks?|"
    r"thanks?(?: you)?(?: so much| a lot)?,? (?:that|this) (?:helps|helped|works|worked|fixed)|arrived today|"
    r"got it,? thanks?|great,? thanks?)\b"
)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "the a an and or but to of in on at for with my me i you your it is are was were be been this that "
    "there here have has had do does did not no so just can could would will what when where why how "
    "from by as am im i'm its it's please thanks thank hi hello still again any some up out about".split()
)
_SARCASM = PRIOR_PHRASES["sarcasm"]


@dataclass(frozen=True, slots=True)
class TurnFacts:
    """What one user turn contributes to the frustration score (numbers and a word set; no text)."""

    neg_fa: float  # P(frustration) + P(anger)
    neg_mass: float  # P(frustration + anger + anxiety + sadness)
    intensity: float
    compound: float  # VADER
    persistence: int
    times: int  # "third time", "5 emails"
    waiting: int
    caps_ratio: float  # ALL CAPS words / words
    exclaims: int
    interrobang: bool
    sarcasm: bool
    insults: int
    threats: int
    polite: bool
    resolved: bool
    words: frozenset[int]  # hashes of the content words, for repeated asks
    n_words: int


def turn_facts(text: str, reading: EmotionReading, compound: float) -> TurnFacts:
    """The facts of one user turn (``reading`` is its emotion reading, ``compound`` its VADER score)."""
    norm = text.translate(_APOSTROPHES)
    lower = norm.lower()
    raw_words = norm.split()
    alpha = [w for w in raw_words if any(c.isalpha() for c in w)]
    caps = sum(1 for w in alpha if sum(c.isalpha() for c in w) >= 2 and w.upper() == w and w.lower() != w)
    tokens = _WORD.findall(lower)
    probs = reading.probabilities
    return TurnFacts(
        neg_fa=probs.get("frustration", 0.0) + probs.get("anger", 0.0),
        neg_mass=sum(probs.get(e, 0.0) for e in ("frustration", "anger", "anxiety", "sadness")),
        intensity=reading.intensity,
        compound=compound,
        persistence=len(_PERSIST.findall(lower)),
        times=len(_TIMES.findall(lower)),
        waiting=len(_WAITING.findall(lower)),
        caps_ratio=caps / max(1, len(alpha)),
        exclaims=norm.count("!"),
        interrobang=("?!" in norm) or ("!?" in norm),
        sarcasm=any(p.search(lower) for p in _SARCASM) and not _RESOLVED.search(lower),
        insults=len(_INSULT.findall(lower)),
        threats=len(_THREAT.findall(lower)),
        polite=bool(_POLITE.search(lower)),
        resolved=bool(_RESOLVED.search(lower)),
        words=frozenset(zlib.crc32(t.encode()) for t in tokens if t not in _STOP and len(t) > 2),
        n_words=len(tokens),
    )


#: the turn model's features (the turn alone), in order
TURN_FEATURES: tuple[str, ...] = (
    "neg_fa", "neg_mass", "intensity", "vader_neg", "vader_pos", "persistence", "times", "waiting",
    "caps_ratio", "caps_any", "exclaims", "interrobang", "sarcasm", "insults", "threats", "polite",
    "resolved", "short",
)
#: the conversation model's features: the turn's, then what the conversation adds
FEATURES: tuple[str, ...] = (
    *TURN_FEATURES, "turn_score", "repeat", "position", "prev_last", "prev_max", "prev_cues",
)


def _turn_row(f: TurnFacts) -> list[float]:
    return [
        f.neg_fa, f.neg_mass, f.intensity, max(0.0, -f.compound), max(0.0, f.compound),
        min(f.persistence, 3) / 3, min(f.times, 2) / 2, min(f.waiting, 2) / 2,
        f.caps_ratio, 1.0 if f.caps_ratio > 0 else 0.0, min(f.exclaims, 4) / 4, float(f.interrobang),
        float(f.sarcasm), min(f.insults, 3) / 3, min(f.threats, 2) / 2, float(f.polite), float(f.resolved),
        1.0 if f.n_words <= 4 else 0.0,
    ]


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True, slots=True)
class _Linear:
    weights: tuple[float, ...]
    bias: float

    def __call__(self, row: Sequence[float]) -> float:
        return self.bias + sum(w * x for w, x in zip(self.weights, row, strict=True))


class FrustrationModel:
    """The shipped turn and conversation models and their isotonic calibration."""

    __slots__ = ("_calib_x", "_calib_y", "_conversation", "_turn", "metadata")

    def __init__(self, metadata: Mapping[str, Any]) -> None:
        """Build from the parsed ``frustration.json``."""
        if tuple(metadata["turn"]["features"]) != TURN_FEATURES or tuple(metadata["conversation"]["features"]) != FEATURES:
            raise ValueError("frustration.json was fitted on other features: retrain it")
        self.metadata = metadata
        self._turn = _Linear(tuple(map(float, metadata["turn"]["weights"])), float(metadata["turn"]["bias"]))
        self._conversation = _Linear(tuple(map(float, metadata["conversation"]["weights"])),
                                     float(metadata["conversation"]["bias"]))
        self._calib_x = tuple(map(float, metadata["calibration"]["x"]))
        self._calib_y = tuple(map(float, metadata["calibration"]["y"]))

    @classmethod
    def load(cls, path: Path | None = None) -> FrustrationModel:
        """Load ``frustration.json`` from ``path`` (default: the packaged model folder)."""
        folder = Path(path) if path is not None else DEFAULT_MODEL_DIR
        return cls(json.loads((folder / "frustration.json").read_text(encoding="utf-8")))

    def turn_score(self, facts: TurnFacts) -> float:
        """The turn model's raw score (the turn read alone)."""
        return self._turn(_turn_row(facts))

    def raw(self, row: Sequence[float]) -> float:
        """The conversation model's raw score of a :func:`frustration_features` row."""
        return self._conversation(row)

    def calibrate(self, raw: float) -> float:
        """The isotonic map from a raw score to the expected grade / 4 (0..1)."""
        xs, ys = self._calib_x, self._calib_y
        if raw <= xs[0]:
            return ys[0]
        if raw >= xs[-1]:
            return ys[-1]
        i = bisect_right(xs, raw) - 1
        x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
        value = y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)
        return round(min(1.0, max(0.0, value)), 4)


def frustration_features(facts: TurnFacts, turn_score: float,
                         earlier: Sequence[tuple[TurnFacts | None, float]], position: int) -> list[float]:
    """The conversation model's row for a turn: its own features, its turn score, and what the
    ``earlier`` user turns (their facts, None when only their reading was kept, and turn scores,
    oldest first; the last 8 are read) add; ``position`` is the turn's index among all user turns."""
    recent = earlier[-8:]
    repeat = max((_jaccard(facts.words, f.words) for f, _ in recent if f is not None), default=0.0)
    scores = [s for _, s in recent]
    cues = [min(1.0, (f.persistence + f.times + f.waiting + f.insults) / 2) for f, _ in recent if f is not None]
    return [
        *_turn_row(facts),
        turn_score,
        repeat,
        min(position, 6) / 6,
        scores[-1] if scores else 0.0,
        max(scores) if scores else 0.0,
        sum(cues) / len(cues) if cues else 0.0,
    ]

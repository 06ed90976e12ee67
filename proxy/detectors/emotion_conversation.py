"""A conversation's emotion: every user turn read, the trend of negative affect, the sentiment shift.

:func:`read_conversation` reads the user turns the client sent (oldest first) with any
:class:`~proxy.detectors.emotion.EmotionClassifier`; nothing is stored between requests.
:func:`header_value` is the ``x-bedside-emotion`` header the emotion stage returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from proxy.detectors.emotion import NEGATIVE, EmotionClassifier, EmotionReading, vader_compound


@dataclass(frozen=True, slots=True)
class ConversationEmotion:
    """How the user's turns read together."""

    turns: tuple[EmotionReading, ...]  # one per user turn, oldest first
    current: EmotionReading  # the last user turn
    trend: str  # "rising" | "falling" | "steady": negative affect over the last few turns
    sentiment_shift: float  # VADER compound of the last user turn minus the first, in [-2, 2]
    distress: bool


TREND_THRESHOLD = 0.15


def negative_affect(reading: EmotionReading) -> float:
    """0..1: share of frustration/anger/anxiety/sadness, weighted by intensity."""
    share = sum(reading.probabilities.get(e, 0.0) for e in NEGATIVE)
    return share * (0.5 + 0.5 * reading.intensity)


def trend_of(readings: Sequence[EmotionReading]) -> str:
    """Least-squares slope of negative affect over ``readings``: rising, falling or steady."""
    if len(readings) < 2:
        return "steady"
    ys = np.array([negative_affect(r) for r in readings])
    xs = np.arange(len(ys), dtype=np.float64)
    slope = float(np.polyfit(xs, ys, 1)[0]) * (len(ys) - 1)  # change across the window
    if slope > TREND_THRESHOLD:
        return "rising"
    if slope < -TREND_THRESHOLD:
        return "falling"
    return "steady"


def read_conversation(
    classifier: EmotionClassifier, user_turns: Sequence[str], *, window: int = 4
) -> ConversationEmotion:
    """Read every user turn (oldest first) and summarise the trajectory of the last ``window``."""
    texts = list(user_turns) or [""]
    turns = tuple(classifier.classify(t) for t in texts)
    shift = vader_compound(texts[-1]) - vader_compound(texts[0])
    recent = turns[-max(1, window):]
    return ConversationEmotion(
        turns=turns,
        current=turns[-1],
        trend=trend_of(recent),
        sentiment_shift=round(max(-2.0, min(2.0, shift)), 4),
        distress=any(t.distress for t in recent),
    )


def header_value(conv: ConversationEmotion) -> str:
    """A compact header, e.g. ``"frustration; intensity=0.82; trend=rising"`` (+ ``; distress``)."""
    value = f"{conv.current.label}; intensity={conv.current.intensity:.2f}; trend={conv.trend}"
    return value + "; distress" if conv.distress else value

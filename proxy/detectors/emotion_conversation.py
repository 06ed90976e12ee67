"""A conversation's emotion: every user turn read, the trend of negative affect, the sentiment shift.

:func:`read_conversation` reads the user turns the client sent (oldest first) with any
:class:`~proxy.detectors.emotion.EmotionClassifier`; nothing is stored between requests, except
for a conversation the upstream keeps (the Responses API's ``previous_response_id``): there the
earlier turns are not resent, and their readings come back as :class:`PriorTurns`, which
:func:`prior_state` and :func:`prior_from_state` turn into plain JSON data and back (the thread
store keeps them encrypted). :func:`header_value` is the ``x-bedside-emotion`` header the emotion
stage returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from proxy.detectors.emotion import NEGATIVE, EmotionClassifier, EmotionReading, vader_compound

#: readings of earlier turns kept for a conversation the upstream holds (the trend reads at most
#: the last ``window`` of them, escalation counts back a few turns)
MAX_PRIOR_READINGS = 16


@dataclass(frozen=True, slots=True)
class ConversationEmotion:
    """How the user's turns read together."""

    turns: tuple[EmotionReading, ...]  # one per user turn, oldest first
    current: EmotionReading  # the last user turn
    trend: str  # "rising" | "falling" | "steady": negative affect over the last few turns
    sentiment_shift: float  # VADER compound of the last user turn minus the first, in [-2, 2]
    distress: bool
    first_compound: float = 0.0  # VADER compound of the conversation's first user turn


@dataclass(frozen=True, slots=True)
class PriorTurns:
    """Readings of a conversation's earlier user turns that the client did not resend (oldest first)."""

    readings: tuple[EmotionReading, ...]
    first_compound: float


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
    classifier: EmotionClassifier, user_turns: Sequence[str], *, window: int = 4, prior: PriorTurns | None = None
) -> ConversationEmotion:
    """Read every user turn (oldest first) and summarise the trajectory of the last ``window``;
    ``prior`` holds the readings of earlier turns the client did not resend (they come first)."""
    texts = list(user_turns) or [""]
    turns = tuple(classifier.classify(t) for t in texts)
    first = prior.first_compound if prior is not None else vader_compound(texts[0])
    if prior is not None:
        turns = prior.readings + turns
    shift = vader_compound(texts[-1]) - first
    recent = turns[-max(1, window):]
    return ConversationEmotion(
        turns=turns,
        current=turns[-1],
        trend=trend_of(recent),
        sentiment_shift=round(max(-2.0, min(2.0, shift)), 4),
        distress=any(t.distress for t in recent),
        first_compound=first,
    )


def prior_state(conv: ConversationEmotion) -> dict[str, Any]:
    """The readings a later turn needs (the last :data:`MAX_PRIOR_READINGS` and the first turn's
    compound) as plain JSON data: labels and numbers, no text."""
    return {
        "first_compound": conv.first_compound,
        "readings": [_reading_state(r) for r in conv.turns[-MAX_PRIOR_READINGS:]],
    }


def prior_from_state(state: Mapping[str, Any]) -> PriorTurns:
    """:class:`PriorTurns` from :func:`prior_state` data (ValueError when it is malformed)."""
    try:
        readings = tuple(
            EmotionReading(
                str(r["label"]),
                MappingProxyType({str(k): float(v) for k, v in r["probabilities"].items()}),
                float(r["intensity"]),
                bool(r["distress"]),
                MappingProxyType({str(k): float(v) for k, v in r["ekman"].items()}),
            )
            for r in state["readings"]
        )
        return PriorTurns(readings[-MAX_PRIOR_READINGS:], float(state["first_compound"]))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError("malformed emotion readings") from exc


def _reading_state(reading: EmotionReading) -> dict[str, Any]:
    return {
        "label": reading.label,
        "probabilities": {k: round(float(v), 5) for k, v in reading.probabilities.items()},
        "intensity": round(float(reading.intensity), 5),
        "distress": bool(reading.distress),
        "ekman": {k: round(float(v), 5) for k, v in reading.ekman.items()},
    }


def header_value(conv: ConversationEmotion) -> str:
    """A compact header, e.g. ``"frustration; intensity=0.82; trend=rising"`` (+ ``; distress``)."""
    value = f"{conv.current.label}; intensity={conv.current.intensity:.2f}; trend={conv.trend}"
    return value + "; distress" if conv.distress else value

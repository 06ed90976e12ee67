"""A conversation's emotion: every user turn read, the trend of negative affect, the sentiment shift
and the calibrated frustration score of the latest turn.

:func:`read_conversation` reads the user turns the client sent (oldest first) with any
:class:`~proxy.detectors.emotion.EmotionClassifier`; with a
:class:`~proxy.detectors.emotion_memo.ConversationMemo` a turn already read in an earlier request
is not read again (readings, VADER, frustration and the trend's inputs come from the memo). Nothing
else is kept between requests, except for a conversation the upstream keeps (the Responses API's ``previous_response_id``): there the
earlier turns are not resent, and their readings come back as :class:`PriorTurns`, which
:func:`prior_state` and :func:`prior_from_state` turn into plain JSON data and back (the thread
store keeps them encrypted). :func:`header_value` is the ``x-bedside-emotion`` header the emotion
stage returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from proxy.detectors.emotion import EmotionClassifier, EmotionReading
from proxy.detectors.emotion_frustration import FrustrationModel
from proxy.detectors.emotion_memo import ConversationMemo, TurnState, negative_affect, read_turns

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
    turn_scores: tuple[float, ...] = ()  # the frustration turn model's raw score of every user turn
    frustration: float = 0.0  # calibrated frustration of the last user turn, 0..1 (expected grade / 4)
    frustrations: tuple[float, ...] = ()  # the same for every user turn, oldest first


@dataclass(frozen=True, slots=True)
class PriorTurns:
    """Readings of a conversation's earlier user turns that the client did not resend (oldest first)."""

    readings: tuple[EmotionReading, ...]
    first_compound: float
    turn_scores: tuple[float, ...] = ()  # the frustration turn model's raw scores (escalation)
    frustrations: tuple[float, ...] = ()


TREND_THRESHOLD = 0.15
#: a latest turn whose calibrated frustration reaches this is labelled ``frustration`` when its own
#: label is not negative: on support turns the score is the better reader of frustration (Spearman
#: 0.86 vs 0.30 on the held-out support turns), and the header then agrees with the default
#: policy's ``frustration_high`` rule (``{frustration: {min: 0.6}}``). On GoEmotions dev it changes
#: 32 of 5,426 single comments (class-balanced Ekman macro-F1 0.6596 -> 0.6576).
FRUSTRATION_LABEL_MIN = 0.6
_NEGATIVE_LABELS = frozenset({"frustration", "anger", "anxiety", "sadness"})


def _as_shown(reading: EmotionReading, frustration: float) -> EmotionReading:
    """The latest turn's reading as the header shows it (see :data:`FRUSTRATION_LABEL_MIN`)."""
    if frustration < FRUSTRATION_LABEL_MIN or reading.label in _NEGATIVE_LABELS:
        return reading
    return replace(reading, label="frustration", intensity=round(max(reading.intensity, frustration), 4))


def _slope(ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` against 0..n-1, times n-1: the change across the window."""
    n = len(ys)
    mean_x = (n - 1) / 2
    mean_y = sum(ys) / n
    sxx = sum((i - mean_x) ** 2 for i in range(n))
    sxy = sum((i - mean_x) * (y - mean_y) for i, y in enumerate(ys))
    return sxy / sxx * (n - 1)


def trend_of(readings: Sequence[EmotionReading]) -> str:
    """Least-squares slope of negative affect over ``readings``: rising, falling or steady."""
    return _trend([negative_affect(r) for r in readings])


def _trend(affects: Sequence[float]) -> str:
    if len(affects) < 2:
        return "steady"
    slope = _slope(affects)
    if slope > TREND_THRESHOLD:
        return "rising"
    if slope < -TREND_THRESHOLD:
        return "falling"
    return "steady"


def _prior_states(prior: PriorTurns) -> list[TurnState]:
    scores = prior.turn_scores if len(prior.turn_scores) == len(prior.readings) else (0.0,) * len(prior.readings)
    fr = prior.frustrations if len(prior.frustrations) == len(prior.readings) else (0.0,) * len(prior.readings)
    return [TurnState(r, 0.0, None, s, f, negative_affect(r)) for r, s, f in zip(prior.readings, scores, fr, strict=True)]


def read_conversation(
    classifier: EmotionClassifier, user_turns: Sequence[str], *, window: int = 4, prior: PriorTurns | None = None,
    memo: ConversationMemo | None = None, frustration_model: FrustrationModel | None = None, scope: str = "",
) -> ConversationEmotion:
    """Read every user turn (oldest first) and summarise the trajectory of the last ``window``;
    ``prior`` holds the readings of earlier turns the client did not resend (they come first);
    ``memo`` remembers turns across calls, per ``scope`` (tenant and user); ``frustration_model``
    defaults to the packaged one."""
    texts = list(user_turns) or [""]
    earlier = _prior_states(prior) if prior is not None else []
    states = earlier + read_turns(classifier, texts, model=frustration_model, memo=memo, prior=earlier, scope=scope)
    first = prior.first_compound if prior is not None else states[0].compound
    shift = states[-1].compound - first
    recent = states[-max(1, window):]
    current = _as_shown(states[-1].reading, states[-1].frustration)
    return ConversationEmotion(
        turns=(*(s.reading for s in states[:-1]), current),
        current=current,
        trend=_trend([s.affect for s in recent]),
        sentiment_shift=round(max(-2.0, min(2.0, shift)), 4),
        distress=any(s.reading.distress for s in recent),
        first_compound=first,
        frustration=states[-1].frustration,
        frustrations=tuple(s.frustration for s in states),
        turn_scores=tuple(s.turn_score for s in states),
    )


def prior_state(conv: ConversationEmotion) -> dict[str, Any]:
    """The readings a later turn needs (the last :data:`MAX_PRIOR_READINGS` and the first turn's
    compound) as plain JSON data: labels and numbers, no text."""
    return {
        "first_compound": conv.first_compound,
        "readings": [_reading_state(r) for r in conv.turns[-MAX_PRIOR_READINGS:]],
        "turn_scores": [round(float(v), 5) for v in conv.turn_scores[-MAX_PRIOR_READINGS:]],
        "frustrations": [round(float(v), 5) for v in conv.frustrations[-MAX_PRIOR_READINGS:]],
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
        scores = tuple(float(v) for v in state.get("turn_scores", ()))
        frustrations = tuple(float(v) for v in state.get("frustrations", ()))
        return PriorTurns(readings[-MAX_PRIOR_READINGS:], float(state["first_compound"]),
                          scores[-MAX_PRIOR_READINGS:], frustrations[-MAX_PRIOR_READINGS:])
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
    """A compact header, e.g. ``"confusion; intensity=0.71; frustration=0.34; trend=rising"``
    (+ ``; distress``)."""
    value = (f"{conv.current.label}; intensity={conv.current.intensity:.2f}; "
             f"frustration={conv.frustration:.2f}; trend={conv.trend}")
    return value + "; distress" if conv.distress else value

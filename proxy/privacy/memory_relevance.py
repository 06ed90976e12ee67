"""Which of a user's memories matter for this turn: word overlap plus static-embedding similarity.

A memory's score against the last user turn is

    lexical  = |shared content words| / sqrt(|turn's| x |memory's|)        (0..1)
    semantic = cosine(mean token embedding of the turn, of the memory)       (-1..1)
    score    = lexical + semantic                         ties: the most recently updated first

Content words are the words left after dropping placeholders (``<EMAIL_ADDRESS_1>``) and function
words (``I``, ``the``, ``could``...); the embeddings are the pretrained static token embeddings the
``wordllama`` wheel ships (:mod:`proxy.detectors.static_embeddings`, read offline), averaged over the
content words' tokens, so "What should I cook tonight?" finds "I'm vegetarian." with no word in
common. Without the package the score is the lexical part alone.

**Nothing of this is stored.** The vectors are computed in process from the decrypted text, held
in :class:`MemoryIndex` next to the decrypted memories in :class:`~proxy.privacy.memory.MemoryStore`'s
cache, and dropped with them: an embedding can be inverted into its text, so it is personal data
like the text and never reaches the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import regex as re

from proxy.detectors.static_embeddings import StaticEmbeddings, embedding_files
from proxy.privacy.pseudonyms import PLACEHOLDER_RE

if TYPE_CHECKING:  # numpy loads with the first use, not at import: a process that never ranks never loads it
    import numpy as np
    import numpy.typing as npt

    from proxy.privacy.memory import Memory

#: a user turn is read up to this many characters for ranking (a pasted document adds nothing)
MAX_QUERY_CHARS = 2000

_WORD = re.compile(r"[\w'-]+")
STOP_WORDS = frozenset(
    "a an and any are as at be been but by can could did do does for from had has have how i i'd i'll i'm i've if in is it its "
    "just me my of on or please should so some something than that the their them then there these they this those to was we "
    "were what when where which who why will with would you your".split()
)


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry meaning, case-folded, in order (placeholders and function words dropped)."""
    return [w for w in (x.casefold() for x in _WORD.findall(PLACEHOLDER_RE.sub(" ", text))) if w not in STOP_WORDS]


def load_packaged_embeddings() -> StaticEmbeddings | None:
    files = embedding_files()
    return StaticEmbeddings.load(files) if files is not None else None


@dataclass(frozen=True, slots=True)
class Query:
    """The last user turn as the ranking reads it."""

    words: frozenset[str]
    vector: npt.NDArray[np.float32] | None


@dataclass(frozen=True, slots=True)
class MemoryIndex:
    """A user's decrypted memories with what ranking needs, computed once per version of them."""

    memories: tuple[Memory, ...]
    words: tuple[frozenset[str], ...]
    #: the token-budget cost of each memory (words x 1.3, plus one for its line)
    costs: tuple[float, ...]
    updated: npt.NDArray[np.float64]
    #: one unit row per memory, or None without embeddings
    vectors: npt.NDArray[np.float32] | None

    def ranked(self, query: Query, *, since: float = float("-inf")) -> list[int]:
        """Positions of the memories updated at or after ``since``, best first (see the module doc)."""
        import numpy as np
        n = len(self.memories)
        if n == 0:
            return []
        lexical = np.zeros(n, dtype=np.float64)
        asked = query.words
        if asked:
            size = len(asked)
            for i, words in enumerate(self.words):
                shared = len(asked & words)
                if shared:
                    lexical[i] = shared / np.sqrt(size * len(words))
        score = lexical
        if query.vector is not None and self.vectors is not None:
            score = lexical + self.vectors @ query.vector
        order = np.lexsort((-self.updated, -score))
        return [int(i) for i in order if self.updated[i] >= since]


class Relevance:
    """Builds :class:`MemoryIndex` and :class:`Query` objects; the embeddings are loaded on first use
    (in the caller's worker thread, once, ~80 ms) or by :meth:`warm` at start-up."""

    def __init__(self, loader: Callable[[], StaticEmbeddings | None] | None = load_packaged_embeddings) -> None:
        self._loader = loader
        self._embeddings: StaticEmbeddings | None = None
        self._loaded = loader is None
        self._lock = threading.Lock()

    def warm(self) -> bool:
        """Load the embeddings now; whether they are available."""
        return self._get() is not None

    def _get(self) -> StaticEmbeddings | None:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    assert self._loader is not None
                    self._embeddings = self._loader()
                    self._loaded = True
        return self._embeddings

    def index(self, memories: Sequence[Memory], before: MemoryIndex | None = None) -> MemoryIndex:
        """The ranking features of ``memories``; those also in ``before`` (same object: not changed
        since) keep their features instead of being read and embedded again."""
        import numpy as np
        reuse = {id(m): i for i, m in enumerate(before.memories)} if before is not None else {}
        words: list[frozenset[str]] = []
        fresh: list[tuple[int, str]] = []  # (position, content text) of what must be embedded
        for pos, memory in enumerate(memories):
            old = reuse.get(id(memory))
            if before is not None and old is not None:
                words.append(before.words[old])
                continue
            content = content_words(memory.text)
            words.append(frozenset(content))
            fresh.append((pos, " ".join(content)))
        embeddings = self._get()
        vectors: npt.NDArray[np.float32] | None = None
        if embeddings is not None and memories:
            vectors = np.zeros((len(memories), embeddings.dimensions), dtype=np.float32)
            if before is not None and before.vectors is not None:
                for pos, memory in enumerate(memories):
                    old = reuse.get(id(memory))
                    if old is not None:
                        vectors[pos] = before.vectors[old]
            if fresh:
                vectors[[pos for pos, _ in fresh]] = embeddings.sentence_vectors([text for _, text in fresh])
        return MemoryIndex(
            tuple(memories),
            tuple(words),
            tuple(len(m.text.split()) * 1.3 + 1 for m in memories),
            np.array([m.updated.timestamp() for m in memories], dtype=np.float64),
            vectors,
        )

    def query(self, text: str) -> Query:
        words = content_words(text[:MAX_QUERY_CHARS])
        embeddings = self._get()
        vector = embeddings.sentence_vectors([" ".join(words)])[0] if embeddings is not None and words else None
        return Query(frozenset(words), vector)

"""Memory relevance: word overlap plus the packaged static embeddings, held in process only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import LocalKeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.detectors.static_embeddings import embedding_files
from proxy.privacy.memory import Memory, MemoryStore
from proxy.privacy.memory_relevance import Relevance, content_words
from proxy.privacy.memory_rules import Extracted
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository

pytestmark = pytest.mark.skipif(embedding_files() is None, reason="the wordllama wheel (a runtime dependency) is not installed")

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def memory(text: str, age_days: float = 1.0) -> Memory:
    when = NOW - timedelta(days=age_days)
    return Memory(str(uuid.uuid4()), "fact", "t", text, {}, "c", 1, when, when)


@pytest.fixture(scope="module")
def relevance() -> Relevance:
    return Relevance()


def ranked_texts(relevance: Relevance, memories: list[Memory], turn: str) -> list[str]:
    index = relevance.index(memories)
    return [index.memories[i].text for i in index.ranked(relevance.query(turn))]


@pytest.mark.parametrize(
    ("turn", "related", "unrelated"),
    [
        ("Can you recommend a good pet food?", "I have two dogs.", "I speak German."),
        ("What should I cook for dinner tonight?", "I'm vegetarian.", "My order number is <NUMBER_1>."),
    ],
)
def test_same_meaning_without_a_shared_word_ranks_above_an_unrelated_memory(relevance: Relevance, turn: str, related: str, unrelated: str) -> None:
    assert not set(content_words(turn)) & set(content_words(related))  # nothing lexical to go on
    # the unrelated memory is the newer one, so without the embeddings it would come first
    texts = ranked_texts(relevance, [memory(related, age_days=30), memory(unrelated, age_days=1)], turn)
    assert texts == [related, unrelated]
    lexical_only = Relevance(loader=None)
    assert ranked_texts(lexical_only, [memory(related, age_days=30), memory(unrelated, age_days=1)], turn) == [unrelated, related]


def test_shared_words_still_count_and_placeholders_and_function_words_do_not(relevance: Relevance) -> None:
    mems = [memory("I have two dogs."), memory("I live in Leeds."), memory("My e-mail is <EMAIL_ADDRESS_1>.")]
    assert ranked_texts(relevance, mems, "Do you deliver to Leeds on Saturdays?")[0] == "I live in Leeds."
    assert content_words("My e-mail is <EMAIL_ADDRESS_1>.") == ["e-mail"]


def test_retention_cutoff_and_empty_index(relevance: Relevance) -> None:
    old, new = memory("I live in Leeds.", age_days=200), memory("I have two dogs.", age_days=1)
    index = relevance.index([old, new])
    assert [index.memories[i] for i in index.ranked(relevance.query("Leeds?"), since=(NOW - timedelta(days=180)).timestamp())] == [new]
    assert relevance.index([]).ranked(relevance.query("anything")) == []


def test_unchanged_memories_keep_their_decryption_and_vectors_and_no_vector_is_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bedside.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    repo = PrivacyRepository(engine)
    store = MemoryStore(repo, Envelope(repo, LocalKeyProvider([b"K" * 32])), SubjectKey(b"s" * 32))
    ann = store.scope("acme", "ann")
    store.remember_sync(ann, [Extracted("fact", "pets", "I have two dogs."), Extracted("fact", "home", "I live in Leeds.")], {}, tenant="acme", conversation="c", turn=1)
    first = store.index_sync(ann)
    assert first.vectors is not None and first.vectors.shape == (2, 256)
    store.remember_sync(ann, [Extracted("preference", "contact", "I prefer e-mail.")], {}, tenant="acme", conversation="c", turn=2)
    second = store.index_sync(ann)
    assert len(second.memories) == 3
    assert second.memories[0] is first.memories[0] and second.memories[1] is first.memories[1]  # not decrypted again
    assert second.vectors is not None and np.array_equal(second.vectors[:2], first.vectors)
    # the vectors live in process memory only: no row of the database file (or its WAL) holds them
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("bedside.db*"))
    assert all(row.astype(np.float32).tobytes()[:32] not in raw for row in second.vectors)
    assert b"dogs" not in raw and b"Leeds" not in raw
    engine.dispose()

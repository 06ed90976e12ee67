"""Memories past retention: the rule (longest retention among policies with memory on) and the
purge itself, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import col

from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import LocalKeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.policy import load_policy_set
from proxy.privacy.memory import MemoryStore
from proxy.privacy.memory_retention import DEFAULT_RETENTION_DAYS, memory_retention_days, purge_expired_memories
from proxy.privacy.memory_rules import Extracted
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository
from proxy.storage.tables import MemoryRow
from tests.storage.dbs import db_url  # noqa: F401 - fixture


def _policies(tmp_path: Path, files: dict[str, str]) -> list[object]:
    for name, body in files.items():
        (tmp_path / f"{name}.yaml").write_text(f"description: d\nowner: t\n{body}\n")
    return list(load_policy_set(tmp_path, default_policy=None).policies.values())


def test_the_longest_retention_among_policies_that_use_memory(tmp_path: Path) -> None:
    policies = _policies(
        tmp_path,
        {
            "support": "routing: {aliases: [support]}\nmemory: {enabled: true, retention_days: 30}",
            "sales": "routing: {aliases: [sales]}\nmemory: {enabled: true, retention_days: 90}",
            "legacy": "routing: {aliases: [legacy]}\nmemory: {enabled: false, retention_days: 900}",  # reads no memory
            "_base": "memory: {enabled: true, retention_days: 2000}",  # abstract: serves nobody
        },
    )
    assert memory_retention_days(policies) == 90  # type: ignore[arg-type]
    assert memory_retention_days([]) == DEFAULT_RETENTION_DAYS == 180


def test_purge_deletes_only_what_is_past_retention(db_url: str) -> None:  # noqa: F811
    migrate.upgrade(db_url)
    engine = make_engine(db_url)
    repo = PrivacyRepository(engine)
    store = MemoryStore(repo, Envelope(repo, LocalKeyProvider([b"K" * 32])), SubjectKey(b"s" * 32))
    ann, bob, eve = store.scope("acme", "ann"), store.scope("acme", "bob"), store.scope("globex", "eve")
    for scope, topic in ((ann, "old"), (ann, "new"), (bob, "old"), (eve, "old")):
        store.remember_sync(scope, [Extracted("fact", topic, f"I have a {topic} bike.")], {}, tenant=scope.tenant, conversation="c", turn=1)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        old = [m.id for s in (ann, bob, eve) for m in store.load_sync(s) if m.topic == "old"]
        conn.execute(sa.update(MemoryRow).where(col(MemoryRow.id).in_(old)).values(updated_at=now - timedelta(days=31)))
    assert purge_expired_memories(engine, 30, dry_run=True) == {"acme": 2, "globex": 1}
    assert len(store.load_sync(ann)) == 2
    assert purge_expired_memories(engine, 40) == {}  # nothing that old
    assert purge_expired_memories(engine, 30) == {"acme": 2, "globex": 1}
    assert [m.topic for m in store.load_sync(ann)] == ["new"] and store.load_sync(bob) == [] and store.load_sync(eve) == []
    assert purge_expired_memories(engine, 30) == {}
    engine.dispose()

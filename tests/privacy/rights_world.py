"""A small world of users with data in every user table, built through Bedside's own modules.

``World.build(db_url, data_dir)`` wires what ``serve`` wires (privacy services, the subject
hasher, ``build_user_rights``) over a migrated database; ``seed(tenant, user, canary)`` gives the
user consent decisions, memories with personal values, transcript turns, a Responses API thread
state (its vault holding the user's name), a conversation's outcome facts and a pending handoff
event (each content holding ``canary``), and returns how many rows of each it made. The same data directory and
database can be opened by another process (``bedside serve``) with the same keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import proxy.storage.tables  # noqa: F401 - registers every table
from proxy.crypto.envelope import FieldRef
from proxy.crypto.subjects import conversation_subject
from proxy.privacy.memory_rules import Extracted
from proxy.privacy.pseudonyms import PseudonymVault
from proxy.privacy.rights import UserRights
from proxy.privacy.threads import ThreadState
from proxy.privacy.user_data import Who
from proxy.privacy.wiring import Privacy, build_privacy
from proxy.rails.outbox import DatabaseOutbox, HandoffTarget
from proxy.secrets_store import SubjectHasher, load_or_create_key
from proxy.services import build_user_rights
from proxy.settings import Settings
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.outcomes import OutcomeRepository, OutcomeUpdate

TURNS = 3
#: what an erasure of one seeded user deletes, per table (consent decisions are detached, not deleted)
ERASED = {"memories": 2, "transcripts": TURNS, "thread_states": 1, "conversation_outcomes": 1, "handoff_outbox": 1, "data_keys": 1}


def settings_for(db_url: str, data_dir: Path, **extra: Any) -> Settings:
    return Settings(data_dir=data_dir, database={"url": db_url}, policy={"enabled": False}, **extra)


@dataclass
class World:
    settings: Settings
    engine: Engine
    privacy: Privacy
    hasher: SubjectHasher
    rights: UserRights

    @classmethod
    def build(cls, db_url: str, data_dir: Path, **extra: Any) -> World:
        settings = settings_for(db_url, data_dir, **extra)
        migrate.upgrade(db_url)
        engine = make_engine(db_url)
        privacy = build_privacy(settings, engine)
        hasher = SubjectHasher(load_or_create_key(data_dir, "subject.key"))
        return cls(settings, engine, privacy, hasher, build_user_rights(settings, engine, privacy, hasher, lambda: ()))

    def who(self, tenant: str, user: str) -> Who:
        return self.rights.who(tenant, user)

    def seed(self, tenant: str, user: str, canary: str) -> dict[str, int]:
        """Consent, memories, transcripts, a thread state, outcome facts and a handoff event for the user, each carrying ``canary``."""
        ledger, store, writer = self.privacy.ledger, self.privacy.memories, self.privacy.transcripts
        ledger.record_sync(tenant, user, "memory", True)
        ledger.record_sync(tenant, user, "transcripts", True)
        scope = ledger.scope(tenant, user)
        values = {"<EMAIL_ADDRESS_1>": f"{canary}@example.com", "<LOCATION_1>": f"{canary}ville"}
        items = [Extracted("identifier", "e-mail", "My e-mail is <EMAIL_ADDRESS_1>."), Extracted("fact", "home", "I live in <LOCATION_1>.")]
        assert store.remember_sync(scope, items, values, tenant=tenant, conversation="c-1", turn=1) == (2, 0)
        for turn in range(1, TURNS + 1):
            writer.record_sync(scope, "c-1", turn, ("support", "v1"), {"emotion": {"label": "joy", "intensity": 0.5}}, f"I am {canary}, turn {turn}", f"Hello {canary}")
        vault = PseudonymVault()
        assert vault.placeholder_for("PERSON", canary) == "<PERSON_1>"
        assert self.privacy.threads is not None
        thread = ThreadState(vault=vault.export_state(), emotion={"first_compound": -0.2, "readings": []}, conversation_id=f"conv-{canary}", user_turns=2, resume_from=f"resp_{canary}", upstream="openai")
        assert self.privacy.threads.save_sync(scope, f"resp_{canary}", thread)
        subjects = self.privacy.subjects
        facts = OutcomeUpdate(tenant, conversation_subject(subjects, tenant, f"c-{canary}"), subjects.subject(tenant, user), "support", "v1", datetime.now(UTC), TURNS, trajectory=((("joy", 0.5, 0.0, 0),) * TURNS))
        assert OutcomeRepository(self.engine).apply([facts]) == 1
        event = {"type": "bedside.handoff", "id": f"hnd_{canary}", "tenant": tenant, "subject": self.hasher(user), "policy": "support", "reason": "crisis", "context": [{"role": "user", "content": f"<PERSON_1> said {canary}"}]}
        # a loopback webhook that refuses connections, retried slowly: an app started on this database keeps the row
        DatabaseOutbox(self.engine, self.privacy.envelope).add(event, HandoffTarget(f"http://127.0.0.1:9/handoff?token=not-for-export-{canary}", retries=10))
        return {"consent_events": 2, "memories": 2, "pseudonym_values": 3, "transcripts": TURNS, "thread_states": 1, "conversation_outcomes": 1, "handoff_outbox": 1, "data_keys": 1}

    def ciphertexts(self, who: Who) -> list[tuple[FieldRef, bytes]]:
        """Every ciphertext stored under the user's data key (memories, transcripts, thread states), with where it lives."""
        out: list[tuple[FieldRef, bytes]] = []
        with self.engine.connect() as conn:
            where = {"t": who.tenant, "s": who.scope.subject}
            for row_id, text, data in conn.execute(sa.text("SELECT id, text, data FROM memories WHERE tenant = :t AND subject = :s"), where):
                out += [(FieldRef("memories", row_id, "text"), bytes(text)), (FieldRef("memories", row_id, "data"), bytes(data))]
            for row_id, content in conn.execute(sa.text("SELECT id, content FROM transcripts WHERE tenant = :t AND subject = :s"), where):
                out.append((FieldRef("transcripts", row_id, "content"), bytes(content)))
            for row_id, state in conn.execute(sa.text("SELECT id, state FROM thread_states WHERE tenant = :t AND subject = :s"), where):
                out.append((FieldRef("thread_states", row_id, "state"), bytes(state)))
        return out

    def rows_naming(self, *needles: str) -> dict[str, int]:
        """Rows of every table (the whole schema) with a text or JSON column holding any of ``needles``."""
        found: dict[str, int] = {}
        with self.engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                for row in conn.execute(sa.select(table)).mappings():
                    text = json.dumps({k: (v if isinstance(v, str | int | float | bool | dict | list) or v is None else str(v)) for k, v in row.items()}, default=str)
                    if any(n in text for n in needles):
                        found[table.name] = found.get(table.name, 0) + 1
        return found

    def table_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()) for t in SQLModel.metadata.sorted_tables}

    def close(self) -> None:
        self.engine.dispose()

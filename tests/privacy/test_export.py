"""Export on SQLite and PostgreSQL: complete (every user table's rows, counted against the database),
decrypted, valid against the published schema, one user only, and written page by page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from proxy.audit.events import ConsentChange, UserDataChange
from proxy.audit.log import AuditLog
from proxy.privacy.export import Exporter, collect
from proxy.privacy.export_document import LIST_SECTIONS, ExportDocument
from proxy.privacy.inventory import user_linked
from proxy.privacy.pseudonyms import PseudonymVault
from proxy.privacy.threads import ThreadState
from tests.privacy.rights_world import TURNS, World
from tests.storage.dbs import db_url  # noqa: F401 - fixture

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "export.schema.json").read_text())


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:  # noqa: F811
    w = World.build(db_url, tmp_path / "data")
    yield w
    w.close()


async def _export(world: World, tenant: str, user: str) -> dict[str, Any]:
    raw = await collect(world.rights.export(world.who(tenant, user)))
    ExportDocument.model_validate_json(raw)  # the models the schema is generated from accept it
    doc: dict[str, Any] = json.loads(raw)
    jsonschema.validate(doc, SCHEMA)  # and so does the published schema
    return doc


def _sections_of(world: World, table: str) -> list[str]:
    return [s.section for s in world.rights.sources if table in s.tables]


async def test_export_holds_every_row_of_every_user_table_decrypted(world: World) -> None:
    made = world.seed("acme", "alice", "CANARYALICE")
    world.seed("acme", "bob", "CANARYBOB")
    world.seed("globex", "alice", "CANARYGLOBEX")  # the same id in another tenant is another person
    who = world.who("acme", "alice")
    # the audit log's entries about her (and one about bob, and one about nobody), through the real log
    log = AuditLog(world.engine)
    consent = log.append_sync(ConsentChange(tenant="acme", subject=who.scope.subject, purpose="memory", granted=True, receipt_id="r1", method="api", notice_version="v1"))
    log.append_sync(ConsentChange(tenant="acme", subject=world.who("acme", "bob").scope.subject, purpose="memory", granted=True, receipt_id="r2", method="api", notice_version="v1"))
    deleted = log.append_sync(UserDataChange(tenant="acme", subject=who.scope.subject, data="transcripts", count=3, cause="retention"))
    made["audit_entries"] = 2
    doc = await _export(world, "acme", "alice")

    assert (doc["object"], doc["schema_version"], doc["tenant"], doc["user"], doc["subject"], doc["complete"]) == ("user.export", 1, "acme", "alice", who.scope.subject, True)
    assert doc["counts"] == {name: len(doc[name]) for name in LIST_SECTIONS}
    # completeness, counted against the database: every table whose rows name users by subject
    with world.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if not user_linked(table) or table.name == "erasures":
                continue
            stored = conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.tenant == "acme", table.c.subject == who.scope.subject)).scalar_one()
            sections = _sections_of(world, table.name)
            assert sections, f"{table.name} holds user rows but no export section reads it"
            section = table.name if table.name in sections else sections[0]  # its own section (memories, thread states: also pseudonym values)
            assert stored == made[table.name] and len(doc[section]) == stored, table.name
    assert len(doc["handoff_events"]) == made["handoff_outbox"] and len(doc["pseudonym_values"]) == made["pseudonym_values"]

    text = json.dumps(doc)
    assert "CANARYBOB" not in text and "CANARYGLOBEX" not in text
    # decrypted: the user's own values, in memories, pseudonym values, transcripts and the handoff context
    assert {m["text"] for m in doc["memories"]} == {"My e-mail is CANARYALICE@example.com.", "I live in CANARYALICEville."}
    assert all(m["derived"] is True and m["unreadable"] is None for m in doc["memories"])
    assert {(p["placeholder"], p["entity_type"], p["value"], p["table"]) for p in doc["pseudonym_values"]} == {
        ("<EMAIL_ADDRESS_1>", "EMAIL_ADDRESS", "CANARYALICE@example.com", "memories"),
        ("<LOCATION_1>", "LOCATION", "CANARYALICEville", "memories"),
        ("<PERSON_1>", "PERSON", "CANARYALICE", "thread_states"),  # the pseudonym vault of her Responses API thread
    }
    (thread,) = doc["thread_states"]
    assert (thread["conversation"], thread["user_turns"], thread["resume_from"], thread["upstream"], thread["values"], thread["unreadable"]) == (
        "conv-CANARYALICE",
        2,
        "resp_CANARYALICE",
        "openai",
        {"<PERSON_1>": "CANARYALICE"},
        None,
    )
    assert thread["emotion"] == {"first_compound": -0.2, "readings": []}
    (outcome,) = doc["conversation_outcomes"]
    assert outcome["derived"] is True and outcome["policy"] == {"name": "support", "version": "v1"} and outcome["turns"] == TURNS and outcome["requests"] == 1
    assert outcome["trajectory"] == [["joy", 0.5, 0.0, 0]] * TURNS and outcome["rating"] is None
    assert [t["user"] for t in doc["transcripts"]] == [f"I am CANARYALICE, turn {n}" for n in range(1, TURNS + 1)]
    assert doc["handoff_events"][0]["event"]["context"][0]["content"] == "<PERSON_1> said CANARYALICE"
    assert doc["handoff_events"][0]["recipient_host"] == "127.0.0.1" and "not-for-export" not in text  # the webhook URL may carry a secret
    assert [r["purpose"] for r in doc["consent_receipts"]] == ["memory", "transcripts"]
    assert doc["consent"]["memory"] == {"granted": True, "receipt_id": doc["consent_receipts"][0]["id"]}
    assert [(k["version"], k["state"]) for k in doc["data_keys"]] == [(1, "live")]
    assert set(doc["data_keys"][0]) == {"version", "kek_id", "created_at", "destroyed_at", "state"}  # never key material
    assert {p["name"]: p["active"] for p in doc["processing"]["purposes"]} == {"service": True, "memory": True, "transcripts": True}
    # her audit entries, marked as such, as logged (bob's is not there)
    assert [(e["audit_log_entry"], e["index"], e["kind"], e["event"]["index"], e["event"]["subject"]) for e in doc["audit_events"]] == [
        (True, consent, "consent", consent, who.scope.subject),
        (True, deleted, "user_data", deleted, who.scope.subject),
    ]
    assert doc["audit_events"][1]["event"]["data"] == "transcripts"


async def test_a_shredded_users_rows_are_still_exported_marked_unreadable(world: World) -> None:
    world.seed("acme", "carol", "CANARYCAROL")
    who = world.who("acme", "carol")
    assert world.privacy.envelope.shred_sync(who.scope) == 1
    doc = await _export(world, "acme", "carol")
    assert "CANARYCAROL" not in json.dumps({k: v for k, v in doc.items() if k != "handoff_events"})  # the outbox is under the tenant's key, not hers
    assert len(doc["memories"]) == 2 and {m["unreadable"] for m in doc["memories"]} == {"decryption_failed"} and doc["pseudonym_values"] == []
    assert [(t["unreadable"], t["values"], t["conversation"]) for t in doc["thread_states"]] == [("key_destroyed", {}, None)]
    assert len(doc["conversation_outcomes"]) == 1  # plain facts, under no key: still hers, still exported
    assert {t["unreadable"] for t in doc["transcripts"]} == {"key_destroyed"} and all(t["user"] is None for t in doc["transcripts"])
    assert [k["state"] for k in doc["data_keys"]] == ["destroyed"]


async def test_the_export_is_written_a_page_at_a_time(world: World) -> None:
    world.seed("acme", "dave", "CANARYDAVE")
    who = world.who("acme", "dave")
    for turn in range(TURNS + 1, 12):
        world.privacy.transcripts.record_sync(who.scope, "c-2", turn, ("support", "v1"), {}, f"turn {turn}", "ok")
    assert world.privacy.threads is not None
    for n in range(4):  # 5 thread states in all, each with one value in its vault
        vault = PseudonymVault()
        vault.placeholder_for("EMAIL_ADDRESS", f"dave{n}@example.com")
        assert world.privacy.threads.save_sync(who.scope, f"resp_dave_{n}", ThreadState(vault=vault.export_state()))
    small = Exporter(world.privacy.repo, world.rights.sources, world.rights.exporter.facts, page_size=2)
    pieces: list[bytes] = []
    transcript_pieces = 0
    inside = False
    async for piece in small.stream(who):
        pieces.append(piece)
        if piece.startswith(b',"transcripts":['):
            inside = True
        elif inside and piece == b"]":
            inside = False
        elif inside:
            transcript_pieces += 1
            assert piece.count(b'"conversation"') <= 2  # never more than a page in one piece
    assert transcript_pieces == 6  # 11 turns in pages of 2
    doc = json.loads(b"".join(pieces))
    assert [t["turn"] for t in doc["transcripts"]] == list(range(1, 12)) and doc["counts"]["transcripts"] == 11
    assert doc["counts"]["thread_states"] == 5 and len({t["id"] for t in doc["thread_states"]}) == 5
    thread_values = [p["value"] for p in doc["pseudonym_values"] if p["table"] == "thread_states"]
    assert sorted(thread_values) == sorted(["CANARYDAVE", *(f"dave{n}@example.com" for n in range(4))])  # every page of thread states


def test_every_section_has_exactly_one_source(world: World) -> None:
    sources = list(world.rights.sources)
    with pytest.raises(ValueError, match="missing"):
        Exporter(world.privacy.repo, sources[1:], world.rights.exporter.facts)
    with pytest.raises(ValueError, match="exactly once"):
        Exporter(world.privacy.repo, [*sources, sources[0]], world.rights.exporter.facts)

"""No personal data in the audit log: after a run of PII-laden requests (chat JSON and streamed,
tool calls, names and e-mails as user and conversation ids, an odd model name and request id,
consent and memory changes), every audit entry is scanned for the canaries by substring, by regex,
and by Presidio (with the spaCy model): none is found, while the entries still say what happened.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.settings import Settings
from tests.detectors.analyzers import ner_analyzer
from tests.storage.dbs import db_url  # noqa: F401 - fixture

NAME = "Zebulon Quartermaine"
EMAIL = "zebulon.canary@example.com"
PHONE = "+1 415 555 0172"
CARD = "4111 1111 1111 1111"
SSN = "078-05-1120"
IBAN = "DE89 3704 0044 0532 0130 00"
CANARIES = [NAME, EMAIL, PHONE, CARD, SSN, IBAN, "Quartermaine", "Zebulon"]
TEXT = f"I am {NAME}, mail {EMAIL}, phone {PHONE}, card {CARD}, SSN {SSN}, IBAN {IBAN}. I'm vegetarian."
POLICY = "description: canary\nowner: tests\npii: {enabled: true}\nmemory: {enabled: true}\nrouting: {aliases: [canary-model]}\n"
ENTITIES = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE", "LOCATION"]
REGEXES = [re.compile(r"[^\s@\"]+@[^\s@\"]+\.[a-z]{2,}"), re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), re.compile(r"(?<![0-9a-f])(?:\d[ -]?){13,19}(?![0-9a-f])"), re.compile(r"\+\d[\d ]{8,}")]


def _leaks(text: str) -> list[str]:
    flat = text.lower().replace(" ", "")
    return [c for c in CANARIES if c.lower() in text.lower() or c.replace(" ", "").lower() in flat]


async def test_no_canary_in_any_audit_entry(tmp_path: Path, db_url: str) -> None:  # noqa: F811
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / "default.yaml").write_text(POLICY)
    settings = Settings(data_dir=tmp_path / "data", database={"url": db_url}, policy={"directory": pdir, "watch": False}, audit={"checkpoint_interval_seconds": 3600})
    app = create_app(settings)
    user = {"x-bedside-user": EMAIL, "x-bedside-conversation": NAME}
    messages: list[dict[str, Any]] = [{"role": "user", "content": TEXT}]
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]
    tool_turn = messages + [
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": json.dumps({"q": TEXT})}}]},
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"owner": NAME, "email": EMAIL})},
    ]
    async with AsyncTestClient(app) as c:
        assert (await c.put(f"/v1/users/{EMAIL}/consent", json={"purpose": "memory", "granted": True})).status_code == 200
        assert (await c.put(f"/v1/users/{EMAIL}/consent", json={"purpose": "transcripts", "granted": True})).status_code == 200
        for stream in (False, True):
            r = await c.post("/v1/chat/completions", json={"model": "canary-model", "messages": messages, "stream": stream}, headers=user)
            assert r.status_code == 200, r.text
        assert (await c.post("/v1/chat/completions", json={"model": "canary-model", "messages": tool_turn, "tools": tools}, headers=user)).status_code == 200
        assert (await c.post("/v1/chat/completions", json={"model": NAME, "messages": messages, "user": EMAIL}, headers={"x-request-id": PHONE.replace(" ", "")})).status_code == 200
        r = await c.post("/v1/chat/completions", json={"model": "canary-model", "messages": [{"role": "user", "content": f"x{chr(0)}"}], "temperature": EMAIL}, headers=user)
        assert r.status_code == 400  # refused at the edge: recorded too
        memories = (await c.get(f"/v1/users/{EMAIL}/memories")).json()["data"]
        assert memories, "the memory stage remembered nothing: the run did not exercise memory writes"
        assert (await c.delete(f"/v1/users/{EMAIL}/memories/{memories[0]['id']}")).status_code == 200
        assert (await c.put(f"/v1/users/{EMAIL}/consent", json={"purpose": "transcripts", "granted": False})).status_code == 200
        assert app.state.services.audit.writer.flush(30)
    engine = app.state.services.engine
    with engine.connect() as conn:
        rows = [(bytes(p).decode("utf-8"), k) for p, k in conn.execute(sa.text("SELECT payload, kind FROM audit_entries ORDER BY idx"))]
        columns = " ".join(str(v) for row in conn.execute(sa.text("SELECT tenant, subject, kind FROM audit_entries")) for v in row)
    kinds = [k for _, k in rows]
    assert kinds.count("request") == 5 and kinds.count("consent") == 3 and kinds.count("user_data") == 2
    entries = [json.loads(p) for p, _ in rows]
    chats = [e for e in entries if e["kind"] == "request" and e["status"] == 200]
    assert len(chats) == 4
    assert all(e["decisions"]["pii"]["redacted"] for e in chats)  # what happened is there: entity counts by type
    assert any(e["decisions"].get("memory", {}).get("added") for e in chats)
    assert {e["subject"] for e in entries if e.get("subject")} and all(len(e["subject"]) == 64 for e in entries if e.get("subject"))
    analyzer = ner_analyzer()
    found: list[str] = []
    for payload, _ in rows:
        found += _leaks(payload)
        found += [m.group(0) for rx in REGEXES for m in rx.finditer(payload)]
        found += [f"{r.entity_type}:{payload[r.start:r.end]}" for r in analyzer.analyze(payload, ENTITIES, threshold=0.5) if _leaks(payload[r.start : r.end])]
    found += _leaks(columns)
    assert found == []

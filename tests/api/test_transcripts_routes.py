"""The transcripts API (routes of proxy.api.transcripts, as the app registers them), real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

from proxy.api import privacy, transcripts
from proxy.api.errors import EXCEPTION_HANDLERS
from proxy.api.openai_routes import unsupported
from proxy.auth import KeyRing, hash_key
from proxy.crypto.envelope import Envelope
from proxy.crypto.keys import LocalKeyProvider
from proxy.crypto.subjects import SubjectKey
from proxy.privacy.consent import ConsentLedger
from proxy.privacy.memory import MemoryStore
from proxy.privacy.transcripts import PolicyTag, TranscriptWriter
from proxy.privacy.wiring import Privacy
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository
from proxy.storage.transcripts import TranscriptRepository
from tests.api.conftest import assert_openai_error
from tests.storage.dbs import db_url  # noqa: F401 - fixture

ACME_PRIV = {"authorization": "Bearer bsk-acme-privacy"}
ACME_CHAT = {"authorization": "Bearer bsk-acme-chat"}
GLOBEX_PRIV = {"authorization": "Bearer bsk-globex-privacy"}
KEYS = [(hash_key("bsk-acme-privacy"), "acme", "privacy"), (hash_key("bsk-acme-chat"), "acme"), (hash_key("bsk-globex-privacy"), "globex", "chat privacy")]
SUBJECTS = SubjectKey(b"k" * 32)

Client = AsyncTestClient[Litestar]


@pytest.fixture
def make_client(db_url: str) -> Callable[[KeyRing], Any]:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)

    @asynccontextmanager
    async def make(ring: KeyRing) -> AsyncIterator[tuple[Client, TranscriptWriter]]:
        engine = make_engine(db_url)
        repo = PrivacyRepository(engine)
        keys = LocalKeyProvider([b"K" * 32])
        ledger = ConsentLedger(repo, SUBJECTS)
        api = transcripts.TranscriptsAPI.build(
            ring, Privacy(repo, keys, SUBJECTS, envelope := Envelope(repo, keys), ledger, MemoryStore(repo, envelope, SUBJECTS), TranscriptWriter(TranscriptRepository(engine), envelope, SUBJECTS))
        )
        state = State({"privacy": privacy.PrivacyAPI(ring, ledger), "transcripts": api})
        app = Litestar(route_handlers=[*privacy.ROUTES, *transcripts.ROUTES, unsupported], exception_handlers=EXCEPTION_HANDLERS, state=state)
        try:
            async with AsyncTestClient(app) as client:
                yield client, api.writer
        finally:
            engine.dispose()

    return make


async def test_list_and_read_conversations(make_client: Callable[[KeyRing], Any]) -> None:
    async with make_client(KeyRing(KEYS)) as (c, writer):
        scope = SUBJECTS.scope("acme", "alice")
        await writer.record(scope, "conv-a", 1, PolicyTag("customer-service", "abc"), {"emotion": {"label": "fear", "intensity": 0.4}}, "I am scared", "That sounds hard.")
        await writer.record(scope, "conv-a", 2, PolicyTag("customer-service", "abc"), {}, "yes", "ok")
        r = await c.get("/v1/users/alice/conversations", headers=ACME_PRIV)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["object"] == "list" and body["user"] == "alice"
        [conv] = body["data"]
        assert conv["id"] == writer.conversation_hash(scope, "conv-a") and conv["turns"] == 2
        assert conv["policy"] == {"name": "customer-service", "version": "abc"} and conv["first_at"].endswith("Z") and conv["first_at"] <= conv["last_at"]
        for ident in (conv["id"], "conv-a"):
            r = await c.get(f"/v1/users/alice/conversations/{ident}", headers=ACME_PRIV)
            assert r.status_code == 200, r.text
            got = r.json()
            assert got["id"] == conv["id"] and got["object"] == "conversation"
            assert [(t["turn"], t["user"], t["reply"], t["unreadable"]) for t in got["turns"]] == [(1, "I am scared", "That sounds hard.", None), (2, "yes", "ok", None)]
            assert got["turns"][0]["readings"] == {"emotion": {"label": "fear", "intensity": 0.4}}
        r = await c.get("/v1/users/alice/conversations/nope", headers=ACME_PRIV)
        assert r.status_code == 404
        assert_openai_error(r.json(), "conversation_not_found")


async def test_scope_and_tenants(make_client: Callable[[KeyRing], Any]) -> None:
    async with make_client(KeyRing(KEYS)) as (c, writer):
        scope = SUBJECTS.scope("acme", "alice")
        await writer.record(scope, "conv-a", 1, ("p", "v"), {}, "secret words", "reply")
        conv = writer.conversation_hash(scope, "conv-a")
        for path in ("/v1/users/alice/conversations", f"/v1/users/alice/conversations/{conv}"):
            assert (await c.get(path)).status_code == 401
            r = await c.get(path, headers=ACME_CHAT)
            assert r.status_code == 403
            assert_openai_error(r.json(), "insufficient_scope")
            # another tenant's user and nobody: the same 404, byte for byte
            theirs = await c.get(path, headers=GLOBEX_PRIV)
            nobody = await c.get(path.replace("alice", "nobody-at-all"), headers=GLOBEX_PRIV)
            assert theirs.status_code == nobody.status_code == 404
            assert theirs.content == nobody.content
            assert_openai_error(theirs.json(), "user_not_found")
            assert b"secret" not in theirs.content
            r = await c.get(path, headers={**ACME_PRIV, "api-key": "bsk-globex-privacy"})
            assert r.status_code == 400
        # a user known by consent only has an empty list
        assert (await c.put("/v1/users/bob/consent", json={"purpose": "transcripts", "granted": True}, headers=ACME_PRIV)).status_code == 200
        r = await c.get("/v1/users/bob/conversations", headers=ACME_PRIV)
        assert r.status_code == 200 and r.json()["data"] == []
        r = await c.get("/v1/users/%20/conversations", headers=ACME_PRIV)
        assert r.status_code == 400
        assert_openai_error(r.json(), "invalid_user")


async def test_the_app_serves_the_transcripts_api(tmp_path: Any) -> None:
    from proxy.app import create_app
    from proxy.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "data", policy={"enabled": False}))
    async with AsyncTestClient(app) as c:
        assert (await c.get("/v1/users/nobody/conversations")).status_code == 404
        assert (await c.put("/v1/users/alice/consent", json={"purpose": "transcripts", "granted": True})).status_code == 200
        r = await c.get("/v1/users/alice/conversations")
        assert r.status_code == 200 and r.json()["data"] == []

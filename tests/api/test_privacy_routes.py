"""The consent API (routes of proxy.api.privacy, as the app registers them), real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from litestar import Litestar
from litestar.datastructures import State
from litestar.testing import AsyncTestClient

from proxy.api import privacy
from proxy.api.errors import EXCEPTION_HANDLERS
from proxy.api.openai_routes import unsupported
from proxy.auth import KeyRing, hash_key
from proxy.crypto.subjects import SubjectKey
from proxy.privacy.consent import ConsentLedger, Notice
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import PrivacyRepository
from tests.api.conftest import assert_openai_error
from tests.storage.dbs import db_url  # noqa: F401 - fixture

NOTICE = Notice("v7", "the notice")
ACME_PRIV = {"authorization": "Bearer bsk-acme-privacy"}
ACME_CHAT = {"authorization": "Bearer bsk-acme-chat"}
GLOBEX_PRIV = {"authorization": "Bearer bsk-globex-privacy"}
KEYS = [(hash_key("bsk-acme-privacy"), "acme", "privacy"), (hash_key("bsk-acme-chat"), "acme"), (hash_key("bsk-globex-privacy"), "globex", "chat privacy")]

Client = AsyncTestClient[Litestar]


@pytest.fixture
def make_client(db_url: str) -> Callable[[KeyRing], Any]:  # noqa: F811 - the imported fixture
    migrate.upgrade(db_url)

    @asynccontextmanager
    async def make(ring: KeyRing) -> AsyncIterator[Client]:
        engine = make_engine(db_url)
        ledger = ConsentLedger(PrivacyRepository(engine), SubjectKey(b"k" * 32), NOTICE)
        # the catch-all /v1 route of the OpenAI module is registered too, as the app will have it
        app = Litestar(route_handlers=[*privacy.ROUTES, unsupported], exception_handlers=EXCEPTION_HANDLERS, state=State({"privacy": privacy.PrivacyAPI(ring, ledger)}))
        try:
            async with AsyncTestClient(app) as client:
                yield client
        finally:
            engine.dispose()

    return make


async def test_open_mode_grant_withdraw_and_read(make_client: Callable[[KeyRing], Any]) -> None:
    async with make_client(KeyRing()) as c:
        r = await c.get("/v1/users/alice/consent")
        assert r.status_code == 404
        assert_openai_error(r.json(), "user_not_found")
        r = await c.put("/v1/users/alice/consent", json={"purpose": "memory", "granted": True})
        assert r.status_code == 200, r.text
        receipt = r.json()
        assert set(receipt) == {"object", "id", "created_at", "purpose", "granted", "method", "notice_version", "notice_hash"}
        assert (receipt["object"], receipt["purpose"], receipt["granted"], receipt["method"], receipt["notice_version"]) == ("consent.receipt", "memory", True, "api", "v7")
        assert receipt["notice_hash"] == NOTICE.sha256 and receipt["created_at"].endswith("Z")
        withdrawn = (await c.put("/v1/users/alice/consent", json={"purpose": "memory", "granted": False})).json()
        body = (await c.get("/v1/users/alice/consent")).json()
        assert body["object"] == "consent" and body["user"] == "alice"
        assert body["purposes"] == {"memory": {"granted": False, "receipt": withdrawn}, "transcripts": {"granted": False, "receipt": None}}
        assert [h["id"] for h in body["history"]] == [receipt["id"], withdrawn["id"]]


async def test_keys_need_the_privacy_scope_and_tenants_do_not_see_each_other(make_client: Callable[[KeyRing], Any]) -> None:
    async with make_client(KeyRing(KEYS)) as c:
        for method in ("GET", "PUT"):
            r = await c.request(method, "/v1/users/alice/consent", json={"purpose": "memory", "granted": True})
            assert r.status_code == 401
            assert_openai_error(r.json(), "missing_api_key")
            r = await c.request(method, "/v1/users/alice/consent", json={"purpose": "memory", "granted": True}, headers={"authorization": "Bearer bsk-wrong"})
            assert r.status_code == 401
            r = await c.request(method, "/v1/users/alice/consent", json={"purpose": "memory", "granted": True}, headers=ACME_CHAT)
            assert r.status_code == 403
            assert assert_openai_error(r.json(), "insufficient_scope")["type"] == "permission_error"
        r = await c.put("/v1/users/alice/consent", json={"purpose": "transcripts", "granted": True}, headers=ACME_PRIV)
        assert r.status_code == 200
        assert (await c.get("/v1/users/alice/consent", headers=ACME_PRIV)).json()["purposes"]["transcripts"]["granted"] is True
        # globex asking for acme's alice, and for someone nobody has: the same 404, byte for byte
        theirs = await c.get("/v1/users/alice/consent", headers=GLOBEX_PRIV)
        nobody = await c.get("/v1/users/nobody-at-all/consent", headers=GLOBEX_PRIV)
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.content == nobody.content
        assert theirs.headers.get("content-type") == nobody.headers.get("content-type")
        # globex's own alice is another person, with nothing granted
        r = await c.put("/v1/users/alice/consent", json={"purpose": "memory", "granted": False}, headers=GLOBEX_PRIV)
        body = (await c.get("/v1/users/alice/consent", headers=GLOBEX_PRIV)).json()
        assert [h["id"] for h in body["history"]] == [r.json()["id"]]
        assert body["purposes"]["transcripts"]["granted"] is False
        # two credentials are refused as on every endpoint
        r = await c.get("/v1/users/alice/consent", headers={**ACME_PRIV, "api-key": "bsk-globex-privacy"})
        assert r.status_code == 400
        assert_openai_error(r.json(), "duplicate_authorization")


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"purpose": "marketing", "granted": True}, "purpose", "invalid_purpose"),
        ({"granted": True}, "purpose", "invalid_purpose"),
        ({"purpose": "memory"}, "granted", "invalid_type"),
        ({"purpose": "memory", "granted": "yes"}, "granted", "invalid_type"),
        ({"purpose": "memory", "granted": 1}, "granted", "invalid_type"),
        ({"purpose": "memory", "granted": True, "user": "bob"}, "user", "unknown_parameter"),
    ],
)
async def test_bad_decisions_are_400_naming_the_field(make_client: Callable[[KeyRing], Any], body: dict[str, Any], param: str, code: str) -> None:
    async with make_client(KeyRing()) as c:
        r = await c.put("/v1/users/alice/consent", json=body)
        assert r.status_code == 400
        err = assert_openai_error(r.json(), code)
        assert err["param"] == param
        assert (await c.get("/v1/users/alice/consent")).status_code == 404  # nothing was recorded


async def test_bodies_and_user_ids_are_checked(make_client: Callable[[KeyRing], Any]) -> None:
    async with make_client(KeyRing()) as c:
        r = await c.put("/v1/users/alice/consent", content=b'{"purpose": "memory", "granted": true}', headers={"content-type": "text/plain"})
        assert r.status_code == 415
        r = await c.put("/v1/users/alice/consent", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400
        r = await c.put("/v1/users/alice/consent", content=b"[1]", headers={"content-type": "application/json"})
        assert r.status_code == 400
        r = await c.put("/v1/users/alice/consent", content=b'{"purpose": "' + b"m" * 5000 + b'"}', headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = await c.put("/v1/users/" + "u" * 257 + "/consent", json={"purpose": "memory", "granted": True})
        assert r.status_code == 400
        assert assert_openai_error(r.json(), "invalid_user")["param"] == "user"
        r = await c.get("/v1/users/%20%20/consent")
        assert r.status_code == 400
        # a user id with spaces and an e-mail address is fine; other verbs fall to the catch-all
        assert (await c.put("/v1/users/alice%40example.com/consent", json={"purpose": "memory", "granted": True})).status_code == 200
        assert (await c.get("/v1/users/alice@example.com/consent")).json()["user"] == "alice@example.com"
        r = await c.delete("/v1/users/alice/consent")
        assert r.status_code in (404, 405)
        assert set(r.json()) == {"error"}


async def test_the_app_serves_the_consent_api(tmp_path: Any) -> None:
    from proxy.app import create_app
    from proxy.settings import Settings

    app = create_app(Settings(data_dir=tmp_path / "data", policy={"enabled": False}))
    async with AsyncTestClient(app) as c:
        granted = await c.put("/v1/users/alice/consent", json={"purpose": "memory", "granted": True})
        assert granted.status_code == 200, granted.text
        assert granted.json()["granted"] is True
        state = await c.get("/v1/users/alice/consent")
        assert state.status_code == 200 and state.json()
        other = await c.get("/v1/users/nobody/consent")
        assert other.status_code == 404

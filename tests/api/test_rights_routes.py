"""GET /v1/users/{user}/export and DELETE /v1/users/{user} through the app, on SQLite and PostgreSQL:
keys and scopes, identical 404s for another tenant's and an unknown user, bad ids, the receipt, and
what the other privacy routes answer afterwards."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.auth import hash_key
from proxy.privacy.erasure import ErasureFacts
from proxy.privacy.erasure_receipt import AuditProof
from proxy.services import build_services, build_user_rights
from proxy.settings import Settings
from tests.api.conftest import assert_openai_error
from tests.privacy.rights_world import ERASED, World, settings_for
from tests.storage.dbs import db_url  # noqa: F401 - fixture

ACME = {"authorization": "Bearer bsk-acme-privacy"}
ACME_CHAT = {"authorization": "Bearer bsk-acme-chat"}
GLOBEX = {"authorization": "Bearer bsk-globex-privacy"}
KEYS = [
    {"tenant": "acme", "sha256": hash_key("bsk-acme-privacy"), "scopes": ["privacy"]},
    {"tenant": "acme", "sha256": hash_key("bsk-acme-chat"), "scopes": ["chat"]},
    {"tenant": "globex", "sha256": hash_key("bsk-globex-privacy"), "scopes": ["chat", "privacy"]},
]


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:  # noqa: F811
    w = World.build(db_url, tmp_path / "data")
    w.seed("acme", "alice", "CANARYALICE")
    w.seed("acme", "bob", "CANARYBOB")
    yield w
    w.close()


def _settings(world: World) -> Settings:
    return settings_for(world.settings.database_url(), world.settings.data_dir, api_keys=KEYS)


@pytest.fixture
async def client(world: World) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(create_app(_settings(world))) as c:
        yield c


async def test_keys_and_scopes(client: AsyncTestClient[Litestar]) -> None:
    for method, path in (("GET", "/v1/users/alice/export"), ("DELETE", "/v1/users/alice")):
        r = await client.request(method, path)
        assert r.status_code == 401
        assert_openai_error(r.json(), "missing_api_key")
        r = await client.request(method, path, headers=ACME_CHAT)
        assert r.status_code == 403
        assert_openai_error(r.json(), "insufficient_scope")
        r = await client.request(method, path, headers={**ACME, "api-key": "bsk-globex-privacy"})
        assert r.status_code == 400
        assert_openai_error(r.json(), "duplicate_authorization")
    assert (await client.get("/v1/users/alice/export", headers=ACME)).status_code == 200  # nothing was erased by the refused calls


async def test_another_tenants_user_and_an_unknown_user_get_the_same_404(client: AsyncTestClient[Litestar]) -> None:
    for method, path in (("GET", "/v1/users/{}/export"), ("DELETE", "/v1/users/{}")):
        theirs = await client.request(method, path.format("alice"), headers=GLOBEX)
        nobody = await client.request(method, path.format("nobody-at-all"), headers=GLOBEX)
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.content == nobody.content and theirs.headers.get("content-type") == nobody.headers.get("content-type")
        assert_openai_error(theirs.json(), "user_not_found")
    assert (await client.get("/v1/users/alice/export", headers=ACME)).status_code == 200  # globex's DELETE touched nothing of acme's


@pytest.mark.parametrize("user", ["%01bell", "x" * 257, "%20%20"])
async def test_bad_user_ids_are_400(client: AsyncTestClient[Litestar], user: str) -> None:
    for method, path in (("GET", f"/v1/users/{user}/export"), ("DELETE", f"/v1/users/{user}")):
        r = await client.request(method, path, headers=ACME)
        assert r.status_code == 400, r.text
        assert assert_openai_error(r.json(), "invalid_user")["param"] == "user"


async def test_export_then_erase_then_nothing_is_left(client: AsyncTestClient[Litestar]) -> None:
    r = await client.get("/v1/users/alice/export", headers=ACME)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json") and r.headers["cache-control"] == "no-store"
    doc = json.loads(r.content)
    assert doc["complete"] is True and doc["counts"]["transcripts"] == 3 and "CANARYALICE@example.com" in r.text and "CANARYBOB" not in r.text

    r = await client.delete("/v1/users/alice", headers=ACME)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert (receipt["object"], receipt["user"], receipt["tenant"]) == ("user.erasure_receipt", "alice", "acme")
    assert receipt["erased"] == ERASED and receipt["consent"]["kept"] == 2

    for method, path in (("GET", "/v1/users/alice/export"), ("DELETE", "/v1/users/alice"), ("GET", "/v1/users/alice/consent"), ("GET", "/v1/users/alice/memories"), ("GET", "/v1/users/alice/conversations")):
        r = await client.request(method, path, headers=ACME)
        assert r.status_code == 404, (method, path)
        assert_openai_error(r.json(), "user_not_found")
    bob = json.loads((await client.get("/v1/users/bob/export", headers=ACME)).content)
    assert bob["counts"]["transcripts"] == 3 and bob["counts"]["memories"] == 2
    # the old id starts fresh: nothing granted until she decides again
    r = await client.put("/v1/users/alice/consent", json={"purpose": "memory", "granted": True}, headers=ACME)
    assert r.status_code == 200
    state = (await client.get("/v1/users/alice/consent", headers=ACME)).json()
    assert [h["id"] for h in state["history"]] == [r.json()["id"]] and state["purposes"]["transcripts"]["granted"] is False


class _AuditLog:
    def __init__(self) -> None:
        self.up = False

    async def __call__(self, facts: ErasureFacts) -> AuditProof | None:
        if not self.up:
            raise TimeoutError
        return AuditProof(index=7, checkpoint="bedside.test/log\n8\nroot\n", inclusion_proof=[], entry="{\"index\":7}")


async def test_no_receipt_until_the_audit_log_records_the_erasure(world: World) -> None:
    settings = _settings(world)
    services = build_services(settings)
    audit = _AuditLog()
    assert services.privacy is not None
    services.rights = build_user_rights(settings, services.engine, services.privacy, services.hasher, lambda: (), audit=audit)
    async with AsyncTestClient(create_app(settings, services=services)) as c:
        r = await c.delete("/v1/users/alice", headers=ACME)
        assert r.status_code == 503
        err: dict[str, Any] = assert_openai_error(r.json(), "audit_unavailable")
        assert "erased" in err["message"] and "again" in err["message"]
        assert (await c.get("/v1/users/alice/memories", headers=ACME)).status_code == 404  # the data is gone already
        audit.up = True
        r = await c.delete("/v1/users/alice", headers=ACME)
        assert r.status_code == 200, r.text
        assert r.json()["audit"] == {"index": 7, "checkpoint": "bedside.test/log\n8\nroot\n", "inclusion_proof": [], "entry": "{\"index\":7}"} and r.json()["attempts"] == 2
        assert (await c.delete("/v1/users/alice", headers=ACME)).status_code == 404

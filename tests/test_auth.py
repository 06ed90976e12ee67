"""Virtual keys: hashed storage, constant-time check, tenants, open mode, every endpoint guarded."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.auth import KeyRing, create_db_key, hash_key, list_db_keys, revoke_db_key
from proxy.errors import AuthenticationFailed
from proxy.settings import Settings
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from tests.storage.dbs import pg_url  # noqa: F401 - fixture

MSG = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_keyring_maps_keys_to_tenants_and_refuses_others() -> None:
    ring = KeyRing([(hash_key("bsk-a"), "acme"), (hash_key("bsk-b"), "globex")])
    assert ring.authenticate({"authorization": "Bearer bsk-a"}) == "acme"
    assert ring.authenticate({"api-key": "bsk-b"}) == "globex"
    with pytest.raises(AuthenticationFailed) as missing:
        ring.authenticate({})
    assert missing.value.code == "missing_api_key"
    with pytest.raises(AuthenticationFailed) as wrong:
        ring.authenticate({"authorization": "Bearer bsk-a-but-longer"})
    assert wrong.value.code == "invalid_api_key"
    assert "bsk-a-but-longer" not in wrong.value.message


def test_open_mode_without_keys() -> None:
    ring = KeyRing()
    assert ring.open
    assert ring.authenticate({}) == "open"


def test_db_keys_are_stored_hashed_and_revocable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    key, row = create_db_key(engine, "acme", "ci")
    raw = (tmp_path / "k.db").read_bytes()
    assert key.encode() not in raw
    assert row.key_sha256 == hash_key(key)
    ring = KeyRing()
    ring.refresh_from_db(engine)
    assert ring.authenticate({"authorization": f"Bearer {key}"}) == "acme"
    assert revoke_db_key(engine, row.id or 0)
    assert not revoke_db_key(engine, row.id or 0)
    ring.refresh_from_db(engine)
    assert ring.open
    assert [r.tenant for r in list_db_keys(engine)] == ["acme"]
    engine.dispose()


async def test_configured_key_turns_auth_on_for_every_endpoint(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, api_keys=[{"tenant": "acme", "sha256": hash_key("bsk-good")}], policy={"enabled": False})
    async with AsyncTestClient(create_app(settings)) as c:
        for method, path, body in [("POST", "/v1/chat/completions", MSG), ("POST", "/v1/embeddings", {"model": "e", "input": "x"}), ("GET", "/v1/models", None), ("GET", "/v1/models/gpt-4o-mini", None), ("GET", "/metrics", None), ("POST", "/v1/files", {})]:
            r = await c.request(method, path, json=body)
            assert r.status_code == 401, path
            assert r.json()["error"]["type"] == "authentication_error"
            r = await c.request(method, path, json=body, headers={"authorization": "Bearer bsk-bad"})
            assert r.status_code == 401, path
        good = {"authorization": "Bearer bsk-good"}
        assert (await c.post("/v1/chat/completions", json=MSG, headers=good)).status_code == 200
        assert (await c.get("/v1/models", headers=good)).status_code == 200
        ready: Any = (await c.get("/readyz")).json()
        assert ready["auth"] == "keys"
        assert not any("OPEN TENANT" in w for w in ready["warnings"])
        # probes stay open for orchestrators
        assert (await c.get("/healthz")).status_code == 200


async def test_open_tenant_is_announced_in_readyz_and_metrics(tmp_path: Path) -> None:
    async with AsyncTestClient(create_app(Settings(data_dir=tmp_path, policy={"enabled": False}))) as c:
        ready = (await c.get("/readyz")).json()
        assert ready["auth"] == "open"
        assert any("OPEN TENANT" in w for w in ready["warnings"])
        assert "bedside_open_tenant 1.0" in (await c.get("/metrics")).text


@pytest.mark.postgres
def test_two_replicas_revoking_one_key_at_once_revoke_it_once(pg_url: str) -> None:  # noqa: F811 - the imported fixture
    """Two processes (two engines) revoke the same key at the same time (two operators, or a retried
    command). Each read the key as active and wrote ``revoked_at``: both said they revoked it (two
    audit records) and the later one moved the time it was revoked. Exactly one may succeed."""
    migrate.upgrade(pg_url)
    engines = [make_engine(pg_url) for _ in range(2)]
    ids = [create_db_key(engines[0], "acme")[1].id or 0 for _ in range(40)]
    start = threading.Barrier(2)
    won: list[list[bool]] = [[], []]
    errors: list[BaseException] = []

    def replica(n: int) -> None:
        try:
            for key_id in ids:
                start.wait(10)
                won[n].append(revoke_db_key(engines[n], key_id))
        except BaseException as exc:  # reported below (a thread cannot fail the test)
            errors.append(exc)

    threads = [threading.Thread(target=replica, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert not errors
    twice = sum(a and b for a, b in zip(*won, strict=True))
    assert twice == 0 and all(a or b for a, b in zip(*won, strict=True)), f"{twice} of {len(ids)} keys were revoked twice"

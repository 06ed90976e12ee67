"""API key scopes: existing and settings keys are `chat`; the privacy API needs `privacy`."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.auth import KeyRing, PermissionDenied, create_db_key, hash_key, parse_scopes
from proxy.errors import AuthenticationFailed
from proxy.storage import migrate
from proxy.storage.engine import make_engine


def test_scopes_parse_and_default_to_chat() -> None:
    assert parse_scopes(None) == {"chat"}
    assert parse_scopes("") == {"chat"}
    assert parse_scopes("chat privacy") == {"chat", "privacy"}
    assert parse_scopes("privacy,chat") == {"chat", "privacy"}
    assert parse_scopes(["privacy"]) == {"privacy"}
    assert parse_scopes("admin") == {"admin"}
    with pytest.raises(ValueError, match="unknown scope"):
        parse_scopes("root")


def test_scoped_authentication() -> None:
    ring = KeyRing([(hash_key("bsk-chat"), "acme"), (hash_key("bsk-priv"), "acme", "privacy"), (hash_key("bsk-both"), "globex", ["chat", "privacy"])])
    # the old call still answers for any valid key
    assert ring.authenticate({"authorization": "Bearer bsk-priv"}) == "acme"
    assert ring.authenticate_scoped({"authorization": "Bearer bsk-chat"}, "chat") == "acme"
    assert ring.authenticate_scoped({"authorization": "Bearer bsk-priv"}, "privacy") == "acme"
    assert ring.authenticate_scoped({"authorization": "Bearer bsk-both"}, "privacy") == "globex"
    with pytest.raises(PermissionDenied) as denied:
        ring.authenticate_scoped({"authorization": "Bearer bsk-chat"}, "privacy")
    assert denied.value.http_status == 403
    assert denied.value.to_body()["error"]["code"] == "insufficient_scope"
    assert "bsk-chat" not in denied.value.message
    with pytest.raises(AuthenticationFailed):
        ring.authenticate_scoped({"authorization": "Bearer bsk-nope"}, "privacy")
    with pytest.raises(AuthenticationFailed):
        ring.authenticate_scoped({}, "privacy")
    with pytest.raises(ValueError):
        ring.authenticate_scoped({"authorization": "Bearer bsk-chat"}, "root")


def test_open_mode_serves_the_open_tenant_for_any_scope() -> None:
    assert KeyRing().authenticate_scoped({}, "privacy") == "open"


def test_db_keys_carry_scopes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    plain, row = create_db_key(engine, "acme", "old-style")
    priv, prow = create_db_key(engine, "acme", "dpo", scopes="privacy chat")
    assert row.scopes == "chat" and prow.scopes == "chat privacy"
    ring = KeyRing()
    ring.refresh_from_db(engine)
    assert ring.authenticate_scoped({"authorization": f"Bearer {priv}"}, "privacy") == "acme"
    with pytest.raises(PermissionDenied):
        ring.authenticate_scoped({"authorization": f"Bearer {plain}"}, "privacy")
    with pytest.raises(ValueError):
        create_db_key(engine, "acme", scopes="everything")
    engine.dispose()


async def test_settings_keys_carry_scopes(tmp_path: Path) -> None:
    from litestar.testing import AsyncTestClient

    from proxy.app import create_app
    from proxy.settings import Settings

    keys = [
        {"tenant": "acme", "sha256": hash_key("bsk-settings-chat")},  # no scopes named: chat
        {"tenant": "acme", "sha256": hash_key("bsk-settings-dpo"), "scopes": ["privacy"]},
    ]
    settings = Settings(data_dir=tmp_path, api_keys=keys, policy={"enabled": False})
    assert [k.scopes for k in settings.api_keys] == [["chat"], ["privacy"]]
    async with AsyncTestClient(create_app(settings)) as c:
        dpo = {"authorization": "Bearer bsk-settings-dpo"}
        chat = {"authorization": "Bearer bsk-settings-chat"}
        assert (await c.put("/v1/users/ann/consent", json={"purpose": "memory", "granted": True}, headers=dpo)).status_code == 200
        refused = await c.get("/v1/users/ann/consent", headers=chat)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
        # a privacy-only key is not a chat key
        r = await c.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]}, headers=dpo)
        assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"


def test_an_unknown_scope_in_settings_stops_start_up(tmp_path: Path) -> None:
    from proxy.app import create_app
    from proxy.settings import Settings

    settings = Settings(data_dir=tmp_path, api_keys=[{"tenant": "acme", "sha256": hash_key("bsk-x"), "scopes": ["everything"]}], policy={"enabled": False})
    with pytest.raises(ValueError, match="unknown scope"):
        create_app(settings)

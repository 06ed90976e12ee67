"""The audit API through the real app (SQLite and PostgreSQL): checkpoints and proofs that verify
offline, the admin scope, kind 400s, and fail_closed refusals when the audit store is down."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.audit.note import Verifier
from proxy.audit.verify import verify_consistency, verify_entry
from proxy.auth import create_db_key
from proxy.settings import Settings
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from tests.api.conftest import assert_openai_error
from tests.storage.dbs import db_url  # noqa: F401 - fixture

CHAT = {"model": "support-agent", "messages": [{"role": "user", "content": "Where is my order?"}]}


def _settings(tmp_path: Path, url: str, policies: Path | None = None) -> Settings:
    policy: dict[str, Any] = {"watch": False} if policies is None else {"watch": False, "directory": policies}
    return Settings(data_dir=tmp_path / "data", database={"url": url}, policy=policy, audit={"checkpoint_interval_seconds": 3600})


def _b64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


async def test_checkpoint_and_proofs_verify_offline(tmp_path: Path, db_url: str) -> None:  # noqa: F811
    app = create_app(_settings(tmp_path, db_url))
    async with AsyncTestClient(app) as c:
        for _ in range(5):
            assert (await c.post("/v1/chat/completions", json=CHAT, headers={"x-bedside-user": "ann"})).status_code == 200
        r = await c.get("/v1/audit/checkpoint")
        assert r.status_code == 404
        assert_openai_error(r.json(), "no_checkpoint")
        first = (await c.get("/v1/audit/checkpoint?refresh=true")).json()
        assert first["object"] == "audit.checkpoint" and first["tree_size"] == 5
        verifier = Verifier.parse(first["verifier_key"])
        assert (await c.put("/v1/users/ann/consent", json={"purpose": "memory", "granted": True})).status_code == 200
        second = (await c.get("/v1/audit/checkpoint?refresh=true")).json()
        assert second["tree_size"] == 6  # the consent entry was written before the answer (fail_closed)
        proof = (await c.get("/v1/audit/proof/inclusion", params={"index": 5})).json()
        assert proof["tree_size"] == 6
        engine = app.state.services.engine
        with engine.connect() as conn:
            payload = bytes(conn.execute(sa.text("SELECT payload FROM audit_entries WHERE idx = 5")).scalar_one())
        assert b'"kind":"consent"' in payload and b"ann" not in payload
        verify_entry(payload, 5, _b64(proof["hashes"]), second["note"], [verifier])
        cons = (await c.get("/v1/audit/proof/consistency", params={"first": 5})).json()
        verify_consistency(first["note"], second["note"], _b64(cons["hashes"]), [verifier])
        for path, code, param in [
            ("/v1/audit/proof/inclusion", "missing_parameter", "index"),
            ("/v1/audit/proof/inclusion?index=abc", "invalid_parameter", "index"),
            ("/v1/audit/proof/inclusion?index=9", "invalid_tree_size", "tree_size"),
            ("/v1/audit/proof/inclusion?index=1&tree_size=99", "invalid_tree_size", "tree_size"),
            ("/v1/audit/proof/consistency?first=7&second=6", "invalid_tree_size", "first"),
            ("/v1/audit/checkpoint?refresh=maybe", "invalid_parameter", "refresh"),
        ]:
            r = await c.get(path)
            assert r.status_code == 400, (path, r.text)
            assert_openai_error(r.json(), code)
            assert r.json()["error"]["param"] == param


async def test_the_admin_scope_is_required_once_keys_exist(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    admin, _ = create_db_key(engine, "acme", scopes="admin")
    chat, _ = create_db_key(engine, "acme")
    engine.dispose()
    async with AsyncTestClient(create_app(_settings(tmp_path, url))) as c:
        r = await c.get("/v1/audit/checkpoint?refresh=true")
        assert r.status_code == 401
        r = await c.get("/v1/audit/checkpoint?refresh=true", headers={"authorization": f"Bearer {chat}"})
        assert r.status_code == 403
        assert_openai_error(r.json(), "insufficient_scope")
        assert "'admin' scope" in r.json()["error"]["message"]
        r = await c.get("/v1/audit/checkpoint?refresh=true", headers={"authorization": f"Bearer {admin}"})
        assert r.status_code == 200 and r.json()["tree_size"] == 0


def _break(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE audit_pending RENAME TO audit_pending_away"))


def _mend(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE audit_pending_away RENAME TO audit_pending"))


async def test_store_down_fail_closed_refuses_and_fail_open_serves(tmp_path: Path) -> None:
    pdir = tmp_path / "policies"
    pdir.mkdir()
    (pdir / "default.yaml").write_text("description: open\nowner: tests\n")
    (pdir / "strict.yaml").write_text(
        "description: closed\nowner: tests\nrouting: {aliases: [strict-model]}\naudit: {on_failure: fail_closed}\n"
        "microcopy: {texts: {en: {error: 'Sorry, our records are down for a moment. Please try again shortly (ref {reference}).'}}}\n"
    )
    url = f"sqlite:///{tmp_path / 'c.db'}"
    app = create_app(_settings(tmp_path, url, pdir))
    services = app.state.services
    async with AsyncTestClient(app) as c:
        assert (await c.post("/v1/chat/completions", json={**CHAT, "model": "strict-model"})).status_code == 200
        _break(services.engine)
        assert (await c.post("/v1/chat/completions", json={**CHAT, "model": "any-model"})).status_code == 200  # queued while failing
        deadline = time.monotonic() + 20
        while services.audit.writer.healthy:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        r = await c.post("/v1/chat/completions", json={**CHAT, "model": "strict-model"})
        assert r.status_code == 503
        assert_openai_error(r.json(), "audit_unavailable")
        message = r.json()["error"]["message"]  # the policy's own microcopy, with the request's reference
        assert message.startswith("Sorry, our records are down for a moment.") and r.headers["x-request-id"] in message
        r = await c.put("/v1/users/bob/consent", json={"purpose": "memory", "granted": True})
        assert r.status_code == 503  # privacy changes fail closed by default: nothing changed
        assert_openai_error(r.json(), "audit_unavailable")
        ready = (await c.get("/readyz")).json()
        assert any("AUDIT LOG FAILING" in w for w in ready["warnings"])
        assert ready["checks"]["audit"]["healthy"] is False
        assert "bedside_audit_refused_total" in (await c.get("/metrics")).text
        _mend(services.engine)
        assert services.audit.writer.flush(30)
        assert (await c.get("/v1/users/bob/consent")).status_code == 404  # the refused grant was never recorded
        r = await c.get("/v1/audit/checkpoint?refresh=true")
        assert r.json()["tree_size"] == 3  # the first request, the fail_open one, and the refused strict one

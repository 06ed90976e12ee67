"""The console's routes without a browser: its own assets with a strict CSP, the key checks of its event stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.auth import hash_key
from proxy.settings import Settings

KEYS = [{"tenant": "acme", "sha256": hash_key("bsk-admin"), "scopes": ["admin"]}, {"tenant": "acme", "sha256": hash_key("bsk-chat")}]


@pytest.fixture
async def client(tmp_path: Path) -> Any:
    async with AsyncTestClient(create_app(Settings(data_dir=tmp_path / "data", policy={"enabled": False}, api_keys=KEYS))) as c:
        yield c


async def test_the_page_and_its_assets_come_from_bedside_with_a_strict_policy(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/console")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    html = page.text
    assert "http://" not in html and "https://" not in html  # no CDN, no external asset
    for name, kind in (("console.js", "text/javascript"), ("console.css", "text/css")):
        asset = await client.get(f"/console/assets/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert "https://" not in asset.text and "innerHTML" not in asset.text
    assert (await client.get("/console/assets/..%2Fconsole.py")).status_code == 404
    assert (await client.get("/console/assets/index.html")).status_code == 404


async def test_status_tells_the_page_whether_bedside_is_open(client: AsyncTestClient[Any], tmp_path: Path) -> None:
    assert (await client.get("/console/status")).json() == {"open": False, "outcomes": True}
    async with AsyncTestClient(create_app(Settings(data_dir=tmp_path / "open", policy={"enabled": False}))) as open_client:
        assert (await open_client.get("/console/status")).json()["open"] is True


async def test_the_event_stream_needs_an_admin_key(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/console/events")).status_code == 401
    r = await client.get("/console/events", headers={"authorization": "Bearer bsk-chat"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"

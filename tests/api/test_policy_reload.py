"""Policies through the app: headers, the kind 404, and hot reload that is atomic under load."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.policy import load_policy_set
from proxy.settings import Settings
from proxy.testing import FakeUpstream

REPO = Path(__file__).resolve().parents[2]

POLICY = """description: versioned policy for the reload test
owner: tests
routing:
  aliases: [bot]
persona:
  system_prompt: "You are bot VERSION-{n}."
clamps:
  max_tokens: {tokens}
"""


def _write(directory: Path, n: int) -> None:
    (directory / "bot.yaml").write_text(POLICY.format(n=n, tokens=100 + n))


async def test_headers_and_model_not_found_lists_what_exists(tmp_path: Path) -> None:
    with FakeUpstream() as fake:
        settings = Settings(data_dir=tmp_path, upstream_url=fake.base_url, policy={"directory": REPO / "policies", "watch": False, "unknown_model": "refuse", "default": None})
        async with AsyncTestClient(create_app(settings)) as c:
            r = await c.post("/v1/chat/completions", json={"model": "support-agent", "messages": [{"role": "user", "content": "hi"}]})
            assert r.status_code == 200
            assert r.headers["x-bedside-policy"] == "customer-service"
            expected = load_policy_set(REPO / "policies").policies["customer-service"].version_header
            assert r.headers["x-bedside-policy-version"] == expected
            r = await c.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
            assert r.status_code == 404
            err = r.json()["error"]
            assert err["code"] == "model_not_found"
            assert "support-agent" in err["message"] and "intake-assistant" in err["message"]
            models = (await c.get("/v1/models")).json()["data"]
            assert {"support-agent", "acme-support", "intake-assistant", "onboarding-guide"} <= {m["id"] for m in models}


async def test_reload_under_concurrent_requests_never_mixes_snapshots(tmp_path: Path) -> None:
    pdir = tmp_path / "policies"
    pdir.mkdir()
    versions: dict[str, int] = {}
    for n in range(6):  # the content hash each version will have
        probe = tmp_path / f"probe{n}"
        probe.mkdir()
        _write(probe, n)
        versions[load_policy_set(probe, default_policy=None).policies["bot"].content_hash] = n
    _write(pdir, 0)
    with FakeUpstream() as fake:
        settings = Settings(data_dir=tmp_path / "d", upstream_url=fake.base_url, policy={"directory": pdir, "watch": False, "default": None})
        app = create_app(settings)
        store = app.state.services.policies
        async with AsyncTestClient(app) as c:

            async def reloader() -> None:
                for n in range(1, 6):
                    _write(pdir, n)
                    assert (await asyncio.to_thread(store.reload)).ok
                    await asyncio.sleep(0.01)

            async def one(i: int) -> tuple[str, str]:
                r = await c.post("/v1/chat/completions", json={"model": "bot", "messages": [{"role": "user", "content": f"req {i}"}]})
                assert r.status_code == 200
                return r.headers["x-request-id"], r.headers["x-bedside-policy-version"]

            results = await asyncio.gather(reloader(), *(one(i) for i in range(60)))
        seen_versions = set()
        by_id = {next(v for k, v in rec["headers"].items() if k.lower() == "x-request-id"): rec["body"] for rec in fake.recorded}
        for request_id, header in results[1:]:
            n_header = versions[header.split("@")[0]]
            body = by_id[request_id]
            system = body["messages"][0]["content"]
            n_prompt = int(re.search(r"VERSION-(\d+)", system).group(1))  # type: ignore[union-attr]
            assert n_prompt == n_header, "the persona came from one snapshot and the header from another"
            assert body["max_tokens"] == 100 + n_header, "the clamp came from another snapshot"
            seen_versions.add(n_header)
        assert len(seen_versions) >= 1


async def test_broken_reload_keeps_the_last_good_set(tmp_path: Path) -> None:
    pdir = tmp_path / "policies"
    shutil.copytree(REPO / "policies", pdir)
    app = create_app(Settings(data_dir=tmp_path / "d", policy={"directory": pdir, "watch": False}))
    services = app.state.services
    async with AsyncTestClient(app) as c:
        before = (await c.post("/v1/chat/completions", json={"model": "support-agent", "messages": [{"role": "user", "content": "hi"}]})).headers["x-bedside-policy-version"]
        (pdir / "customer-service.yaml").write_text("description: [unclosed\n")
        result = await asyncio.to_thread(services.policies.reload)
        assert not result.ok and result.issues
        r = await c.post("/v1/chat/completions", json={"model": "support-agent", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 200 and r.headers["x-bedside-policy-version"] == before
        ready: Any = (await c.get("/readyz")).json()
        assert any("POLICY RELOAD FAILED" in w for w in ready["warnings"])
        assert 'bedside_policy_reloads_total{result="rejected"} 1.0' in (await c.get("/metrics")).text


@pytest.mark.parametrize("stream", [False, True])
async def test_watcher_picks_up_a_changed_file(tmp_path: Path, stream: bool) -> None:
    pdir = tmp_path / "policies"
    pdir.mkdir()
    _write(pdir, 1)
    app = create_app(Settings(data_dir=tmp_path / "d", policy={"directory": pdir, "watch": True, "default": None}))
    async with AsyncTestClient(app) as c:
        first = (await c.post("/v1/chat/completions", json={"model": "bot", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})).headers["x-bedside-policy-version"]
        await asyncio.sleep(0.3)
        _write(pdir, 2)
        for _ in range(100):  # bounded: up to ~10 s
            await asyncio.sleep(0.1)
            now = (await c.post("/v1/chat/completions", json={"model": "bot", "messages": [{"role": "user", "content": "hi"}]})).headers["x-bedside-policy-version"]
            if now != first:
                break
        assert now != first

"""An app wired to a real listening fake upstream, driven in-process with Litestar's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.settings import Settings
from proxy.testing import FakeUpstream


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(faults=True, slow_seconds=2.0) as up:
        yield up


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    def make(upstream_url: str | None, **kw: Any) -> Settings:
        base: dict[str, Any] = {"data_dir": tmp_path / "data", "policy": {"enabled": False}}
        if upstream_url:
            base["upstream_url"] = upstream_url
        base.update(kw)
        return Settings(**base)

    return make


@pytest.fixture
async def client(fake: FakeUpstream, settings_for: Callable[..., Settings]) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(settings_for(fake.base_url, timeouts={"connect": 1, "read": 0.5, "total": 10, "stream_idle": 0.5}))
    async with AsyncTestClient(app) as c:
        yield c


def assert_openai_error(body: dict[str, Any], code: str | None = None) -> dict[str, Any]:
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert isinstance(err["message"], str) and len(err["message"]) > 20
    if code is not None:
        assert err["code"] == code
    return err

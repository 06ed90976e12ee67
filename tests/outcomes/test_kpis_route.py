"""GET /v1/kpis through the app: admin scope, tenant scope, the conversations driven through the proxy, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.auth import hash_key
from proxy.settings import Settings
from proxy.testing import FakeUpstream
from tests.api.conftest import assert_openai_error

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CHAT = {"authorization": "Bearer bsk-acme-chat"}
ADMIN = {"authorization": "Bearer bsk-acme-admin"}
GLOBEX_ADMIN = {"authorization": "Bearer bsk-globex-admin"}
KEYS = [
    {"tenant": "acme", "sha256": hash_key("bsk-acme-chat")},
    {"tenant": "acme", "sha256": hash_key("bsk-acme-admin"), "scopes": ["admin"]},
    {"tenant": "globex", "sha256": hash_key("bsk-globex-admin"), "scopes": ["admin", "chat"]},
]


@pytest.fixture
async def client(tmp_path: Path) -> Any:
    async with FakeUpstream(faults=False) as up:
        settings = Settings(data_dir=tmp_path / "data", upstream_url=up.base_url, policy={"directory": str(POLICIES)}, api_keys=KEYS)
        async with AsyncTestClient(create_app(settings)) as c:
            yield c


async def _chat(client: AsyncTestClient[Any], conversation: str, texts: list[str], model: str = "support-agent") -> None:
    messages: list[dict[str, Any]] = []
    for text in texts:
        messages.append({"role": "user", "content": text})
        r = await client.post("/v1/chat/completions", json={"model": model, "messages": messages}, headers={**CHAT, "x-bedside-conversation": conversation, "x-bedside-user": f"u-{conversation}"})
        assert r.status_code == 200, r.text
        messages.append(r.json()["choices"][0]["message"])


async def test_kpis_of_the_conversations_driven_through_the_proxy(client: AsyncTestClient[Any]) -> None:
    await _chat(client, "a", ["My parcel is late.", "It is still not here and I am getting really annoyed now!"])
    await _chat(client, "b", ["Thanks, that fixed it, you were great!"])
    await _chat(client, "c", ["Hello, what can you do?"], model="gpt-4o-mini")
    for conversation, rating, resolved in (("a", 2, False), ("b", 5, True)):
        assert (await client.post("/v1/feedback", json={"conversation": conversation, "rating": rating, "resolved": resolved}, headers=CHAT)).status_code == 200

    r = await client.get("/v1/kpis", params={"since": "1d", "group_by": "policy"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "kpis" and body["tenant"] == "acme" and body["group_by"] == "policy"
    groups = {g["key"]: g for g in body["groups"]}
    support = groups["customer-service"]
    assert support["conversations"] == 2 and support["turns"] == 3 and support["median_turns"] == 1.5
    assert support["csat"] == 0.5 and support["resolution_rate"] == 0.5 and support["mean_rating"] == 3.5
    assert body["total"]["conversations"] == 3 and body["total"]["users"] == 3

    only = (await client.get("/v1/kpis", params={"policy": "customer-service"}, headers=ADMIN)).json()
    assert [g["policy"] for g in only["groups"]] == ["customer-service"] and only["group_by"] == "policy_version"
    version = only["groups"][0]["key"]
    compared = (await client.get("/v1/kpis", params={"compare": f"{version},{version}", "resamples": "200"}, headers=ADMIN)).json()["comparison"]
    assert compared["conversations"] == [2, 2] and compared["metrics"]["csat"]["difference"] == 0.0

    assert (await client.get("/v1/kpis", headers=GLOBEX_ADMIN)).json()["total"]["conversations"] == 0  # another tenant sees none of acme's


async def test_kpis_need_an_admin_key(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/v1/kpis")).status_code == 401
    r = await client.get("/v1/kpis", headers=CHAT)
    assert r.status_code == 403 and "admin" in assert_openai_error(r.json(), "insufficient_scope")["message"]


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"since": "last week"}, "invalid_time", "since"),
        ({"since": "1d", "until": "2d"}, "invalid_time", "since"),
        ({"group_by": "week"}, "invalid_group_by", "group_by"),
        ({"compare": "v1"}, "invalid_compare", "compare"),
        ({"resamples": "5"}, "invalid_resamples", "resamples"),
        ({"sort": "x"}, "unknown_parameter", "sort"),
    ],
)
async def test_a_bad_query_says_what_to_send(client: AsyncTestClient[Any], params: dict[str, str], code: str, param: str) -> None:
    r = await client.get("/v1/kpis", params=params, headers=ADMIN)
    assert r.status_code == 400
    assert assert_openai_error(r.json(), code)["param"] == param

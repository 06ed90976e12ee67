"""A model server that answers with malformed JSON gets a 502 the client can act on, never a 500.

(With the example policies, whose stages read the reply; a reply no stage touches is passed on as
the upstream sent it.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.settings import Settings

GARBAGE = {
    "message is a number": {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": 5, "finish_reason": "stop"}]},
    "index is a string": {"id": "x", "object": "chat.completion", "choices": [{"index": "a", "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]},
    "tool_calls is a number": {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": 5}, "finish_reason": "stop"}]},
    "a tool call is a string": {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": ["x"]}, "finish_reason": "stop"}]},
    "choices is a number": {"id": "x", "object": "chat.completion", "choices": 5},
}


@pytest.mark.parametrize("case", list(GARBAGE))
async def test_a_malformed_reply_is_a_502(tmp_path: Path, case: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=GARBAGE[case])

    policies = Path(__file__).resolve().parents[2] / "policies"
    settings = Settings(data_dir=tmp_path / "data", upstream_url="http://upstream.test/v1", policy={"directory": str(policies)})
    async with AsyncTestClient(create_app(settings, upstream_transport=httpx.MockTransport(handler))) as client:
        response = await client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 502, response.text
    body: dict[str, Any] = response.json()
    assert body["error"]["message"] and "model server" in body["error"]["message"]

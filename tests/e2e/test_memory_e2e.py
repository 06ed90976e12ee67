"""Memory end to end: the official ``openai`` client -> ``bedside serve`` (a policy with PII and
memory on) -> a recording fake upstream. A streamed first conversation is remembered; a new
conversation carries the memory to the model as placeholders only."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from proxy.marks import MEMORY_MARK
from proxy.testing import ServerProcess, bedside_argv, free_port

pytestmark = pytest.mark.e2e

MAIL = "ann.e2e7712@example.com"


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env["BEDSIDE_QUICKSTART"] = "1"  # serve keeps its KEK in the test's data directory
    env.update(extra)
    return env


def _http(url: str, method: str = "GET", body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, data=data, headers={"content-type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=10) as resp:  # loopback only
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    up_port, port = free_port(), free_port()
    upstream = ServerProcess(bedside_argv("demo-upstream", "--record", "--port", str(up_port)), port=up_port, ready_path="/_recorded")
    upstream.env = _env({})
    pdir = tmp_path_factory.mktemp("memory-policies")
    (pdir / "default.yaml").write_text("description: memory e2e\nowner: tests\npii: {enabled: true}\nmemory: {enabled: true}\n")
    bedside = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, ready_path="/healthz", timeout=90)
    bedside.env = _env(
        {
            "BEDSIDE_UPSTREAM_URL": f"http://127.0.0.1:{up_port}/v1",
            "BEDSIDE_DATA_DIR": str(tmp_path_factory.mktemp("bedside-memory-e2e")),
            "BEDSIDE_POLICY__DIRECTORY": str(pdir),
            "BEDSIDE_POLICY__WATCH": "false",
        }
    )
    with upstream, bedside:
        yield upstream, bedside


def test_remembered_in_one_conversation_recalled_as_placeholders_in_the_next(servers: tuple[ServerProcess, ServerProcess]) -> None:
    upstream, bedside = servers
    client = openai.OpenAI(base_url=f"{bedside.url}/v1", api_key="x", max_retries=0, timeout=30)
    try:
        _http(f"{bedside.url}/v1/users/ann/consent", "PUT", {"purpose": "memory", "granted": True})
        said = f"Hello. I'm vegetarian. My e-mail is {MAIL}."
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": said}], stream=True, extra_headers={"X-Bedside-User": "ann", "X-Bedside-Conversation": "one"}
        )
        assert MAIL in "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        texts = sorted(m["text"] for m in _http(f"{bedside.url}/v1/users/ann/memories")["data"])
        assert texts == ["I'm vegetarian.", f"My e-mail is {MAIL}."]
        _http(f"{upstream.url}/_recorded", "DELETE")
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "What could I cook?"}], extra_headers={"X-Bedside-User": "ann", "X-Bedside-Conversation": "two"}
        )
        bodies = [e["body"] for e in _http(f"{upstream.url}/_recorded") if "event" not in e]
        memory = [m["content"] for m in bodies[-1]["messages"] if str(m.get("content", "")).startswith(MEMORY_MARK)]
        assert len(memory) == 1 and "I'm vegetarian." in memory[0] and "<EMAIL_ADDRESS_1>" in memory[0]
        assert MAIL not in json.dumps(bodies)
        assert _http(f"{bedside.url}/v1/users/ann/memories", "DELETE")["deleted"] == 2
    finally:
        client.close()

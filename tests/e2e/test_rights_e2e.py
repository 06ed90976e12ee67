"""Export and erasure end to end: the official ``openai`` client chats through ``bedside serve`` (the
repository's policies, PII redaction on) for a user who granted transcripts; the export, read off the
socket as it is written, holds the turn in the user's own words and names the upstream as recipient;
the erasure's receipt counts it; afterwards the user is unknown and chatting still works."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest

pytestmark = pytest.mark.e2e


def _http(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, data=data, headers={"content-type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def _export_raw(base: str, user: str) -> tuple[dict[str, str], list[bytes]]:
    """The export's headers and its body as the socket delivered it (chunk by chunk)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=20)
    try:
        conn.request("GET", f"/v1/users/{user}/export")
        resp = conn.getresponse()
        assert resp.status == 200
        headers = {k.lower(): v for k, v in resp.getheaders()}
        chunks = []
        while piece := resp.read1(65536):
            chunks.append(piece)
        return headers, chunks
    finally:
        conn.close()


def test_chat_export_erase_and_start_fresh(bedside_url: str, openai_client: openai.OpenAI, upstream_recorded: Any) -> None:
    user = f"e2e-rights-{uuid.uuid4().hex[:8]}"
    mail = f"{user}@example.com"
    status, _ = _http(f"{bedside_url}/v1/users/{user}/consent", "PUT", {"purpose": "transcripts", "granted": True})
    assert status == 200
    reply = openai_client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"Please send the invoice to {mail}"}],
        extra_headers={"X-Bedside-User": user},
    )
    assert reply.choices[0].message.content
    assert mail not in json.dumps(upstream_recorded())  # the model saw a placeholder

    headers, chunks = _export_raw(bedside_url, user)
    assert headers.get("transfer-encoding") == "chunked" and "content-length" not in headers and headers.get("cache-control") == "no-store"
    doc = json.loads(b"".join(chunks))
    assert doc["complete"] is True and doc["user"] == user
    assert [t["user"] for t in doc["transcripts"]] == [f"Please send the invoice to {mail}"]  # the user's own words
    providers = {r["host"] for r in doc["processing"]["recipients"] if r["kind"] == "model_provider"}
    assert providers == {"127.0.0.1"}  # the upstream this deployment sends to

    status, receipt = _http(f"{bedside_url}/v1/users/{user}", "DELETE")
    assert status == 200, receipt
    assert receipt["erased"]["transcripts"] == 1 and receipt["consent"]["kept"] == 1 and len(receipt["data_keys_destroyed"]) == 1
    for method, path in (("GET", f"/v1/users/{user}/export"), ("DELETE", f"/v1/users/{user}"), ("GET", f"/v1/users/{user}/conversations")):
        status, body = _http(f"{bedside_url}{path}", method)
        assert status == 404 and body["error"]["code"] == "user_not_found", path

    # the same id chats again: nothing is recorded, because nothing is granted any more
    again = openai_client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello again"}], extra_headers={"X-Bedside-User": user})
    assert again.choices[0].message.content
    status, _ = _http(f"{bedside_url}/v1/users/{user}/export")
    assert status == 404

"""A client that hangs up mid-stream makes Bedside cancel its upstream request.

The fake upstream's ``fault-stall`` model streams three chunks and then stays silent for 3 s. The
client opens a stream through Bedside over a raw socket, reads what arrives first, and closes the
socket. Bedside must notice, stop its generator (counting the request as status 499) and close the
upstream connection, which the fake records as ``caller_disconnected`` when it next tries to write.

Bedside's own stream-idle timeout (1 s here) would also close the upstream, so the proof that the
*disconnect* did it is the 499 in ``/metrics`` and the absence of a new 504 for the request.
"""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

_COUNTER = re.compile(r'^bedside_requests_total\{endpoint="chat",status="(\d{3})"\} ([0-9.e+]+)$', re.M)


def chat_status_counts(bedside_url: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{bedside_url}/metrics", timeout=5) as resp:  # loopback only
        text = resp.read().decode()
    return {status: float(value) for status, value in _COUNTER.findall(text)}


def open_stream_and_hang_up(bedside_url: str, body: dict[str, Any], *, linger: float = 0.3) -> tuple[bytes, bytes]:
    """POST a streaming chat request on a raw socket, read the head and whatever comes in
    ``linger`` seconds, then close the socket. Returns (response head, body bytes seen)."""
    host, port = bedside_url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
    sock = socket.create_connection((host, int(port)), timeout=5)
    try:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            part = sock.recv(65536)
            if not part:
                break
            data += part
        head, _, seen = data.partition(b"\r\n\r\n")
        sock.settimeout(0.05)
        deadline = time.monotonic() + linger
        while time.monotonic() < deadline:
            try:
                part = sock.recv(65536)
            except TimeoutError:
                continue
            if not part:
                break
            seen += part
    finally:
        sock.close()
    return head, seen


def test_client_disconnect_cancels_the_upstream_request(bedside_url: str, upstream_recorded: Callable[..., list[dict[str, Any]]]) -> None:
    before = chat_status_counts(bedside_url)
    started = time.monotonic()
    head, seen = open_stream_and_hang_up(bedside_url, {"model": "fault-stall", "stream": True, "messages": [{"role": "user", "content": "Tell me a long story."}]})
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert b"text/event-stream" in head.lower()
    assert b"[DONE]" not in seen and b'"error"' not in seen, "we hung up before the stream ended"

    events: list[dict[str, Any]] = []
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        for entry in upstream_recorded():
            (events if entry.get("event") else received).append(entry)
        if any(e["event"] == "caller_disconnected" for e in events):
            break
        time.sleep(0.1)
    assert [b["body"]["model"] for b in received] == ["fault-stall"], "the stream reached the upstream once"
    assert any(e["event"] == "caller_disconnected" for e in events), f"the upstream never saw Bedside hang up within {time.monotonic() - started:.1f}s: the upstream request was not cancelled"

    after = before
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        after = chat_status_counts(bedside_url)
        if after.get("499", 0) > before.get("499", 0):
            break
        time.sleep(0.05)
    assert after.get("499", 0) == before.get("499", 0) + 1, f"a client disconnect is counted as 499: before {before}, after {after}"
    assert after.get("504", 0) == before.get("504", 0), "the stream was cancelled by the disconnect, not ended by the idle timeout"


def test_bedside_still_serves_after_a_disconnect(bedside_url: str) -> None:
    open_stream_and_hang_up(bedside_url, {"model": "fault-stall", "stream": True, "messages": [{"role": "user", "content": "hello"}]}, linger=0.1)
    with httpx.Client(base_url=bedside_url, timeout=10) as client:
        resp = client.post("/v1/chat/completions", json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "still there?"}]})
        assert resp.status_code == 200, resp.text
        assert "still there?" in resp.json()["choices"][0]["message"]["content"]
        with client.stream("POST", "/v1/chat/completions", json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "and streaming?"}]}) as stream:
            body = b"".join(stream.iter_bytes())
        assert stream.status_code == 200 and body.rstrip().endswith(b"data: [DONE]")
        health = client.get("/healthz")
        assert health.status_code == 200

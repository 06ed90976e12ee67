"""Graceful shutdown of a real ``bedside serve``: SIGTERM while a stream is open.

The fake model (``bench/fast_upstream.py``) spaces its 22 stream events 150 ms apart, so a stream
lasts about 3 s. After SIGTERM: ``/readyz`` answers 503 ``draining`` at once, a new request gets a
kind 503 ``shutting_down`` with ``Retry-After``, the open stream ends with ``[DONE]``, the process
exits by itself, and the audit log holds the stream's entry under a checkpoint signed at shutdown
(``bedside audit verify`` passes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from proxy.testing import ServerProcess, bedside_argv, free_port, sse_payloads

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Where is my parcel?"}]}


def _post(url: str, body: dict[str, Any], timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _env(tmp_path: Path, upstream: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update(
        {
            "BEDSIDE_DATA_DIR": str(tmp_path / "data"),
            "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"),
            "BEDSIDE_POLICY__WATCH": "false",
            "BEDSIDE_QUICKSTART": "1",
            "BEDSIDE_UPSTREAM_URL": upstream,
            "BEDSIDE_SERVER__SHUTDOWN_GRACE_SECONDS": "15",
        }
    )
    return env


def test_sigterm_drains_open_streams_refuses_new_requests_and_signs_a_last_checkpoint(tmp_path: Path) -> None:
    up_port, port = free_port(), free_port()
    upstream = ServerProcess([sys.executable, str(REPO / "bench" / "fast_upstream.py"), "--port", str(up_port), "--chunk-gap-ms", "150"], port=up_port, timeout=30)
    env = _env(tmp_path, f"http://127.0.0.1:{up_port}/v1")
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=120)
    server.env = env
    with upstream, server:
        first = _get(server.url + "/readyz")
        assert first[0] == 200, first
        assert _post(server.url + "/v1/chat/completions", BODY)[0] == 200
        stream: dict[str, Any] = {}

        def open_stream() -> None:
            started = time.monotonic()
            stream["result"] = _post(server.url + "/v1/chat/completions", {**BODY, "stream": True})
            stream["seconds"] = time.monotonic() - started

        reader = threading.Thread(target=open_stream)
        reader.start()
        time.sleep(0.8)  # the stream is under way (about 3 s long)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        status, ready = _get(server.url + "/readyz")
        assert (status, ready["status"]) == (503, "draining"), ready
        assert ready["checks"]["drain"]["in_flight"] == 1
        refused_status, headers, refused = _post(server.url + "/v1/chat/completions", BODY)
        assert refused_status == 503 and headers.get("retry-after") == "1"
        error = json.loads(refused)["error"]
        assert error["code"] == "shutting_down" and "retry" in error["message"]
        reader.join(30)
        code, _, body = stream["result"]
        assert code == 200
        payloads = sse_payloads(body)
        assert payloads[-1] == "[DONE]" and payloads[-2]["choices"][0]["finish_reason"] == "stop"
        assert server.proc.wait(timeout=30) == 0, server.output()[-3000:]
    log = server.output()
    assert '"phase":"draining"' in log.replace(" ", "") and '"phase":"stopping"' in log.replace(" ", "")
    verify = subprocess.run(bedside_argv("audit", "verify"), capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # the JSON request and the stream that finished while draining; the refused request never ran
    assert "the audit log verifies: 2 entries" in verify.stdout, verify.stdout
    assert "0 pending" in verify.stdout and "1 of 1 checkpoints verified" in verify.stdout, verify.stdout


def test_sigterm_with_nothing_in_flight_stops_at_once(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=120)
    server.env = {**_env(tmp_path, ""), "BEDSIDE_UPSTREAM_URL": ""}
    with server:
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=15) == 0, server.output()[-3000:]

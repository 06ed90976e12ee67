"""Keys against a running ``bedside serve``: the first key turns authentication on within seconds and
the log says so loudly; revoking the last turns it off, loudly too; ``config show`` says where
authentication comes from; ``/metrics`` takes a ``metrics``-scoped key, which cannot chat."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from proxy.testing import ServerProcess, bedside_argv, free_port

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update({"BEDSIDE_DATA_DIR": str(tmp_path / "data"), "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"), "BEDSIDE_POLICY__WATCH": "false", "BEDSIDE_QUICKSTART": "1"})
    return env


def _bedside(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(bedside_argv(*args), capture_output=True, text=True, env=env, timeout=120, cwd=REPO)


def _get(url: str, key: str | None = None, body: dict[str, Any] | None = None) -> int:
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {key}"} if key else {})
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body else None, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # loopback only
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _auth_events(server: ServerProcess) -> list[dict[str, Any]]:
    return [e for e in (json.loads(line) for line in server.output().splitlines() if line.startswith("{")) if e["event"] == "auth_mode"]


def _wait_for(server: ServerProcess, count: int, seconds: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = _auth_events(server)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no auth_mode line within {seconds}s:\n{server.output()[-3000:]}")


def test_keys_switch_a_running_server_loudly(tmp_path: Path) -> None:
    env = _env(tmp_path)
    port = free_port()
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=90)
    server.env = env
    chat = {"model": "support-agent", "messages": [{"role": "user", "content": "hello"}]}
    with server:
        assert _get(f"{server.url}/v1/chat/completions", body=chat) == 200, "open mode"
        made = _bedside(env, "keys", "create", "--tenant", "acme")
        assert made.returncode == 0 and "This is the first key: authentication is now ON" in made.stderr
        chat_key = made.stdout.strip()
        started = time.monotonic()
        (on,) = _wait_for(server, 1)
        assert time.monotonic() - started < 12, "within seconds"
        assert (on["level"], on["auth"], on["count"]) == ("warning", "keys", 1) and "AUTHENTICATION IS NOW ON" in on["detail"]
        assert _get(f"{server.url}/v1/chat/completions", body=chat) == 401
        assert _get(f"{server.url}/v1/chat/completions", chat_key, chat) == 200

        scraper = _bedside(env, "keys", "create", "--tenant", "ops", "--scopes", "metrics")
        assert scraper.returncode == 0 and "first key" not in scraper.stderr
        metrics_key = scraper.stdout.strip()
        shown = json.loads(_bedside(env, "config", "show").stdout)
        assert shown["api_keys"] == [] and shown["auth"]["mode"] == "keys" and shown["auth"]["keys_in_database"] == 2
        assert "2 in the database" in shown["auth"]["detail"]
        deadline = time.monotonic() + 15
        while _get(f"{server.url}/metrics", metrics_key) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _get(f"{server.url}/metrics", metrics_key) == 200
        assert _get(f"{server.url}/metrics", chat_key) == 403, "a tenant's chat key does not read the metrics"
        assert _get(f"{server.url}/metrics") == 401
        assert _get(f"{server.url}/v1/chat/completions", metrics_key, chat) == 403, "a scraper's key cannot chat"

        for key_id in ("1", "2"):
            assert _bedside(env, "keys", "revoke", key_id).returncode == 0
        off = _wait_for(server, 2)[-1]
        assert (off["auth"], off["level"]) == ("open", "warning") and "AUTHENTICATION IS NOW OFF" in off["detail"]

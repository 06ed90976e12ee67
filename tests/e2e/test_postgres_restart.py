"""PostgreSQL restarted under a running ``bedside serve``: kind failures while it is down, a
reconnect without help, and nothing lost.

The database is a private, throwaway cluster (:class:`proxy.testing.ThrowawayPostgres`, on its
own port), so stopping it never disturbs the machine's shared server. Skipped only when no
PostgreSQL binaries are installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from proxy.testing import ServerProcess, ThrowawayPostgres, bedside_argv, free_port, postgres_bindir

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(postgres_bindir() is None, reason="no PostgreSQL binaries (initdb, pg_ctl) on this machine")]
REPO = Path(__file__).resolve().parents[2]
SORRY = "Sorry, our records are offline for a moment. Please try again shortly."
POLICIES = {
    "default.yaml": "description: memory on\nowner: tests\npii: {enabled: true}\nmemory: {enabled: true}\n",
    "strict.yaml": f"description: every request audited\nowner: tests\nrouting: {{aliases: [strict-model]}}\naudit: {{on_failure: fail_closed}}\nmicrocopy: {{texts: {{en: {{error: '{SORRY}'}}}}}}\n",
}


def _call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _chat(url: str, model: str, text: str, user: str, conversation: str) -> tuple[int, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return _call("POST", url + "/v1/chat/completions", body, {"X-Bedside-User": user, "X-Bedside-Conversation": conversation})


def test_postgres_restart_fails_kindly_reconnects_and_loses_nothing(tmp_path: Path) -> None:
    pdir = tmp_path / "policies"
    pdir.mkdir()
    for name, text in POLICIES.items():
        (pdir / name).write_text(text)
    with ThrowawayPostgres() as pg:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
        env.update(
            {
                "BEDSIDE_DATA_DIR": str(tmp_path / "data"),
                "BEDSIDE_POLICY__DIRECTORY": str(pdir),
                "BEDSIDE_POLICY__WATCH": "false",
                "BEDSIDE_QUICKSTART": "1",
                "BEDSIDE_DATABASE__URL": pg.url,
            }
        )
        port = free_port()
        server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=120)
        server.env = env
        chats = 0  # chat requests made
        refused = 0  # of them, refused while the database was down (no outcome: only a 200 has one)
        with server:
            url = server.url
            assert _call("PUT", url + "/v1/users/ann/consent", {"purpose": "memory", "granted": True})[0] == 200
            assert _chat(url, "gpt-4o-mini", "I'm vegetarian.", "ann", "c-before")[0] == 200
            assert _chat(url, "strict-model", "Where is my order?", "bob", "c-strict")[0] == 200
            chats += 2
            before = _call("GET", url + "/v1/users/ann/memories")[1]["data"]
            assert [m["text"] for m in before] == ["I'm vegetarian."]

            pg.stop()
            # a fail_open policy still answers (consent cannot be read, so nothing is granted: fail closed for memory)
            status, body = _chat(url, "gpt-4o-mini", "I also love tennis.", "ann", "c-down")
            assert status == 200 and body["choices"][0]["message"]["content"]
            chats += 1
            # the audit writer notices the database is gone; a fail_closed policy is then refused with its microcopy
            deadline = time.monotonic() + 30
            while True:
                status, body = _chat(url, "strict-model", "Where is my order?", "bob", "c-strict")
                chats += 1
                refused += status != 200
                if status == 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert status == 503 and body["error"]["code"] == "audit_unavailable", body
            assert body["error"]["message"] == SORRY
            # privacy changes fail closed, kindly; readiness says why
            status, body = _call("PUT", url + "/v1/users/ann/consent", {"purpose": "memory", "granted": False})
            assert status == 503 and "Try again" in body["error"]["message"]
            status, ready = _call("GET", url + "/readyz")
            assert status == 503 and ready["checks"]["database"]["ok"] is False
            # a read that needs the database: a kind 503 to retry, not a 500
            status, body = _call("GET", url + "/v1/users/ann/memories")
            assert status == 503 and body["error"]["code"] == "database_unavailable" and "try again" in body["error"]["message"], body
            # an export is a 503 to retry, never a 200 whose document is cut off after its first byte
            status, body = _call("GET", url + "/v1/users/ann/export")
            assert status == 503 and body["error"]["code"] in ("audit_unavailable", "database_unavailable"), body

            pg.start()
            deadline = time.monotonic() + 60
            while _chat(url, "strict-model", "Still there?", "bob", "c-after")[0] != 200:
                chats += 1
                refused += 1
                assert time.monotonic() < deadline, "Bedside did not reconnect by itself"
                time.sleep(0.3)
            chats += 1
            assert _call("GET", url + "/readyz")[0] == 200
            after = _call("GET", url + "/v1/users/ann/memories")[1]["data"]
            assert [m["id"] for m in after] == [m["id"] for m in before]  # written before the restart, still there
            assert _call("GET", url + "/v1/users/ann/consent")[1]["purposes"]["memory"]["granted"] is True  # the refused withdrawal never happened
        assert server.proc is not None and server.proc.returncode == 0, server.output()[-3000:]
        engine = sa.create_engine(pg.url)
        with engine.connect() as conn:
            counted = conn.execute(sa.text("SELECT coalesce(sum(requests), 0) FROM conversation_outcomes")).scalar_one()
        engine.dispose()
        # every served chat request's outcome facts were written once: those of the downtime after the reconnect
        assert counted == chats - refused, (counted, chats, refused)
        verify = subprocess.run(bedside_argv("audit", "verify"), capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        # every chat request has its entry (also those served or refused while the database was down), and the consent grant
        assert f"the audit log verifies: {chats + 1} entries" in verify.stdout, verify.stdout

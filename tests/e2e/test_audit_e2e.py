"""The audit log end to end: the official ``openai`` client -> ``bedside serve`` (the example
policies, the in-process demo model); the checkpoint the API serves verifies, a normal stop writes
the queue out and signs a last checkpoint, and ``bedside audit verify`` then passes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import openai
import pytest

from proxy.audit.note import Signer, Verifier
from proxy.audit.verify import verify_entry
from proxy.testing import ServerProcess, bedside_argv, free_port

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        data: dict[str, object] = json.loads(resp.read())
    return data


def test_serve_records_signs_and_verifies(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update(
        {
            "BEDSIDE_DATA_DIR": str(tmp_path / "data"),
            "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"),
            "BEDSIDE_POLICY__WATCH": "false",
            "BEDSIDE_QUICKSTART": "1",  # the KEK in the data directory (this test is about the audit log)
            # as in production: the checkpoint signing key comes from a secret variable, not the data directory
            "BEDSIDE_E2E_AUDIT_KEY": Signer.generate("bedside.e2e/audit").text(),
            "BEDSIDE_AUDIT__SIGNING_KEY_ENV": "BEDSIDE_E2E_AUDIT_KEY",
        }
    )
    port = free_port()
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, env={}, timeout=90)
    server.env = env
    with server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0, timeout=20)
        for i in range(3):
            reply = client.chat.completions.create(model="support-agent", messages=[{"role": "user", "content": f"Where is order A-10{i}?"}], user="ann")
            assert reply.choices[0].message.content
        chunks = list(client.chat.completions.create(model="support-agent", messages=[{"role": "user", "content": "And my refund?"}], stream=True))
        assert chunks
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("no-such-model")
        client.close()
        cp = _get(f"{server.url}/v1/audit/checkpoint?refresh=true")
        assert cp["tree_size"] == 4  # the 4 chat requests (the model lookup is not a proxied request)
        proof = _get(f"{server.url}/v1/audit/proof/inclusion?index=3")
        again = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0, timeout=20)
        again.chat.completions.create(model="support-agent", messages=[{"role": "user", "content": "Thanks!"}])
        again.close()
    # SIGTERM: uvicorn shuts down gracefully (lifespan: the audit queue is written, a last
    # checkpoint signed), then re-raises the signal, so the exit status is -15
    assert server.proc is not None and server.proc.returncode in (0, -15), server.output()[-3000:]
    verify = subprocess.run(bedside_argv("audit", "verify"), capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "OK: the audit log verifies: 5 entries" in verify.stdout
    assert "2 of 2 checkpoints verified" in verify.stdout  # the one served, and the one signed at shutdown
    tail = subprocess.run(bedside_argv("audit", "tail", "-n", "2"), capture_output=True, text=True, env=env, timeout=120, cwd=REPO)
    last = json.loads(tail.stdout.splitlines()[0])
    assert last["entry"]["stream"] is True and last["entry"]["policy"] == "customer-service"
    payload = json.dumps(last["entry"], separators=(",", ":"), ensure_ascii=False).encode()
    hashes = [base64.b64decode(h) for h in proof["hashes"]]  # type: ignore[union-attr]
    assert str(cp["note"]).startswith("bedside.e2e/audit\n4\n")
    assert not (tmp_path / "data" / "audit-signing.key").exists()
    verify_entry(payload, 3, hashes, str(cp["note"]), [Verifier.parse(str(cp["verifier_key"]))])

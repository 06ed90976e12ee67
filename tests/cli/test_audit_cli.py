"""``bedside audit ...`` as a person runs it (the real command in a subprocess): key changes are
recorded, verify passes, then names a tampered entry and exits 1; export and record refuse a
reason that holds personal data."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

from proxy.testing import bedside_argv

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env["BEDSIDE_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(bedside_argv(*args), capture_output=True, text=True, env=env, timeout=120, cwd=REPO)


def test_audit_commands(tmp_path: Path) -> None:
    assert _run(tmp_path, "keys", "create", "--tenant", "acme", "--scopes", "chat,admin", "--reason", "partner onboarding").returncode == 0
    assert _run(tmp_path, "keys", "revoke", "1", "--reason", "rotated").returncode == 0
    bad = _run(tmp_path, "audit", "record", "--action", "note", "--reason", "asked by ann@example.com")
    assert bad.returncode == 2 and "must not name people" in bad.stderr
    assert _run(tmp_path, "audit", "record", "--action", "backup_restored", "--reason", "restore drill").returncode == 0
    cp = _run(tmp_path, "audit", "checkpoint")
    assert cp.returncode == 0 and cp.stdout.split("\n")[1] == "3"
    (tmp_path / "kept.checkpoint").write_text(cp.stdout)
    tail = _run(tmp_path, "audit", "tail", "-n", "2")
    entries = [json.loads(line)["entry"] for line in tail.stdout.splitlines()]
    assert [(e["index"], e["kind"], e.get("action")) for e in entries] == [(1, "api_key", "revoke"), (2, "admin", "backup_restored")]
    ok = _run(tmp_path, "audit", "verify", "--checkpoint", str(tmp_path / "kept.checkpoint"), "--progress-every", "1")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK: the audit log verifies: 3 entries" in ok.stdout and "2 of 2 checkpoints verified" in ok.stdout
    assert "verified 3 of 3 entries" in ok.stderr  # progress
    export = _run(tmp_path, "audit", "export", "--since", "1", "--reason", "quarterly review")
    lines = [json.loads(line) for line in export.stdout.splitlines()]
    assert [line["index"] for line in lines[:-1]] == [1, 2] and lines[-1]["object"] == "audit.checkpoint" and lines[-1]["tree_size"] == 4
    assert "recorded as entry 3" in export.stderr
    db = sqlite3.connect(tmp_path / "data" / "bedside.db")
    db.execute("UPDATE audit_entries SET payload = replace(payload, 'rotated', 'expired') WHERE idx = 1")
    db.commit()
    db.close()
    bad_log = _run(tmp_path, "audit", "verify")
    assert bad_log.returncode == 1
    assert "FAIL leaf_hash at index 1: the entry's bytes do not match its stored leaf hash" in bad_log.stdout
    assert "FAIL checkpoint_root at index 0" in bad_log.stdout
    assert "does NOT verify" in bad_log.stdout
    key = _run(tmp_path, "audit", "key")
    assert key.returncode == 0 and key.stdout.strip().startswith("bedside-audit-")
    made = _run(tmp_path, "audit", "keygen", "--out", str(tmp_path / "k" / "signing.key"), "--name", "audit.example/log")
    assert made.returncode == 0 and made.stdout.startswith("audit.example/log+")
    assert (tmp_path / "k" / "signing.key").stat().st_mode & 0o777 == 0o600
    assert _run(tmp_path, "audit", "keygen", "--out", str(tmp_path / "k" / "signing.key")).returncode == 1

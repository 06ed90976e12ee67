"""The deletion receipt carries the audit log's proof, and `bedside audit verify-receipt` checks it offline.

A real erasure (``DELETE /v1/users/{user}`` through the app, audit log wired by ``build_services``)
answers a receipt whose entry, checkpoint and inclusion proof verify with nothing but the verifier
key ``bedside audit key`` prints; a receipt with a changed count, a changed index, an entry edited
to match, or a checkpoint signed by another key fails, and the output names the check. The export is
recorded too, and lists the user's audit entries. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import AsyncTestClient

from proxy.app import create_app
from proxy.audit.checkpoint import parse_body, sign_checkpoint
from proxy.audit.note import Signer, split
from proxy.audit_rights import ReceiptError, verify_receipt
from proxy.testing import bedside_argv
from tests.api.test_rights_routes import ACME, KEYS
from tests.privacy.rights_world import ERASED, World, settings_for
from tests.storage.dbs import db_url  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:  # noqa: F811
    w = World.build(db_url, tmp_path / "data")
    w.seed("acme", "alice", "CANARYALICE")
    w.seed("acme", "bob", "CANARYBOB")
    yield w
    w.close()


def _bedside(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update({"BEDSIDE_DATA_DIR": str(world.settings.data_dir), "BEDSIDE_DATABASE__URL": world.settings.database_url()})
    return subprocess.run(bedside_argv(*args), capture_output=True, text=True, env=env, timeout=120, cwd=REPO)


def _write(path: Path, receipt: dict[str, Any]) -> str:
    path.write_text(json.dumps(receipt), encoding="utf-8")
    return str(path)


async def test_a_real_erasures_receipt_verifies_offline_and_tampering_is_named(world: World, tmp_path: Path) -> None:
    app = create_app(settings_for(world.settings.database_url(), world.settings.data_dir, api_keys=KEYS))
    alice = world.who("acme", "alice")
    async with AsyncTestClient(app) as c:
        export = await c.get("/v1/users/alice/export", headers=ACME)
        assert export.status_code == 200, export.text
        r = await c.delete("/v1/users/alice", headers=ACME)
        assert r.status_code == 200, r.text
        receipt: dict[str, Any] = r.json()
        verifier = app.state.services.audit.signer.verifier
    # the export lists her audit entries: the export's own entry, recorded before it streamed
    (exported,) = [e for e in export.json()["audit_events"] if e["event"]["kind"] == "user_data"]
    assert exported["audit_log_entry"] is True and (exported["event"]["action"], exported["event"]["subject"]) == ("exported", alice.scope.subject)

    proof = receipt["audit"]
    assert set(proof) == {"index", "checkpoint", "inclusion_proof", "entry"}
    entry = json.loads(proof["entry"])
    assert (entry["index"], entry["kind"], entry["action"], entry["subject"], entry["erasure_id"], entry["erased"]) == (
        proof["index"], "user_data", "erased", alice.scope.subject, receipt["id"], ERASED
    )
    assert "alice" not in proof["entry"] and "CANARY" not in proof["entry"]  # the user only as subject HMAC
    with world.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT payload FROM audit_entries WHERE idx = :i"), {"i": proof["index"]}).scalar_one()
    assert bytes(stored).decode() == proof["entry"]  # the receipt holds the entry exactly as logged

    # offline: the key `bedside audit key` prints checks it
    key = _bedside(world, "audit", "key")
    assert key.returncode == 0 and key.stdout.strip() == verifier.text()
    assert verify_receipt(receipt, [verifier]).id == receipt["id"]
    ok = _bedside(world, "audit", "verify-receipt", _write(tmp_path / "receipt.json", receipt))
    assert ok.returncode == 0 and ok.stdout.startswith(f"OK: erasure {receipt['id']} is entry {proof['index']}"), ok.stdout + ok.stderr

    count = copy.deepcopy(receipt)
    count["erased"]["memories"] += 1
    index = copy.deepcopy(receipt)
    index["audit"]["index"] += 1
    both = copy.deepcopy(count)  # the count changed in the receipt and in the entry alike: the proof no longer leads to the root
    both["audit"]["entry"] = proof["entry"].replace('"memories":2', '"memories":3')
    assert both["audit"]["entry"] != proof["entry"]
    origin, size, root = parse_body(split(proof["checkpoint"])[0])
    forged = copy.deepcopy(receipt)  # the same tree, signed by a key of the same name that is not the deployment's
    forged["audit"]["checkpoint"] = sign_checkpoint(Signer.generate(verifier.name), origin, size, root).note
    cases = {"facts": count, "entry": index, "inclusion": both, "checkpoint": forged}
    for check, tampered in cases.items():
        with pytest.raises(ReceiptError) as caught:
            verify_receipt(tampered, [verifier])
        assert caught.value.check == check, (check, str(caught.value))
        out = _bedside(world, "audit", "verify-receipt", "--key", verifier.text(), _write(tmp_path / f"{check}.json", tampered))
        assert out.returncode == 1 and out.stdout.startswith(f"FAIL {check}: ") and "does NOT verify" in out.stdout, (check, out.stdout, out.stderr)
    # with the deployment's key (no --key): the changed count is named, with both values
    facts = _bedside(world, "audit", "verify-receipt", str(tmp_path / "facts.json"))
    assert facts.returncode == 1 and "rows deleted per table" in facts.stdout and "'memories': 3" in facts.stdout and "'memories': 2" in facts.stdout, facts.stdout


def test_a_receipt_without_an_audit_proof_is_named(tmp_path: Path) -> None:
    receipt = {"object": "user.erasure_receipt", "schema_version": 1, "id": "e1", "tenant": "acme", "started_at": "2026-12-06T09:00:00Z", "completed_at": "2026-12-06T09:00:01Z",
               "attempts": 1, "erased": {}, "consent": {"kept": 0, "detached_as": "x", "holds": "y"}, "data_keys_destroyed": [], "audit": None}
    with pytest.raises(ReceiptError) as caught:
        verify_receipt(receipt, [Signer.generate("bedside-test").verifier])
    assert caught.value.check == "audit" and "no audit log" in caught.value.detail

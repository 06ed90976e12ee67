"""``bedside users export`` and ``bedside users erase``, in process, over the example policies and a configured upstream."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import jsonschema
import pytest

from proxy.cli import main
from tests.privacy.rights_world import ERASED, World

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "docs" / "export.schema.json").read_text())


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    world = World.build(f"sqlite:///{(data / 'bedside.db').resolve()}", data)
    world.seed("acme", "alice", "CANARYALICE")
    world.seed("acme", "bob", "CANARYBOB")
    world.close()
    for name in [n for n in os.environ if n.startswith("BEDSIDE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(data))
    monkeypatch.setenv("BEDSIDE_POLICY__DIRECTORY", str(REPO / "policies"))
    monkeypatch.setenv("BEDSIDE_UPSTREAM_URL", "https://api.openai.com/v1")
    return data


def test_export_writes_a_new_private_file(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "alice.json"
    assert main(["users", "export", "alice", "--tenant", "acme", "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["complete"] is True and doc["counts"]["transcripts"] == 3 and "CANARYALICE@example.com" in out.read_text() and "CANARYBOB" not in out.read_text()
    # the recipients are the deployment's: the upstream the example policies send to, redacted where they redact
    providers = [r for r in doc["processing"]["recipients"] if r["kind"] == "model_provider"]
    assert {r["host"] for r in providers} == {"api.openai.com"}
    assert "healthcare-intake" in {p for r in providers for p in r["policies"]}
    assert {r["data"] for r in doc["processing"]["retention"]} >= {"consent_receipts", "transcripts", "handoff_events", "data_keys"}
    with pytest.raises(SystemExit, match="does not overwrite"):
        main(["users", "export", "alice", "--tenant", "acme", "--out", str(out)])
    capsys.readouterr()
    assert main(["users", "export", "bob", "--tenant", "acme"]) == 0  # to standard output
    assert json.loads(capsys.readouterr().out)["user"] == "bob"


def test_erase_prints_the_receipt_and_unknown_users_exit_1(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "export", "alice", "--tenant", "globex"]) == 1  # another tenant's alice does not exist
    assert "nothing to do" in capsys.readouterr().err
    assert main(["users", "erase", "alice", "--tenant", "acme"]) == 0
    receipt = json.loads(capsys.readouterr().out)
    assert receipt["erased"] == ERASED and receipt["user"] == "alice"
    assert main(["users", "erase", "alice", "--tenant", "acme"]) == 1
    assert main(["users", "export", "bob", "--tenant", "acme"]) == 0

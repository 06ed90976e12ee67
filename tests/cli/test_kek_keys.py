"""`bedside kek generate | rotate` and `bedside keys create --scopes`, via main() against a temp data
dir (SQLite) and PostgreSQL, plus one real subprocess."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from proxy.cli import main
from proxy.crypto.envelope import Envelope, FieldRef
from proxy.crypto.keys import FileKeyProvider, LocalKeyProvider, kek_id_for
from proxy.crypto.subjects import SubjectKey
from proxy.storage import migrate
from proxy.storage.engine import make_engine
from proxy.storage.repositories import DataKeyMaintenance, PrivacyRepository
from proxy.testing import bedside_argv
from tests.storage.dbs import db_url  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]
SUBJECTS = SubjectKey(b"s" * 32)
REF = FieldRef("transcripts", "row-1", "content")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> str:  # noqa: F811 - the imported fixture
    for name in list(os.environ):
        if name.startswith("BEDSIDE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BEDSIDE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BEDSIDE_DATABASE__URL", db_url)
    return db_url


def test_generate_writes_0600_prints_only_the_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "keys" / "new.kek"
    assert main(["kek", "generate", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    kek_line = out.read_text().strip()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    provider = FileKeyProvider(out)
    assert printed.out.strip() == provider.current_kek_id == kek_id_for(bytes.fromhex(kek_line))
    assert kek_line not in printed.out + printed.err
    # never overwrites a KEK
    assert main(["kek", "generate", "--out", str(out)]) == 1
    assert out.read_text().strip() == kek_line
    assert "refusing to overwrite" in capsys.readouterr().err


def test_rotate_rewraps_with_progress_and_data_stays_readable(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_file, new_file = tmp_path / "old.kek", tmp_path / "new.kek"
    assert main(["kek", "generate", "--out", str(old_file)]) == 0
    assert main(["kek", "generate", "--out", str(new_file)]) == 0
    capsys.readouterr()
    migrate.upgrade(env)
    engine = make_engine(env)
    try:
        old = FileKeyProvider(old_file)
        new = FileKeyProvider(new_file)
        repo = PrivacyRepository(engine)
        blobs = {}
        for i in range(5):
            scope = SUBJECTS.scope("acme", f"user-{i}")
            blobs[scope] = Envelope(repo, old).encrypt_sync(scope, REF, f"secret {i}".encode())
        assert main(["kek", "rotate", "--old", str(old_file), "--new", str(new_file), "--batch", "2"]) == 0
        out = capsys.readouterr().out
        assert "re-wrapping keys 1-2" in out and "re-wrapping keys 5-5" in out
        assert "re-wrapped 5 data key(s)" in out and "old KEK can be removed" in out
        assert DataKeyMaintenance(engine).count_by_kek() == {new.current_kek_id: 5}
        for i, (scope, blob) in enumerate(blobs.items()):
            assert Envelope(repo, new).decrypt_sync(scope, REF, blob) == f"secret {i}".encode()
        # idempotent
        assert main(["kek", "rotate", "--old", str(old_file), "--new", str(new_file)]) == 0
        assert "re-wrapped 0 data key(s)" in capsys.readouterr().out
        # a KEK file that cannot unwrap: exit 1, nothing changed
        stranger = tmp_path / "stranger.kek"
        assert main(["kek", "generate", "--out", str(stranger)]) == 0
        assert main(["kek", "rotate", "--old", str(stranger), "--new", str(old_file)]) == 1
        assert "rotation stopped" in capsys.readouterr().err
        assert DataKeyMaintenance(engine).count_by_kek() == {new.current_kek_id: 5}
    finally:
        engine.dispose()


def test_rotate_with_unreadable_kek_file_exits_2(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kek", "rotate", "--old", str(tmp_path / "nope"), "--new", str(tmp_path / "nope2")]) == 2
    assert "cannot read the KEKs" in capsys.readouterr().err


def test_keys_create_with_scopes(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--tenant", "acme", "--scopes", "chat,privacy"]) == 0
    created = capsys.readouterr()
    key = created.out.strip()
    assert key.startswith("bsk-") and "scopes chat,privacy" in created.err
    assert main(["keys", "create", "--tenant", "acme"]) == 0
    capsys.readouterr()
    engine = make_engine(env)
    try:
        with engine.connect() as conn:
            assert [r[0] for r in conn.execute(sa.text("SELECT scopes FROM api_keys ORDER BY id"))] == ["chat privacy", "chat"]
    finally:
        engine.dispose()
    assert main(["keys", "list"]) == 0
    assert "\tchat,privacy\t" in capsys.readouterr().out
    assert main(["keys", "create", "--tenant", "acme", "--scopes", "chat,root"]) == 2
    assert "unknown scope" in capsys.readouterr().err


def test_kek_generate_as_a_subprocess(tmp_path: Path) -> None:
    out = tmp_path / "k"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    done = subprocess.run(bedside_argv("kek", "generate", "--out", str(out)), capture_output=True, text=True, env=env, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == LocalKeyProvider([bytes.fromhex(out.read_text().strip())]).current_kek_id

"""Building the privacy services from settings: embedded key files, KEK from a variable, notice, KEK check."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from proxy.crypto.envelope import FieldRef
from proxy.crypto.keys import KeyUnavailable, generate_kek
from proxy.privacy.consent import BUILTIN
from proxy.privacy.wiring import build_privacy, missing_keks
from proxy.settings import Settings
from proxy.storage import migrate
from proxy.storage.engine import make_engine


def test_embedded_defaults_are_created_once_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    migrate.upgrade(settings.database_url())
    engine = make_engine(settings.database_url())
    first = build_privacy(settings, engine)
    for name in ("kek.key", "privacy-subject.key"):
        assert (tmp_path / "data" / name).stat().st_mode & 0o777 == 0o600
    assert first.ledger.notice == BUILTIN
    scope = first.subjects.scope("open", "alice")
    blob = first.envelope.encrypt_sync(scope, FieldRef("t", "r", "c"), b"x")
    again = build_privacy(settings, engine)  # a restart: same keys, same subjects
    assert again.subjects.scope("open", "alice") == scope
    assert again.envelope.decrypt_sync(scope, FieldRef("t", "r", "c"), blob) == b"x"
    assert missing_keks(engine, again.keys) == {}
    engine.dispose()


def test_kek_from_a_variable_and_the_start_up_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    monkeypatch.setenv("MY_KEK", generate_kek())
    p1 = build_privacy(Settings(data_dir=tmp_path, database={"url": url}, privacy={"kek_env": "MY_KEK", "db_threads": 2}), engine)
    assert p1.repo.limiter.total_tokens == 2
    p1.envelope.encrypt_sync(p1.subjects.scope("acme", "bob"), FieldRef("t", "r", "c"), b"x")
    monkeypatch.setenv("MY_KEK", generate_kek())  # the operator lost the KEK
    p2 = build_privacy(Settings(data_dir=tmp_path, database={"url": url}, privacy={"kek_env": "MY_KEK"}), engine)
    assert missing_keks(engine, p2.keys) == {p1.keys.current_kek_id: 1}
    monkeypatch.delenv("MY_KEK")
    with pytest.raises(KeyUnavailable):
        build_privacy(Settings(data_dir=tmp_path, database={"url": url}, privacy={"kek_env": "MY_KEK"}), engine)
    engine.dispose()


def test_configured_notice_and_files(tmp_path: Path) -> None:
    (tmp_path / "notice.txt").write_text("Our notice.", encoding="utf-8")
    (tmp_path / "kek").write_text(generate_kek() + "\n")
    (tmp_path / "subject").write_text("ab" * 32)
    settings = Settings(
        data_dir=tmp_path / "d",
        privacy={"notice_file": tmp_path / "notice.txt", "notice_version": "2027-01", "kek_file": tmp_path / "kek", "subject_key_file": tmp_path / "subject"},
    )
    engine = make_engine(settings.database_url())
    p = build_privacy(settings, engine)
    assert (p.ledger.notice.version, p.ledger.notice.text) == ("2027-01", "Our notice.")
    assert not (tmp_path / "d" / "kek.key").exists()
    engine.dispose()
    with pytest.raises(ValidationError, match="notice_version"):
        Settings(privacy={"notice_file": tmp_path / "notice.txt"})

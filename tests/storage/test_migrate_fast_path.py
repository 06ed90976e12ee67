"""Start-up against a migrated database: the head is read from the scripts, alembic is not loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from proxy.storage import migrate

REPO = Path(__file__).resolve().parents[2]


def test_the_scripts_head_is_alembics_head() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.migrations_dir()))
    assert migrate.script_heads() == set(ScriptDirectory.from_config(cfg).get_heads())


def test_at_head_follows_upgrades_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    assert migrate.at_head(url) is False  # no alembic_version table yet
    migrate.upgrade(url)
    assert migrate.at_head(url) is True
    (head,) = migrate.script_heads() or ()
    migrate.downgrade(url, "-1")
    assert migrate.at_head(url) is False and migrate.database_revisions(url) != {head}
    migrate.upgrade(url)
    assert migrate.database_revisions(url) == {head}


def test_upgrading_a_migrated_database_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate.upgrade(url)
    probe = f"import sys; from proxy.storage import migrate; migrate.upgrade({url!r}); print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"

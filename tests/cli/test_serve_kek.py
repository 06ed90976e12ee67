"""``bedside serve`` and the key-encryption key: refused without one, except in the quick start."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from proxy.crypto.keys import generate_kek
from proxy.testing import ServerProcess, bedside_argv, free_port

REPO = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update(BEDSIDE_DATA_DIR=str(tmp_path / "data"), BEDSIDE_POLICY__DIRECTORY=str(REPO / "policies"), BEDSIDE_POLICY__WATCH="false")
    env.update(extra)
    return env


def test_serve_without_a_kek_refuses_to_start_and_says_what_to_do(tmp_path: Path) -> None:
    out = subprocess.run(bedside_argv("serve", "--port", str(free_port())), env=_env(tmp_path), capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 2
    assert "Bedside cannot start: no key-encryption key (KEK) is configured." in out.stderr
    assert "bedside kek generate --out" in out.stderr and "BEDSIDE_PRIVACY__KEK_FILE" in out.stderr and "--quickstart" in out.stderr
    assert not (tmp_path / "data" / "kek.key").exists(), "a refused start must not leave a KEK behind"


def test_quickstart_keeps_a_kek_in_the_data_directory_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    with ServerProcess(bedside_argv("serve", "--port", str(port), "--quickstart"), port=port, env=_env(tmp_path, BEDSIDE_QUICKSTART="0"), timeout=120) as server:
        pass
    kek = tmp_path / "data" / "kek.key"
    assert kek.is_file() and (kek.stat().st_mode & 0o777) == 0o600
    assert f"Quick start: Generated a key-encryption key in {kek}." in server.output()
    # the environment variable works as the flag does, and a second start reuses the key
    with ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, env=_env(tmp_path, BEDSIDE_QUICKSTART="1"), timeout=120) as again:
        pass
    assert f"Quick start: Using the key-encryption key in {kek}." in again.output()


def test_a_configured_kek_needs_no_quickstart_and_nothing_is_written_to_the_data_directory(tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, BEDSIDE_QUICKSTART="0", BEDSIDE_TEST_KEK=generate_kek(), BEDSIDE_PRIVACY__KEK_ENV="BEDSIDE_TEST_KEK")
    with ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, env=env, timeout=120) as server:
        pass
    assert "Quick start" not in server.output()
    assert not (tmp_path / "data" / "kek.key").exists()

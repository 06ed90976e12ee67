"""The docs' commands work as written in a fresh clone: ``bedside`` is not on the PATH after
``make run`` (it lives in ``.venv/bin``), so runnable blocks say ``.venv/bin/bedside``, and
``make shell`` gives a shell where plain ``bedside`` works."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "policies" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
#: fenced blocks a reader pastes into a shell (no language, or a shell's)
_RUNNABLE = {"", "sh", "bash", "shell", "console"}
_BARE = re.compile(r"^\s*(?:\$\s+)?(?:[A-Z_]+=\S+\s+)*bedside\s")


def _bare_commands(path: Path) -> list[str]:
    found: list[str] = []
    fence: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        opened = re.match(r"^\s*```(\w*)", line)
        if opened:
            fence = None if fence is not None else opened.group(1)
            continue
        if fence in _RUNNABLE and _BARE.match(line):
            found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_runnable_blocks_reach_the_command(path: Path) -> None:
    assert _bare_commands(path) == [], "write .venv/bin/bedside (the README's Commands section says why)"


def test_the_readme_says_how_to_reach_the_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = readme[readme.index("## Commands") :]
    assert "`.venv/bin/bedside`" in commands and "make shell" in commands


def test_make_shell_puts_the_command_on_the_path(tmp_path: Path) -> None:
    """``make shell`` with a stand-in .venv (the real one takes minutes to install)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "bedside"
    fake.write_text("#!/bin/sh\necho bedside-from-venv\n")
    fake.chmod(0o755)
    (venv / ".installed").touch()
    os.utime(venv / ".installed", (4_000_000_000, 4_000_000_000))  # newer than the lock files: nothing to install
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL")}
    env.update(SHELL="/bin/sh", PATH="/usr/bin:/bin")
    out = subprocess.run(["make", "-s", "shell", f"VENV={venv}"], input="bedside\nexit\n", capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "bedside-from-venv" in out.stdout
    assert "'bedside --help'" in out.stdout

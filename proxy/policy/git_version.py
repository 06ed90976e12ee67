"""Which git commit a policy directory is checked out at (for ``x-bedside-policy-version``).

Reads ``.git`` directly (worktrees and packed refs included) and falls back to
``git rev-parse HEAD`` with a 2 s timeout; never raises.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["git_commit"]

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def _read_ref(gitdir: Path, common: Path, ref: str) -> str | None:
    for base in (gitdir, common):
        candidate = base / ref
        if candidate.is_file():
            return candidate.read_text().strip()
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref:
                return sha
    return None


def _head_from_files(dotgit: Path) -> str | None:
    gitdir = dotgit
    if dotgit.is_file():  # a worktree or submodule: "gitdir: <path>"
        target = dotgit.read_text().strip().removeprefix("gitdir:").strip()
        gitdir = (dotgit.parent / target).resolve()
    common = gitdir
    if (gitdir / "commondir").is_file():
        common = (gitdir / (gitdir / "commondir").read_text().strip()).resolve()
    head = (gitdir / "HEAD").read_text().strip()
    sha = _read_ref(gitdir, common, head[4:].strip()) if head.startswith("ref:") else head
    return sha if sha and _SHA.match(sha) else None


def git_commit(directory: Path) -> str | None:
    """The commit checked out in the git work tree holding ``directory``, or ``None``.

    Reads ``.git`` directly and falls back to ``git rev-parse HEAD`` (2 s timeout); never raises.
    """
    try:
        start = directory.resolve()
        for folder in (start, *start.parents):
            dotgit = folder / ".git"
            if dotgit.exists():
                sha = _head_from_files(dotgit)
                if sha:
                    return sha
                break
        else:
            return None
        git = shutil.which("git")
        if git is None:
            return None
        done = subprocess.run(  # noqa: S603  # fixed argv, no shell, git resolved by which()
            [git, "rev-parse", "HEAD"],
            cwd=start,
            capture_output=True,
            text=True,
            timeout=2,
            check=False,
        )
        sha = done.stdout.strip()
        return sha if done.returncode == 0 and _SHA.match(sha) else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None

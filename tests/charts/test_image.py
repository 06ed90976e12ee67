"""The container image is built from the runtime lock only: no test or lint tool ends up inside.

No docker engine runs on the development and CI machines, so ``docker build`` is not run here;
these tests read what the build reads (the Dockerfile, ``.dockerignore`` and the lock files) and
check what it would install and copy.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

from tests.charts.chart_support import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
#: what only tests, linters and the chart checks need (all in the `dev` extra)
TEST_AND_LINT_TOOLS = {"pytest", "pytest-asyncio", "hypothesis", "schemathesis", "respx", "ruff", "mypy", "import-linter", "helm-python-sdk", "kubernetes-validate", "playwright"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(lock: Path) -> set[str]:
    return {_normalise(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", lock.read_text(), re.MULTILINE)}


def _requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    assert match, spec
    return _normalise(match.group(0))


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "") for line in text.splitlines() if line.strip()]


def test_the_image_installs_the_runtime_lock_and_nothing_else() -> None:
    copies = [args.split() for op, args in _instructions() if op == "COPY" and not args.startswith("--from")]
    locks = [src for parts in copies for src in parts[:-1] if src.endswith(".lock") or "requirements" in src.lower()]
    assert locks == ["requirements-runtime.lock"], f"the image must copy only the runtime lock, copies {locks}"
    assert "ARG REQUIREMENTS" not in DOCKERFILE  # no build argument can swap in the dev lock
    installs = [args for op, args in _instructions() if op == "RUN" and "pip install" in args]
    from_lock = [cmd for cmd in installs if " -r " in cmd]
    assert len(from_lock) == 1 and "--require-hashes" in from_lock[0] and "--no-deps" in from_lock[0]
    for cmd in installs:  # the package itself: --no-deps, so nothing outside the lock arrives with it
        assert "--no-deps" in cmd, cmd
        assert "[dev]" not in cmd and "--extra" not in cmd


def test_the_runtime_lock_holds_no_test_or_lint_tool_and_every_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = {_requirement_name(spec) for spec in project["optional-dependencies"]["dev"]}
    assert TEST_AND_LINT_TOOLS <= dev, "the tool list names packages of the dev extra"
    locked = _locked(RUNTIME_LOCK)
    inside = sorted(name for name in locked if name in TEST_AND_LINT_TOOLS or name.startswith(("pytest", "types-")))
    assert inside == [], f"test or lint tools in the runtime lock: {inside} (compile it without --extra dev: `make lock`)"
    missing = sorted({_requirement_name(spec) for spec in project["dependencies"]} - locked)
    assert missing == [], f"runtime dependencies missing from the runtime lock: {missing} (`make lock`)"
    header = RUNTIME_LOCK.read_text().splitlines()[:3]
    assert any("uv pip compile pyproject.toml" in line and "--extra" not in line for line in header)


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics: the last matching pattern wins; `!` re-includes."""
    ignored = False
    parts = path.split("/")
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # a pattern matching a parent directory covers the file
        if any(fnmatch.fnmatchcase(prefix, body) for prefix in prefixes) or (body.startswith("**/") and fnmatch.fnmatchcase(path, body[3:])):
            ignored = not negated
    return ignored


def test_the_build_context_carries_what_the_dockerfile_copies_and_not_the_dev_lock() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    copies = [args.split() for op, args in _instructions() if op == "COPY" and not args.startswith("--from")]
    for parts in copies:
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            probe = source if (ROOT / source).is_file() else f"{source}/__init__.py" if source == "proxy" else source
            assert not _ignored(probe, patterns), f"COPY {source}: excluded by .dockerignore"
    for left_out in ("requirements.lock", "tests/conftest.py", "charts/bedside/Chart.yaml", ".venv/bin/python", "bench/scale.py", ".bedside/kek.key"):
        assert _ignored(left_out, patterns), f"{left_out} would reach the build context"

"""docs/getting-started.md stays true: its policy and test cases, written out as the guide says,
check clean, pass ``bedside policy test``, and the mistakes it shows give the messages it quotes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "getting-started.md").read_text(encoding="utf-8")


def _block_after(marker: str, lang: str) -> str:
    rest = GUIDE[GUIDE.index(marker) :]
    match = re.search(rf"```{lang}\n(.*?)```", rest, re.S)
    assert match is not None, marker
    return match.group(1)


@pytest.fixture(scope="module")
def my_policies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("guide")
    (root / "docs").mkdir()
    directory = root / "my-policies"
    (directory / "tests").mkdir(parents=True)
    (directory / "bakery.yaml").write_text(_block_after("`my-policies/bakery.yaml`:", "yaml"), encoding="utf-8")
    (directory / "tests" / "bakery.yaml").write_text(_block_after("`my-policies/tests/bakery.yaml`:", "yaml"), encoding="utf-8")
    return directory


def _bedside(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "proxy.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_the_guides_policy_checks_as_the_guide_shows(my_policies: Path) -> None:
    out = _bedside("policy", "check", "my-policies", cwd=my_policies.parent)
    assert out.returncode == 0, out.stdout + out.stderr
    shown = _block_after(".venv/bin/bedside policy check my-policies\n```", "text").splitlines()
    got = out.stdout.splitlines()
    assert got[0].split("; version")[0] == shown[0].split("; version")[0]
    assert got[1:] == shown[1:]


def test_the_guides_cases_pass(my_policies: Path) -> None:
    out = _bedside("policy", "test", "my-policies", cwd=my_policies.parent)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1] == "12 passed, 0 failed"


def test_the_guides_indentation_mistake_reads_as_quoted(my_policies: Path, tmp_path: Path) -> None:
    broken = tmp_path / "my-policies"
    broken.mkdir()
    text = (my_policies / "bakery.yaml").read_text(encoding="utf-8").replace("\n  upstream_model:", "\n upstream_model:")
    (broken / "bakery.yaml").write_text(text, encoding="utf-8")
    out = _bedside("policy", "check", "my-policies", cwd=tmp_path)
    quoted = " ".join(_block_after("`upstream_model:` indented one space too few", "text").split())
    assert out.returncode == 1 and " ".join(out.stdout.split()) == quoted

"""The `bedside` command: exit codes that fit CI and messages that say what to do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from proxy.cli import main
from proxy.testing import bedside_argv, free_port

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    full_env.update(env or {})
    return subprocess.run(bedside_argv(*args), capture_output=True, text=True, env=full_env, timeout=timeout, cwd=REPO)


def test_version_and_config_show_masks_secrets(tmp_path: Path) -> None:
    assert _run("version").stdout.startswith("bedside ")
    out = _run("config", "show", env={"BEDSIDE_UPSTREAM_URL": "http://127.0.0.1:9/v1", "BEDSIDE_UPSTREAM_API_KEY": "sk-secret-123", "BEDSIDE_DATA_DIR": str(tmp_path)})
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert data["upstream_api_key"] == "********"
    assert "sk-secret-123" not in out.stdout
    assert data["demo_mode"] is False


def test_bad_setting_exits_2_naming_the_variable() -> None:
    out = _run("config", "show", env={"BEDSIDE_SERVER__PORT": "eighty"})
    assert out.returncode == 2
    assert "BEDSIDE_SERVER__PORT" in out.stderr and "docs/configuration.md" in out.stderr


def test_policy_check_ok_and_broken(tmp_path: Path) -> None:
    ok = _run("policy", "check", "policies")
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    broken = tmp_path / "p"
    broken.mkdir()
    (broken / "default.yaml").write_text("description: d\nowner: o\npersona:\n  placement: top\n")
    out = _run("policy", "check", str(broken))
    assert out.returncode == 1
    assert f'{broken}/default.yaml:4:14: persona.placement: expected one of "prepend", "append", "replace", got "top"' in out.stdout


def test_serve_refuses_to_start_with_broken_policies(tmp_path: Path) -> None:
    broken = tmp_path / "p"
    broken.mkdir()
    (broken / "default.yaml").write_text("description: d\nowner: o\npersona:\n  system_promt: hi\n")
    out = _run("serve", "--port", str(free_port()), env={"BEDSIDE_POLICY__DIRECTORY": str(broken), "BEDSIDE_DATA_DIR": str(tmp_path / "d"), "BEDSIDE_QUICKSTART": "1"})
    assert out.returncode == 2
    assert "persona.system_promt: unknown field (did you mean 'system_prompt'?)" in out.stderr


def test_policy_show_and_test(capsys: object) -> None:
    out = _run("policy", "show", "support-agent", "--dir", "policies")
    assert out.returncode == 0
    assert "name: customer-service" in out.stdout and "You are Ava" in out.stdout
    missing = _run("policy", "show", "nope", "--dir", "policies")
    assert missing.returncode == 1 and "No policy or alias 'nope'" in missing.stderr


def test_policy_test_reports_failures(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(REPO / "policies", tmp_path / "policies")
    case = tmp_path / "policies" / "tests" / "zz-wrong.yaml"
    case.write_text("cases:\n  - name: expects the wrong model\n    request: {model: support-agent, messages: [{role: user, content: hi}]}\n    modes: [json]\n    expect: {upstream: {model: gpt-5}}\n")
    out = _run("policy", "test", str(tmp_path / "policies"))
    assert out.returncode == 1
    assert "FAIL  zz-wrong.yaml :: expects the wrong model [json]" in out.stdout
    assert "upstream model: expected 'gpt-5', got 'gpt-4o-mini'" in out.stdout
    assert out.stdout.strip().endswith("passed, 1 failed")


def test_keys_lifecycle_in_process(tmp_path: Path, capsys: object, monkeypatch: object) -> None:
    import pytest

    mp = monkeypatch
    assert isinstance(mp, pytest.MonkeyPatch)
    mp.setenv("BEDSIDE_DATA_DIR", str(tmp_path))
    assert main(["keys", "create", "--tenant", "acme", "--name", "web"]) == 0
    assert main(["keys", "list"]) == 0
    assert main(["keys", "revoke", "1"]) == 0
    assert main(["keys", "revoke", "1"]) == 1
    assert main(["keys", "list"]) == 0
    cap = capsys.readouterr()  # type: ignore[attr-defined]
    key = cap.out.splitlines()[0]
    assert key.startswith("bsk-")
    assert "acme" in cap.out and "revoked" in cap.out
    assert key not in (tmp_path / "bedside.db").read_bytes().decode("latin-1")


def test_console_script_entry_point_exists() -> None:
    assert sys.executable
    assert main.__module__ == "proxy.cli"


def test_python_dash_m_runs_the_same_command() -> None:
    """``python -m proxy.cli`` (proxy/cli/__main__.py) is what the tests and benchmarks start."""
    out = _run("docs", "--check")
    assert out.returncode == 0, out.stderr
    helped = _run("--help")
    for command in ("serve", "demo-upstream", "version", "config", "db", "policy", "keys", "docs"):
        assert command in helped.stdout


def test_the_console_script_is_proxy_cli_main() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["bedside"] == "proxy.cli:main"

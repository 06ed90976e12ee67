"""The default (fallback) policy: ``bedside policy check`` and ``bedside serve`` agree on it.

A directory without ``default.yaml`` is valid (unknown models get 404 listing the aliases);
``BEDSIDE_POLICY__DEFAULT`` names another policy, or ``none`` for no fallback, and a name that
does not exist is refused by both commands."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from proxy.settings import PolicySettings
from proxy.testing import ServerProcess, bedside_argv, free_port

REPO = Path(__file__).resolve().parents[2]


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(bedside_argv(*args), capture_output=True, text=True, env=_env(env), timeout=120, cwd=REPO)


@pytest.fixture
def no_default(tmp_path: Path) -> Path:
    """The example policies without default.yaml."""
    directory = tmp_path / "policies"
    directory.mkdir()
    for name in ("_base.yaml", "customer-service.yaml"):
        shutil.copy(REPO / "policies" / name, directory / name)
    return directory


def _chat(url: str, model: str) -> tuple[int, dict[str, object]]:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hello"}]}).encode()
    req = urllib.request.Request(f"{url}/v1/chat/completions", data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # loopback only
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_no_or_empty_setting_means_no_fallback() -> None:
    assert PolicySettings().default == "auto"
    for value in ("", "none", "None", "null"):
        assert PolicySettings(default=value).default is None
    assert PolicySettings(default="customer-service").default == "customer-service"


def test_a_directory_without_a_fallback_is_valid_and_serves_its_aliases_only(no_default: Path, tmp_path: Path) -> None:
    check = _run("policy", "check", str(no_default), env={})
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no default policy: a model that is not an alias (acme-support, support-agent) gets 404" in check.stdout
    port = free_port()
    env = _env({"BEDSIDE_POLICY__DIRECTORY": str(no_default), "BEDSIDE_DATA_DIR": str(tmp_path / "data"), "BEDSIDE_POLICY__WATCH": "false", "BEDSIDE_QUICKSTART": "1"})
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=90)
    server.env = env  # exactly this environment: none of the developer's BEDSIDE_* variables
    with server:
        status, body = _chat(server.url, "gpt-4o-mini")
        assert status == 404
        error = body["error"]
        assert isinstance(error, dict) and error["code"] == "model_not_found"
        assert "You can use: acme-support, support-agent" in str(error["message"])
        assert _chat(server.url, "support-agent")[0] == 200
        with urllib.request.urlopen(f"{server.url}/v1/models", timeout=30) as resp:  # loopback only
            listed = [m["id"] for m in json.loads(resp.read())["data"]]
        assert listed == ["acme-support", "support-agent"], "only what a request may ask for is listed"


def test_check_and_serve_honour_the_setting_alike(tmp_path: Path) -> None:
    off = _run("policy", "check", "policies", env={"BEDSIDE_POLICY__DEFAULT": "none"})
    assert off.returncode == 0 and "no default policy" in off.stdout
    other = _run("policy", "check", "policies", env={"BEDSIDE_POLICY__DEFAULT": "customer-service"})
    assert other.returncode == 0 and "default policy 'customer-service' serves every model" in other.stdout
    typo = {"BEDSIDE_POLICY__DEFAULT": "defualt", "BEDSIDE_DATA_DIR": str(tmp_path / "data"), "BEDSIDE_QUICKSTART": "1"}
    checked = _run("policy", "check", "policies", env=typo)
    assert checked.returncode == 1 and "default policy 'defualt' not found" in checked.stdout and "did you mean 'default'?" in checked.stdout
    served = _run("serve", "--port", str(free_port()), env=typo)
    assert served.returncode == 2 and "default policy 'defualt' not found" in served.stderr

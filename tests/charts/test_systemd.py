"""The single-VM deployment: the systemd unit in deploy/systemd/ and docs/deploy.md's path to a
first request.

The unit is parsed (its ``ExecStart`` must be a command line ``bedside`` accepts) and checked by
``systemd-analyze verify`` where systemd is installed. The last test runs the guide's shell block
as written, with its paths moved into a temporary directory: the ``bedside`` commands, the copies,
the service (``ExecStart`` under the unit's ``EnvironmentFile``) and the ``curl`` requests. Lines
that need root and a real system (``useradd``, ``pip`` into /opt, ``systemctl``) are named in
``NOT_RUN_HERE``; any other new line in the guide fails the test until it is handled.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.charts.chart_support import ROOT

UNIT = ROOT / "deploy" / "systemd" / "bedside.service"
ENV_FILE = ROOT / "deploy" / "systemd" / "bedside.env"
GUIDE = ROOT / "docs" / "deploy.md"
#: the guide's lines that need root on a real machine; the test stands in for what they make
NOT_RUN_HERE = ("sudo useradd ", "sudo git clone ", "sudo python3 -m venv ", "sudo /opt/bedside/venv/bin/pip install ", "sudo systemctl daemon-reload")


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """systemd unit syntax: [Section] headers, Key=Value lines (repeatable), '#'/';' comments, '\\' continuations."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in re.sub(r"\\\n", " ", text).splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        header = re.fullmatch(r"\[([A-Za-z]+)\]", stripped)
        if header:
            current = sections.setdefault(header.group(1), [])
            continue
        assert current is not None and "=" in stripped, f"not a unit line: {line!r}"
        key, value = stripped.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def unit_value(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    values = [v for k, v in unit[section] if k == key]
    assert len(values) == 1, f"[{section}] {key}: {values}"
    return values[0]


def parse_env_file(text: str) -> dict[str, str]:
    """systemd EnvironmentFile= syntax as the guide uses it: KEY=value lines, '#' comments."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        key, value = stripped.split("=", 1)
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), key
        env[key] = value
    return env


def test_exec_start_is_bedside_serve_under_the_unit_environment() -> None:
    unit = parse_unit(UNIT.read_text())
    service = unit["Service"]
    argv = shlex.split(unit_value(unit, "Service", "ExecStart"))
    assert argv[0] == "/opt/bedside/venv/bin/bedside"
    assert Path(argv[0]).name in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    from proxy.cli import build_parser

    args = build_parser().parse_args(argv[1:])
    assert args.command == "serve" and not args.quickstart  # the KEK comes from /etc/bedside/keys, never the data directory
    assert unit_value(unit, "Service", "EnvironmentFile") == "/etc/bedside/bedside.env"
    assert (unit_value(unit, "Service", "User"), unit_value(unit, "Service", "Group")) == ("bedside", "bedside")
    assert unit_value(unit, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID"  # the policy store reloads on SIGHUP
    assert unit_value(unit, "Service", "KillSignal") == "SIGTERM"
    env = parse_env_file(ENV_FILE.read_text())
    assert env["BEDSIDE_DATA_DIR"] == "/var/lib/" + unit_value(unit, "Service", "StateDirectory") == unit_value(unit, "Service", "WorkingDirectory")
    assert not env["BEDSIDE_PRIVACY__KEK_FILE"].startswith(env["BEDSIDE_DATA_DIR"])  # the KEK is kept apart from the data
    assert env["BEDSIDE_MIGRATIONS_DIR"] == "/opt/bedside/src/migrations" and (ROOT / "migrations").is_dir()
    # Stopping covers the drain (shutdown grace, 20 s by default) and the final audit write (10 s).
    from proxy.settings import ServerSettings

    grace_field = ServerSettings.model_fields.get("shutdown_grace_seconds")
    grace = float(grace_field.default) if grace_field is not None else 20.0
    assert int(unit_value(unit, "Service", "TimeoutStopSec")) >= grace + 10
    assert ("ProtectSystem", "strict") in service and ("NoNewPrivileges", "yes") in service
    assert unit_value(unit, "Install", "WantedBy") == "multi-user.target"


def test_the_environment_file_holds_only_bedside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from proxy.settings import Settings

    env = parse_env_file(ENV_FILE.read_text())
    for name in [n for n in os.environ if n.startswith("BEDSIDE_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        assert name.startswith("BEDSIDE_"), name
        monkeypatch.setenv(name, value)
    settings = Settings()  # an unknown or misspelt setting would stop here (extra="forbid")
    assert settings.server.host == "127.0.0.1" and settings.demo_mode  # the demo model until an upstream is set
    assert str(settings.privacy.kek_file) == env["BEDSIDE_PRIVACY__KEK_FILE"]


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    out = subprocess.run(["systemd-analyze", "verify", str(UNIT)], capture_output=True, text=True, timeout=60)
    complaints = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    # The one thing it cannot find on a test machine is the installed command itself.
    expected = "Command /opt/bedside/venv/bin/bedside is not executable: No such file or directory"
    assert [c for c in complaints if expected not in c] == [], complaints


# --- the guide, run ----------------------------------------------------------------------------------


def guide_block() -> list[str]:
    """The shell lines of the guide's single-VM 'From zero to a first request' block."""
    text = GUIDE.read_text()
    section = text[text.index("## A single VM with systemd and SQLite") :]
    section = section[section.index("### From zero to a first request") :]
    block = section[section.index("```sh\n") + 6 :]
    block = block[: block.index("```")]
    return [line.strip() for line in re.sub(r"\\\n\s*", " ", block).splitlines() if line.strip() and not line.strip().startswith("#")]


class Machine:
    """The guide's paths inside a temporary directory, and how to run its lines there."""

    def __init__(self, tmp: Path, port: int) -> None:
        self.tmp, self.port = tmp, port
        self.paths = {
            "/opt/bedside/src": str(ROOT),
            "/etc/systemd/system": str(tmp / "systemd"),
            "/etc/bedside": str(tmp / "etc-bedside"),
            "/var/lib/bedside": str(tmp / "var-lib-bedside"),
            "http://127.0.0.1:8080": f"http://127.0.0.1:{port}",
        }
        (tmp / "systemd").mkdir()
        self.vars: dict[str, str] = {}
        self.outputs: list[tuple[str, str]] = []
        self.server: subprocess.Popen[bytes] | None = None

    def remap(self, text: str) -> str:
        for real, here in self.paths.items():
            text = text.replace(real, here)
        return text

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
        env["HOME"] = self.paths["/var/lib/bedside"]
        return env

    def unit_env(self) -> dict[str, str]:
        """What systemd gives ExecStart: the EnvironmentFile of the installed unit, paths moved."""
        unit = parse_unit(Path(self.remap("/etc/systemd/system/bedside.service")).read_text())
        env = self.base_env()
        env.update({k: self.remap(v) for k, v in parse_env_file(Path(self.remap(unit_value(unit, "Service", "EnvironmentFile"))).read_text()).items()})
        env["BEDSIDE_SERVER__PORT"] = str(self.port)
        return env

    def bedside(self, command: str, env: dict[str, str]) -> str:
        words = shlex.split(self.remap(command))
        out = subprocess.run([sys.executable, "-m", "proxy.cli", *words], env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, f"bedside {command}: {out.stderr}"
        return out.stdout.strip()

    def run(self, line: str) -> None:
        assignment = re.fullmatch(r"([A-Z_]+)=\$\((.*)\)", line)
        target, line = (assignment.group(1), assignment.group(2)) if assignment else (None, line)
        for name, value in self.vars.items():
            line = line.replace(f"${name}", value)
        output = ""
        if line.startswith(NOT_RUN_HERE):
            return
        if "/opt/bedside/venv/bin/bedside " in line:
            command = line.split("/opt/bedside/venv/bin/bedside ", 1)[1]
            env = self.unit_env() if "EnvironmentFile=/etc/bedside/bedside.env" in line else self.base_env()
            output = self.bedside(command, env)
        elif line.startswith(("sudo install ", "sudo cp ")):
            words = shlex.split(self.remap(line))[1:]
            words = [w for i, w in enumerate(words) if w not in ("-o", "-g") and words[i - 1] not in ("-o", "-g")]  # no bedside user here
            subprocess.run(words, check=True, timeout=60)
        elif line == "sudo systemctl enable --now bedside":
            self.start()
        elif line.startswith("curl "):
            words = shlex.split(self.remap(line))
            out = subprocess.run([*words, "--write-out", "\n%{http_code}"], capture_output=True, text=True, timeout=120)
            body, _, status = out.stdout.rpartition("\n")
            assert out.returncode == 0 and status == "200", f"{line}: {status} {body[:500]}"
            output = body
        else:
            pytest.fail(f"docs/deploy.md has a line this test does not know how to run: {line!r}")
        if target:
            self.vars[target] = output
        self.outputs.append((line, output))

    def start(self) -> None:
        unit = parse_unit(Path(self.remap("/etc/systemd/system/bedside.service")).read_text())
        argv = shlex.split(unit_value(unit, "Service", "ExecStart"))
        state = Path(self.paths["/var/lib/bedside"])
        state.mkdir(mode=0o700, exist_ok=True)  # StateDirectory=
        log = open(self.tmp / "bedside.log", "wb")
        self.server = subprocess.Popen([sys.executable, "-m", "proxy.cli", *argv[1:]], env=self.unit_env(), cwd=state, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(1800):
            if self.server.poll() is not None:
                pytest.fail(f"bedside serve exited with {self.server.returncode}:\n{(self.tmp / 'bedside.log').read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail("bedside serve did not answer")

    def stop(self) -> int | None:
        if self.server is None:
            return None
        self.server.terminate()  # systemctl stop: SIGTERM
        try:
            return self.server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.server.kill()
            return self.server.wait()


@pytest.mark.e2e
def test_the_guide_takes_a_vm_from_zero_to_a_first_request_then_to_keys(tmp_path: Path) -> None:
    from proxy.testing import free_port

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    lines = guide_block()
    assert any(line.startswith(NOT_RUN_HERE[0]) for line in lines)
    machine = Machine(tmp_path, free_port())
    try:
        for line in lines:
            machine.run(line)
        keys = Path(machine.paths["/etc/bedside"]) / "keys"
        assert sorted(p.name for p in keys.iterdir()) == ["audit-signing.key", "kek.key"]
        data = {p.name for p in Path(machine.paths["/var/lib/bedside"]).iterdir()}
        assert "bedside.db" in data and not data & {"kek.key", "audit-signing.key"}  # the keys that protect the data live apart from it
        ready = json.loads(next(out for line, out in machine.outputs if line.endswith("/readyz")))
        assert ready["status"] == "ready" and ready["auth"] == "open"
        first = json.loads(next(out for line, out in machine.outputs if line.startswith("curl") and "A-1042" in line))
        assert first["choices"][0]["message"]["content"]
        assert machine.vars["KEY"].startswith("bsk-")
        # Authentication turns on within the key refresh interval: now a request without the key is refused.
        url = f"http://127.0.0.1:{machine.port}/v1/chat/completions"
        body = '{"model": "support-agent", "messages": [{"role": "user", "content": "Hello"}]}'
        status = ""
        for _ in range(300):
            status = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", url, "-H", "content-type: application/json", "-d", body], capture_output=True, text=True, timeout=60).stdout
            if status == "401":
                break
            time.sleep(0.1)
        assert status == "401"
    finally:
        code = machine.stop()
    log = (tmp_path / "bedside.log").read_text()
    # `systemctl stop`: SIGTERM drains (server.shutdown_grace_seconds) and the process exits 0.
    assert code == 0 and "Traceback" not in log, log[-3000:]

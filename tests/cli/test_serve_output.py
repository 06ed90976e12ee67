"""What ``bedside serve`` prints at start-up: no library noise before the banner, readable lines
on a terminal, JSON lines anywhere else."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

from proxy.testing import ServerProcess, bedside_argv, free_port

REPO = Path(__file__).resolve().parents[2]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update({"BEDSIDE_DATA_DIR": str(tmp_path / "data"), "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"), "BEDSIDE_POLICY__WATCH": "false", "BEDSIDE_QUICKSTART": "1"})
    return env


def test_piped_output_is_json_lines_without_library_noise(tmp_path: Path) -> None:
    port = free_port()
    server = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=90)
    server.env = _env(tmp_path)
    with server:
        pass
    lines = [line for line in server.output().splitlines() if line.strip()]
    assert any(line.startswith("Bedside ") and f":{port}/v1" in line for line in lines), "the banner"
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert {"policies_loaded", "open_tenant", "demo_upstream"} <= {e["event"] for e in events}
    assert [e for e in events if e["event"] == "library_log"] == [], "Presidio's expected start-up warnings are silenced at their source"
    assert all(line.startswith(("{", "Bedside ", "Quick start: ")) for line in lines), lines


def test_a_terminal_gets_readable_lines(tmp_path: Path) -> None:
    port = free_port()
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(bedside_argv("serve", "--port", str(port)), stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=_env(tmp_path))
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 90
        while b"demo_upstream" not in seen and time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([controller], [], [], 1)
            if ready:
                try:
                    seen += os.read(controller, 65536)
                except OSError:
                    break
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        os.close(controller)
    text = _ANSI.sub("", seen.decode("utf-8", "replace"))
    assert "demo_upstream" in text, text
    lines = [line for line in text.splitlines() if "policies_loaded" in line or "open_tenant" in line]
    assert lines and not any(line.lstrip().startswith("{") for line in lines), lines
    assert re.search(r"\[\s*warning\s*\] open_tenant", text), "level and event read as words"
    assert "library_log" not in text

"""End-to-end fixtures: Bedside and a fake upstream, each a REAL separate process on loopback.

Started once per session:

* ``e2e_upstream``: ``bedside demo-upstream --faults --record --slow-seconds 3`` (fault models by
  name, request bodies recorded at ``GET /_recorded``, cleared by ``DELETE /_recorded``);
* ``bedside_server``: ``bedside serve`` pointed at it, with the repository's ``policies/``, a fresh
  data directory and short upstream timeouts (1 s connect, read and stream idle) so every fault
  resolves in about a second.

Tests talk to Bedside like any chatbot would: the official ``openai`` client (``openai_client``)
or raw HTTP (``bedside_url``). ``upstream_recorded`` shows what actually reached the model.

When a test fails, the tail of both servers' logs is attached to its report.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from proxy.crypto.keys import generate_kek
from proxy.testing import ServerProcess, bedside_argv, free_port

REPO = Path(__file__).resolve().parents[2]
SLOW_SECONDS = 3  # fault-slow and fault-stall stay silent this long; Bedside gives up after 1 s

#: The running servers by role, for the failure report hook below.
_SERVERS: dict[str, ServerProcess] = {}


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    """The parent environment without any BEDSIDE_* a developer may have exported, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update(extra)
    return env


def _start(role: str, argv: list[str], port: int, env: dict[str, str], ready_path: str) -> ServerProcess:
    server = ServerProcess(argv, port=port, ready_path=ready_path, timeout=60)
    server.env = _clean_env(env)
    try:
        server.__enter__()
    except RuntimeError as exc:  # ServerProcess puts the process output in the message
        pytest.fail(f"the e2e {role} did not start.\ncommand: {' '.join(argv)}\n{exc}", pytrace=False)
    _SERVERS[role] = server
    return server


@pytest.fixture(scope="session")
def e2e_upstream() -> Iterator[ServerProcess]:
    port = free_port()
    argv = bedside_argv("demo-upstream", "--faults", "--record", "--port", str(port), "--slow-seconds", str(SLOW_SECONDS))
    server = _start("fake upstream", argv, port, {}, "/_recorded")
    yield server
    _SERVERS.pop("fake upstream", None)
    server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def bedside_server(e2e_upstream: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    env = {
        "BEDSIDE_UPSTREAM_URL": f"{e2e_upstream.url}/v1",
        "BEDSIDE_DATA_DIR": str(tmp_path_factory.mktemp("bedside-e2e-data")),
        "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"),
        "BEDSIDE_TIMEOUTS__READ": "1",
        "BEDSIDE_TIMEOUTS__CONNECT": "1",
        "BEDSIDE_TIMEOUTS__STREAM_IDLE": "1",
        "BEDSIDE_POLICY__WATCH": "false",
        # as in production: the KEK comes from a secret environment variable, not the data directory
        "BEDSIDE_E2E_KEK": generate_kek(),
        "BEDSIDE_PRIVACY__KEK_ENV": "BEDSIDE_E2E_KEK",
        "BEDSIDE_QUICKSTART": "0",
    }
    server = _start("Bedside", bedside_argv("serve", "--port", str(port)), port, env, "/healthz")
    yield server
    _SERVERS.pop("Bedside", None)
    server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def bedside_url(bedside_server: ServerProcess) -> str:
    """``http://127.0.0.1:<port>`` of the running Bedside (append ``/v1/...``)."""
    return bedside_server.url


@pytest.fixture(scope="session")
def upstream_url(e2e_upstream: ServerProcess) -> str:
    return e2e_upstream.url


@pytest.fixture(scope="session")
def openai_client(bedside_url: str) -> Iterator[openai.OpenAI]:
    """The official client, unchanged, with only its base URL pointed at Bedside."""
    client = openai.OpenAI(base_url=f"{bedside_url}/v1", api_key="x", max_retries=0, timeout=20)
    yield client
    client.close()


def _recorded(upstream: str, method: str = "GET") -> list[dict[str, Any]]:
    req = urllib.request.Request(f"{upstream}/_recorded", method=method)
    with urllib.request.urlopen(req, timeout=5) as resp:  # loopback only
        data: list[dict[str, Any]] = json.loads(resp.read())
    return data


@pytest.fixture
def upstream_recorded(upstream_url: str) -> Callable[..., list[dict[str, Any]]]:
    """A function returning what the fake upstream received since the test began, then clearing it.

    Entries are ``{"path", "headers", "body"}`` per request, or ``{"path", "event":
    "caller_disconnected"}`` when Bedside hung up mid-stream. ``clear=False`` keeps them.
    """
    _recorded(upstream_url, "DELETE")

    def take(*, clear: bool = True) -> list[dict[str, Any]]:
        entries = _recorded(upstream_url)
        if clear:
            _recorded(upstream_url, "DELETE")
        return entries

    return take


@pytest.fixture
def upstream_bodies(upstream_recorded: Callable[..., list[dict[str, Any]]]) -> Callable[[], list[dict[str, Any]]]:
    """A function returning the request bodies (not disconnect events) that reached the upstream."""

    def bodies() -> list[dict[str, Any]]:
        return [e["body"] for e in upstream_recorded() if "event" not in e]

    return bodies


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and item.get_closest_marker("e2e") is not None:
        for role, server in list(_SERVERS.items()):
            tail = server.output()[-4000:]
            if tail:
                report.sections.append((f"{role} log (last 4000 characters)", tail))
    return report

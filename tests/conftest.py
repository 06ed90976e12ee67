"""Suite-wide fixtures.

The network guard: every test runs with ``socket.connect`` wrapped so that any attempt to reach a
non-loopback address fails loudly. Bedside must never touch the network at run time (telemetry,
model downloads, suffix lists); this catches the next library that tries.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo

#: Every non-loopback connection attempt made during the session, for the guard test to inspect.
ATTEMPTS: list[str] = []


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
        return True
    except ValueError:
        return False


def _check(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if not _is_loopback(host):
            ATTEMPTS.append(host)
            raise ConnectionRefusedError(f"network guard: refusing non-loopback connection to {host!r}")
    # AF_UNIX paths and the like are local by construction.


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check(address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if not _is_loopback(name) and not _is_ip_literal(name):  # IP literals are checked at connect
            ATTEMPTS.append(name)
            raise socket.gaierror(f"network guard: refusing to resolve {name!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture
def network_attempts() -> Iterator[Callable[[], list[str]]]:
    """A function returning the non-loopback attempts made since the test began.

    The guard refuses them all; a test asserts the list is empty to prove nobody even tried.
    """
    start = len(ATTEMPTS)
    yield lambda: list(ATTEMPTS[start:])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if anything tried to reach beyond loopback (the guard refused it, but a
    library that tries is a library that would phone home in production)."""
    if ATTEMPTS:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"NETWORK GUARD: non-loopback connection attempts during the suite: {sorted(set(ATTEMPTS))}", red=True)

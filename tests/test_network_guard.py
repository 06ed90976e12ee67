"""The suite-wide network guard works: a non-loopback connection is refused before any packet."""

from __future__ import annotations

import socket

import pytest

from tests import conftest


def test_guard_refuses_non_loopback_and_allows_loopback() -> None:
    before = len(conftest.ATTEMPTS)
    try:
        with pytest.raises(ConnectionRefusedError, match="network guard"):
            socket.create_connection(("192.0.2.1", 443), timeout=0.5)
        with pytest.raises(socket.gaierror, match="network guard"):
            socket.getaddrinfo("api.openai.com", 443)
        assert conftest.ATTEMPTS[before:] == ["192.0.2.1", "api.openai.com"]
    finally:
        del conftest.ATTEMPTS[before:]  # deliberate attempts must not fail the session
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        socket.create_connection(server.getsockname(), timeout=1).close()
    finally:
        server.close()

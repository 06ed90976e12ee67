"""Slow and malformed clients against a real ``bedside serve`` (uvicorn, uvloop, httptools).

A security probe found connections held open for good by a client that never finishes its headers,
drips its body or never ends a chunked body (slowloris), and a 32 MB header buffered whole before
any answer. ``proxy/server.py`` enforces ``server.header_timeout``, ``server.body_timeout``,
``server.body_idle_timeout`` and ``server.max_header_bytes``; these tests run the real command with
short limits and talk raw HTTP/1.1 over sockets.

Timings are asserted loosely (the limit plus a generous margin, far under the 150 s the probe saw):
what matters is that the server ends the connection, not to the millisecond when. Every socket
operation has a timeout, so a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from proxy.testing import ServerProcess, bedside_argv, free_port

REPO = Path(__file__).resolve().parents[2]
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 3.0
BODY_IDLE_TIMEOUT = 1.0
KEEP_ALIVE = 1
MAX_HEADER_BYTES = 32 * 1024
#: slack on top of a limit before a test calls it a failure (slow CI machines, GC pauses)
MARGIN = 8.0
#: the longest any single socket operation may block
SOCKET_TIMEOUT = 20.0

CHAT = b'{"model": "demo", "messages": [{"role": "user", "content": "Hello there"}]}'

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEDSIDE_")}
    env.update(
        {
            "BEDSIDE_DATA_DIR": str(tmp_path_factory.mktemp("bedside-slow-clients")),
            "BEDSIDE_QUICKSTART": "1",
            "BEDSIDE_POLICY__DIRECTORY": str(REPO / "policies"),
            "BEDSIDE_POLICY__WATCH": "false",
            "BEDSIDE_SERVER__HEADER_TIMEOUT": str(HEADER_TIMEOUT),
            "BEDSIDE_SERVER__BODY_TIMEOUT": str(BODY_TIMEOUT),
            "BEDSIDE_SERVER__BODY_IDLE_TIMEOUT": str(BODY_IDLE_TIMEOUT),
            "BEDSIDE_SERVER__KEEP_ALIVE_TIMEOUT": str(KEEP_ALIVE),
            "BEDSIDE_SERVER__MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        }
    )
    proc = ServerProcess(bedside_argv("serve", "--port", str(port)), port=port, timeout=90)
    proc.env = env  # no upstream configured: the built-in demo upstream answers
    try:
        proc.__enter__()
    except RuntimeError as exc:
        pytest.fail(f"bedside serve did not start:\n{exc}", pytrace=False)
    yield proc
    proc.__exit__(None, None, None)


def connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=SOCKET_TIMEOUT)
    sock.settimeout(SOCKET_TIMEOUT)
    return sock


def read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and the seconds that took; fails after ``within``."""
    start = time.monotonic()
    data = b""
    while True:
        left = within - (time.monotonic() - start)
        if left <= 0:
            pytest.fail(f"the server kept the connection open for more than {within:.0f} s (received {data[:200]!r})")
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - start


def parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response with a content-length, leaving the connection open."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection mid-response: {raw!r}"
        raw += chunk
    status, headers, body = parse(raw)
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-body"
        body += chunk
    return status, headers, body


def assert_openai_error(raw: bytes, status: int, code: str) -> dict[str, Any]:
    got, headers, body = parse(raw)
    assert got == status, raw[:300]
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] is None
    assert error["code"] == code
    assert error["message"]
    return dict(error)


def request_head(method: str, path: str, *extra: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# ---- headers -------------------------------------------------------------------------------------


def test_headers_that_never_finish_get_408_and_are_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl")
        raw, took = read_until_closed(sock, HEADER_TIMEOUT + MARGIN)
    assert took >= HEADER_TIMEOUT * 0.5
    assert_openai_error(raw, 408, "request_timeout")


def test_headers_dripped_a_byte_at_a_time_are_cut_off(server: ServerProcess) -> None:
    """Each byte comes well inside any idle limit; the header deadline still holds."""
    request = request_head("GET", "/healthz", *(f"X-Pad-{i}: {'a' * 20}" for i in range(20)))
    start = time.monotonic()
    with connect(server) as sock:
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            readable, _, _ = select.select([sock], [], [], 0.3)
            if readable or time.monotonic() - start > HEADER_TIMEOUT + MARGIN:
                break
        raw, _ = read_until_closed(sock, HEADER_TIMEOUT + MARGIN)
    assert time.monotonic() - start < HEADER_TIMEOUT + 2 * MARGIN
    assert_openai_error(raw, 408, "request_timeout")


def test_a_silent_connection_is_closed(server: ServerProcess) -> None:
    """Nothing sent at all: closed quietly (like an idle keep-alive connection), no response."""
    with connect(server) as sock:
        raw, took = read_until_closed(sock, HEADER_TIMEOUT + MARGIN)
    assert raw == b""
    assert took >= HEADER_TIMEOUT * 0.5


def test_an_oversized_header_gets_431_and_is_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(request_head("GET", "/healthz", "X-Big: " + "a" * 65536))
        raw, _ = read_until_closed(sock, MARGIN)
    error = assert_openai_error(raw, 431, "request_headers_too_large")
    assert "server.max_header_bytes" in error["message"]


def test_a_32_mb_header_is_refused_before_it_is_all_sent(server: ServerProcess) -> None:
    """The server answers (or hangs up) early instead of buffering the header whole."""
    total = 32 * 1024 * 1024
    chunk = b"a" * 65536
    sent = 0
    answer = b""
    with connect(server) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        sock.settimeout(5)
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer x\r\nX-Big: ")
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    answer = sock.recv(65536)
                    break
        except OSError:  # reset or broken pipe: the server hung up
            pass
    assert sent < total, "the whole 32 MB header was accepted"
    if answer:
        assert parse(answer)[0] == 431


def test_headers_under_the_limit_and_a_large_body_in_one_write_are_accepted(server: ServerProcess) -> None:
    """Header bytes are counted, not every byte that arrives before the app reads them."""
    body = json.dumps({"model": "demo", "messages": [{"role": "user", "content": "hello " * 20000}]}).encode()
    head = request_head("POST", "/v1/chat/completions", "Content-Type: application/json", f"Content-Length: {len(body)}", "X-Pad: " + "a" * 16000)
    with connect(server) as sock:
        sock.sendall(head + body)
        status, _, reply = read_response(sock)
    assert status != 431, reply
    assert status < 500, reply


def test_malformed_http_gets_an_openai_shaped_400(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\x01: x\r\n\r\n")
        raw, _ = read_until_closed(sock, MARGIN)
    assert_openai_error(raw, 400, "invalid_http")


# ---- bodies ----------------------------------------------------------------------------------------


def test_a_stalled_body_gets_408_after_the_idle_timeout(server: ServerProcess) -> None:
    head = request_head("POST", "/v1/chat/completions", "Content-Type: application/json", f"Content-Length: {len(CHAT)}")
    with connect(server) as sock:
        sock.sendall(head + CHAT[:10])
        raw, took = read_until_closed(sock, BODY_IDLE_TIMEOUT + MARGIN)
    assert took >= BODY_IDLE_TIMEOUT * 0.5
    assert_openai_error(raw, 408, "request_timeout")


def test_a_body_dripped_slowly_gets_408_within_the_body_timeout(server: ServerProcess) -> None:
    """A byte every 0.4 s never trips the idle limit; the whole-body limit ends it."""
    head = request_head("POST", "/v1/chat/completions", "Content-Type: application/json", f"Content-Length: {len(CHAT)}")
    start = time.monotonic()
    with connect(server) as sock:
        sock.sendall(head)
        for byte in CHAT:
            readable, _, _ = select.select([sock], [], [], BODY_IDLE_TIMEOUT * 0.4)
            if readable or time.monotonic() - start > BODY_TIMEOUT + MARGIN:
                break
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
        raw, _ = read_until_closed(sock, BODY_TIMEOUT + MARGIN)
    took = time.monotonic() - start
    assert BODY_TIMEOUT * 0.5 <= took < BODY_TIMEOUT + 2 * MARGIN
    assert_openai_error(raw, 408, "request_timeout")


def test_a_chunked_body_that_never_ends_gets_408(server: ServerProcess) -> None:
    head = request_head("POST", "/v1/chat/completions", "Content-Type: application/json", "Transfer-Encoding: chunked")
    start = time.monotonic()
    with connect(server) as sock:
        sock.sendall(head + b"%x\r\n%s\r\n" % (len(CHAT), CHAT))
        while time.monotonic() - start < BODY_TIMEOUT + MARGIN:  # a space every 0.4 s, never the last chunk
            readable, _, _ = select.select([sock], [], [], BODY_IDLE_TIMEOUT * 0.4)
            if readable:
                break
            try:
                sock.sendall(b"1\r\n \r\n")
            except OSError:
                break
        raw, _ = read_until_closed(sock, BODY_TIMEOUT + MARGIN)
    assert time.monotonic() - start < BODY_TIMEOUT + 2 * MARGIN
    assert_openai_error(raw, 408, "request_timeout")


# ---- ordinary clients -------------------------------------------------------------------------------


def test_a_normal_request_works_and_keep_alive_reuses_then_closes(server: ServerProcess) -> None:
    head = request_head("POST", "/v1/chat/completions", "Content-Type: application/json", f"Content-Length: {len(CHAT)}")
    with connect(server) as sock:
        for _ in range(2):  # the same connection serves a second request
            sock.sendall(head + CHAT)
            status, _, body = read_response(sock)
            assert status == 200, body
            assert json.loads(body)["choices"][0]["message"]["content"]
        sock.sendall(request_head("GET", "/healthz"))
        status, _, _ = read_response(sock)
        assert status == 200
        # idle afterwards: closed by the keep-alive timeout, quietly
        raw, took = read_until_closed(sock, max(KEEP_ALIVE, HEADER_TIMEOUT) + MARGIN)
    assert raw == b""
    assert took >= KEEP_ALIVE * 0.5


def test_a_request_sent_in_pieces_within_the_limits_works(server: ServerProcess) -> None:
    head = request_head("POST", "/v1/chat/completions", "Content-Type: application/json", f"Content-Length: {len(CHAT)}")
    with connect(server) as sock:
        for piece in (head[:20], head[20:], CHAT[:15], CHAT[15:]):
            sock.sendall(piece)
            time.sleep(0.2)
        status, _, body = read_response(sock)
    assert status == 200, body


def test_an_early_answer_is_not_followed_by_a_408(server: ServerProcess) -> None:
    """The app refuses a declared oversized body without reading it; the unsent body then times out quietly."""
    head = request_head("POST", "/v1/chat/completions", "Content-Type: application/json", f"Content-Length: {64 * 1024 * 1024}")
    with connect(server) as sock:
        sock.sendall(head + b'{"model": ')
        status, _, body = read_response(sock)
        assert status == 413, body
        assert json.loads(body)["error"]["code"] == "request_too_large"
        raw, _ = read_until_closed(sock, BODY_TIMEOUT + MARGIN)
    assert raw == b""

"""Random identifiers for the request path, drawn from the operating system's CSPRNG in blocks.

``os.urandom`` releases the interpreter lock for its system call, and on a busy server another
thread (the audit or outcome writer) may then hold the interpreter for up to a switch interval
(5 ms) before the request's thread gets it back: two such calls per request (the request id, the
audit entry's id) showed as the largest single cost in a profile of the pass-through path.
:func:`random_bytes` serves the same ``os.urandom`` bytes from a 4 KiB block, one system call per
256 sixteen-byte ids. Thread-safe; a forked child never reuses its parent's block.
"""

from __future__ import annotations

import os
import threading

__all__ = ["random_bytes", "random_hex", "random_uuid_hex"]

_BLOCK = 4096
_lock = threading.Lock()
_state: dict[str, object] = {"pid": -1, "buf": b"", "pos": 0}


def random_bytes(n: int) -> bytes:
    """``n`` bytes from ``os.urandom`` (served from a block; each byte is handed out once)."""
    if n > _BLOCK // 4:
        return os.urandom(n)
    with _lock:
        buf, pos = _state["buf"], _state["pos"]
        assert isinstance(buf, bytes) and isinstance(pos, int)
        if _state["pid"] != os.getpid() or pos + n > len(buf):
            buf, pos = os.urandom(_BLOCK), 0
            _state["pid"], _state["buf"] = os.getpid(), buf
        _state["pos"] = pos + n
        return buf[pos : pos + n]


def random_hex(n: int) -> str:
    """``n`` random bytes as ``2n`` hex digits (e.g. a request id)."""
    return random_bytes(n).hex()


def random_uuid_hex() -> str:
    """A random (version 4) UUID's 32 hex digits, as ``uuid.uuid4().hex`` gives: the version and
    variant bits set on the bytes directly (what ``uuid.UUID(bytes=..., version=4)`` does, without
    building the object)."""
    raw = bytearray(random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()

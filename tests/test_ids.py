"""Pooled random identifiers (proxy.ids): distinct, the right shape, fresh after a fork."""

from __future__ import annotations

import os
import threading
import uuid

from proxy.ids import random_bytes, random_hex, random_uuid_hex


def test_ids_are_distinct_across_blocks_and_threads() -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [random_hex(16) for _ in range(2000)]  # several 4 KiB blocks each
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == len(set(seen)) == 8000
    assert all(len(s) == 32 and int(s, 16) >= 0 for s in seen)


def test_uuid_form_and_large_draws() -> None:
    value = random_uuid_hex()
    assert uuid.UUID(hex=value).version == 4 and len(value) == 32
    for drawn in (uuid.UUID(hex=random_uuid_hex()) for _ in range(2000)):  # version and variant bits set on every draw
        assert drawn.version == 4 and drawn.variant == uuid.RFC_4122
    assert len(random_bytes(5000)) == 5000  # larger than a block: straight from os.urandom


def test_a_forked_child_does_not_reuse_the_parents_block() -> None:
    random_hex(16)  # the parent holds a block
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id, then leave without running the test session's exit handlers
        os.write(write, random_hex(16).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    assert child != random_hex(16)

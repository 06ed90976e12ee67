"""A lock per (tenant, user) held across transactions: one read-decide-write of a user's rows at a time.

Some writes decide *what* to write from what they read, and what they read cannot be checked by a
unique index: a memory of the same kind and topic is replaced rather than added, but the topic is
inside a ciphertext. Two replicas doing it for the same user at once each read, each decide
"new", and both insert. :func:`user_lock` makes the second wait until the first has committed, so it
reads the first's row and replaces it.

On PostgreSQL it is a transaction-level advisory lock (``pg_advisory_xact_lock``) on a connection of
its own, taken before the reads and released when the block ends (or the connection dies with its
process); the reads and writes inside run on their usual connections and commit as they go, so by
the time the next holder reads, everything the previous one wrote is visible (READ COMMITTED takes a
new snapshot per statement). The key is the two-integer form, a key space apart from the audit
sequencer's single-bigint lock: a class for the kind of write and 32 bits of a digest of tenant and
subject (two users sharing those bits only wait for each other). On SQLite (one process) a lock in
process memory does the same.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from proxy.storage.repositories import UserScope, _checked

__all__ = ["LOCK_CLASSES", "advisory_key", "user_lock"]

#: the kinds of write that take a user lock, and their advisory lock class (the first int4 key)
LOCK_CLASSES: Final = {"memories": int.from_bytes(b"bmem", "big") & 0x7FFF_FFFF}
_STRIPES: Final = 64
_local = [threading.Lock() for _ in range(_STRIPES)]


def advisory_key(*parts: str) -> int:
    """A signed 32-bit advisory lock key (the second int4) from ``parts``: 32 bits of a SHA-256 of
    them joined by NUL (two objects sharing those bits only wait for each other)."""
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:4], "big", signed=True)


@contextmanager
def user_lock(engine: Engine, scope: UserScope, purpose: str = "memories") -> Iterator[None]:
    """Hold the user's ``purpose`` lock for the block, across replicas on PostgreSQL (see the module docstring)."""
    scope = _checked(scope)
    key = advisory_key(purpose, scope.tenant, scope.subject)
    if engine.dialect.name != "postgresql":
        with _local[key % _STRIPES]:
            yield
        return
    with engine.begin() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_CLASSES[purpose], key)))
        yield

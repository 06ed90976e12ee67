"""What the input rails already read: verdicts remembered per tenant, user and policy version.

A chat client resends its history every turn, and an app's system message (a ``document`` for the
jailbreak check) is the same on every turn; the input checks are pure functions of the text and
the compiled policy, so a text already judged is not judged again. :class:`VerdictMemo` keeps, per
``(tenant, user, policy name, policy content hash, check position, check, source, fragment,
SHA-256 of the text)``, the reason names of the failures found (``()`` for a pass): never text,
never a fixed text (a verdict that carries one, e.g. ``max_length``'s ``fix``, is not kept), never
a validator error (judged again next time, and blocked again if it persists). Bounded (least
recently used forgotten first), thread-safe, in process memory only; another tenant's or user's
verdicts are never consulted (no one can time whether someone else sent a text).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from cachetools import LRUCache

__all__ = ["VERDICT_MEMO_SIZE", "VerdictMemo"]

VERDICT_MEMO_SIZE = 20_000

#: the failures of one check on one text: the reason names of each
Verdict = tuple[tuple[str, ...], ...]


class VerdictMemo:
    """Input-rail verdicts by scope and text hash (see the module docstring)."""

    def __init__(self, size: int = VERDICT_MEMO_SIZE) -> None:
        self._lock = threading.Lock()
        self._entries: LRUCache[tuple[Any, ...], Verdict] = LRUCache(maxsize=size)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(scope: tuple[Any, ...], position: int, check: str, source: str, fragment: bool, text: str) -> tuple[Any, ...]:
        return (*scope, position, check, source, fragment, hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())

    def get(self, key: tuple[Any, ...]) -> Verdict | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple[Any, ...], verdict: Verdict) -> None:
        with self._lock:
            self._entries[key] = verdict

"""Replies the PII stage delivered, remembered as the model wrote them (:class:`ReplyMemo`).

A chat client resends the reply it received (restored) as the next turn's assistant message; the
stage looks it up here and, when each placeholder it used still stands for the same value, sends
the model's own text upstream without analysing it again (see ``proxy.stages.pii``).
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from cachetools import LRUCache

from proxy.privacy.pseudonyms import PseudonymVault, issued_in

__all__ = ["REPLY_MEMO_SIZE", "Remembered", "ReplyMemo"]

REPLY_MEMO_SIZE = 20_000
#: a remembered reply: the model's own text and the (placeholder, value) pairs it used
Remembered = tuple[str, tuple[tuple[str, str], ...]]


class ReplyMemo:
    """Replies the stage delivered, as the model wrote them: ``(tenant, user, config, sha256 of the
    shown text) -> (model text, ((placeholder, value), ...))``. Bounded (least recently used
    forgotten first), thread-safe, in process memory only. Only the hash of the shown text is kept.

    A resent reply is used as the model's text only when every placeholder it used stands for the
    same value in the new request's vault (:meth:`confirm`), so an entry can never put a value into
    a request that did not carry it.
    """

    def __init__(self, size: int = REPLY_MEMO_SIZE) -> None:
        self._lock = threading.Lock()
        self._entries: LRUCache[tuple[Any, ...], Remembered] = LRUCache(maxsize=size)

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(scope: tuple[Any, ...], shown: str) -> tuple[Any, ...]:
        return (*scope, hashlib.sha256(shown.encode("utf-8", "surrogatepass")).digest())

    def remember(self, scope: tuple[Any, ...], shown: str, said: str, vault: PseudonymVault) -> None:
        entry = (said, issued_in(said, vault))
        with self._lock:
            self._entries[self.key(scope, shown)] = entry

    def get(self, scope: tuple[Any, ...], shown: str) -> Remembered | None:
        key = self.key(scope, shown)
        with self._lock:
            return self._entries.get(key)

    @staticmethod
    def confirm(pairs: tuple[tuple[str, str], ...], vault: PseudonymVault) -> bool:
        """Whether every placeholder of a remembered reply means the same value in ``vault``."""
        return all(vault.value_for(p) == v for p, v in pairs)

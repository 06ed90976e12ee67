"""Subjects: the keyed HMAC of (tenant, user id) that the database stores instead of the user id.

The same tenant and user always give the same subject under one key, so the consent ledger and
data keys find a user again; without the key nobody can tell which user a row belongs to, nor
test a guessed id. Every replica of a deployment must share the key (setting
``privacy.subject_key_file``): a different key means different subjects, i.e. users "forgotten".
"""

from __future__ import annotations

import hashlib
import hmac

from proxy.storage.repositories import ScopeError, UserScope

MAX_USER_ID = 256
_DOMAIN = b"bedside/subject/v1\x00"
_CONVERSATION_DOMAIN = b"bedside/conversation/v1\x00"
_THREAD_DOMAIN = b"bedside/thread/v1\x00"


class SubjectKey:
    """Turns (tenant, user id) into a :class:`UserScope`; the key is never shown."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the subject key must be at least 32 bytes")
        self._key = key

    def subject(self, tenant: str, user: str) -> str:
        return hmac.new(self._key, _DOMAIN + tenant.encode("utf-8") + b"\x00" + user.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def scope(self, tenant: str | None, user: str | None) -> UserScope:
        """The scope of ``user`` in ``tenant``; a missing or empty tenant or user raises ScopeError."""
        if not tenant:
            raise ScopeError("a user-data query needs a tenant")
        if user is None or not user.strip() or len(user.strip()) > MAX_USER_ID:
            raise ScopeError(f"a user-data query needs a user id (1 to {MAX_USER_ID} characters)")
        return UserScope(tenant, self.subject(tenant, user.strip()))

    def conversation(self, scope: UserScope, conversation_id: str) -> str:
        """The keyed HMAC (64 hex) of a conversation id of one user: stored instead of the id (transcripts)."""
        if not conversation_id or not conversation_id.strip():
            raise ValueError("a conversation id is needed")
        message = b"\x00".join((scope.tenant.encode("utf-8"), scope.subject.encode("ascii"), conversation_id.strip().encode("utf-8", "surrogatepass")))
        return hmac.new(self._key, _CONVERSATION_DOMAIN + message, hashlib.sha256).hexdigest()

    def thread(self, thread_id: str) -> str:
        """The keyed HMAC (64 hex) of a response or conversation id an upstream keeps: stored instead
        of the id, and the same in every tenant (an id belongs to one user only)."""
        if not thread_id:
            raise ValueError("a thread id is needed")
        return hmac.new(self._key, _THREAD_DOMAIN + thread_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "SubjectKey(<key hidden>)"


_CONVERSATION_DOMAIN = b"bedside/conversation/v1\x00"


def conversation_subject(key: SubjectKey, tenant: str, conversation: str) -> str:
    """The keyed HMAC of a conversation id (provenance of a memory), in its own domain: never equal to a user's subject."""
    return hmac.new(key._key, _CONVERSATION_DOMAIN + tenant.encode("utf-8") + b"\x00" + conversation.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

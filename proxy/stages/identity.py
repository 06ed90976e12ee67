"""Identity stage: who is calling, for whom, in which conversation.

Reads: ``ctx.headers`` (``Authorization`` / ``api-key``, ``X-Bedside-User``,
``X-Bedside-Conversation``), ``ctx.body`` (``safety_identifier``, ``user``, ``messages``).
Writes: ``ctx.tenant``, ``ctx.user_id``, ``ctx.conversation_id``, ``ctx.conversation_source``,
``ctx.body`` (``user`` and ``safety_identifier`` replaced by keyed HMACs), decision ``identity``.
Short-circuits: raises ``AuthenticationFailed`` (401) for a missing or unknown key.

The end user is ``X-Bedside-User``, else ``safety_identifier``, else ``user``. The upstream never
sees those identifiers (often an e-mail): it gets ``u-`` plus a keyed HMAC of tenant and value,
stable per user, so its abuse monitoring still tells users apart.

The conversation is ``X-Bedside-Conversation``; without it Bedside derives a stable id from the
tenant, the user (else a fingerprint of the client's key) and the first user message, so later
turns of the same chat (which resend that message) share it and another client cannot reproduce
it. The conversation id groups readings (emotion trend, handoffs, logs); it never unlocks personal
data: the PII stage keeps nothing per conversation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, ClassVar

from proxy.auth import OPEN_TENANT, KeyRing
from proxy.errors import InvalidRequest
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next

_MAX_ID = 256
#: body fields that name the end user; never forwarded as sent
_IDENTIFIERS = ("safety_identifier", "user")


class IdentityStage:
    name: ClassVar[str] = "identity"

    def __init__(self, keyring: KeyRing, hasher: Callable[[str | None], str | None]) -> None:
        self._keyring = keyring
        self._hasher = hasher

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        ctx.tenant = self._keyring.authenticate_scoped(ctx.headers, "chat")
        user, user_source = _user(ctx)
        ctx.user_id = user
        for field in _IDENTIFIERS:
            value = ctx.body.get(field)
            if isinstance(value, str) and value:
                ctx.body[field] = f"u-{self._hasher(ctx.tenant + chr(0) + value)}"
        conv = ctx.headers.get("x-bedside-conversation")
        if conv:
            ctx.conversation_id = _checked(conv, "X-Bedside-Conversation")
            ctx.conversation_source = "header"
        elif ctx.endpoint == "chat":
            # capture the first user turn now (later stages edit messages in place), hash it lazily
            seed = _first_user_text(ctx.body.get("messages"))
            if seed is not None:
                tenant = ctx.tenant
                who = f"user:{user}" if user is not None else f"key:{_key_fingerprint(ctx.headers)}"
                ctx._conversation_derive = lambda: _conversation_hash(tenant, who, seed)
            ctx.conversation_source = "derived"
        ctx.decide(
            self.name,
            auth="open" if ctx.tenant == OPEN_TENANT and self._keyring.open else "key",
            user_source=user_source,
            conversation_source=ctx.conversation_source,
        )
        return await call_next(ctx)


def _user(ctx: RequestContext) -> tuple[str | None, str | None]:
    header = ctx.headers.get("x-bedside-user")
    if header:
        return _checked(header, "X-Bedside-User"), "header"
    for field in _IDENTIFIERS:
        value = ctx.body.get(field)
        if isinstance(value, str) and value:
            return _checked(value, field), field
    return None, None


def _checked(value: str, where: str) -> str:
    value = value.strip()
    if not value or len(value) > _MAX_ID:
        raise InvalidRequest(f"{where} must be between 1 and {_MAX_ID} characters.", param=where)
    return value


def _key_fingerprint(headers: dict[str, str]) -> str:
    """A digest of the credential the client presented (empty in open mode without one)."""
    presented = headers.get("authorization") or headers.get("api-key") or ""
    return hashlib.sha256(presented.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _first_user_text(messages: Any) -> str | None:
    if not isinstance(messages, list):
        return None
    first = next((m for m in messages if isinstance(m, dict) and m.get("role") == "user"), None)
    if first is None:
        return None
    content = first.get("content")
    return content if isinstance(content, str) else repr(content)


def _conversation_hash(tenant: str, who: str, text: str) -> str:
    digest = hashlib.sha256(f"{tenant}\x00{who}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return f"conv-{digest}"

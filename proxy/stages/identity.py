"""Identity stage: who is calling, for whom, in which conversation.

Reads: ``ctx.headers`` (``Authorization`` / ``api-key``, ``X-Bedside-User``,
``X-Bedside-Conversation``), ``ctx.body`` (``safety_identifier``, ``user``, ``messages``).
Writes: ``ctx.tenant``, ``ctx.user_id``, ``ctx.conversation_id``, ``ctx.conversation_source``,
decision ``identity``.
Short-circuits: raises ``AuthenticationFailed`` (401) for a missing or unknown key.

The end user is ``X-Bedside-User``, else ``safety_identifier``, else ``user``. The conversation is
``X-Bedside-Conversation``; without it Bedside derives a stable id from the tenant, the user and the
first user message, so later turns of the same chat (which resend that message) share it.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from proxy.auth import OPEN_TENANT, KeyRing
from proxy.errors import InvalidRequest
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next

_MAX_ID = 256


class IdentityStage:
    name: ClassVar[str] = "identity"

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        ctx.tenant = self._keyring.authenticate(ctx.headers)
        user, user_source = _user(ctx)
        ctx.user_id = user
        conv = ctx.headers.get("x-bedside-conversation")
        if conv:
            ctx.conversation_id = _checked(conv, "X-Bedside-Conversation")
            ctx.conversation_source = "header"
        elif ctx.endpoint == "chat":
            # capture the first user turn now (later stages edit messages in place), hash it lazily
            seed = _first_user_text(ctx.body.get("messages"))
            if seed is not None:
                tenant = ctx.tenant
                ctx._conversation_derive = lambda: _conversation_hash(tenant, user, seed)
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
    for field in ("safety_identifier", "user"):
        value = ctx.body.get(field)
        if isinstance(value, str) and value:
            return _checked(value, field), field
    return None, None


def _checked(value: str, where: str) -> str:
    value = value.strip()
    if not value or len(value) > _MAX_ID:
        raise InvalidRequest(f"{where} must be between 1 and {_MAX_ID} characters.", param=where)
    return value


def derive_conversation_id(tenant: str, user: str | None, messages: Any) -> str | None:
    """A stable id from the first user message (None when there is none)."""
    seed = _first_user_text(messages)
    return None if seed is None else _conversation_hash(tenant, user, seed)


def _first_user_text(messages: Any) -> str | None:
    if not isinstance(messages, list):
        return None
    first = next((m for m in messages if isinstance(m, dict) and m.get("role") == "user"), None)
    if first is None:
        return None
    content = first.get("content")
    return content if isinstance(content, str) else repr(content)


def _conversation_hash(tenant: str, user: str | None, text: str) -> str:
    digest = hashlib.sha256(f"{tenant}\x00{user or ''}\x00{text}".encode()).hexdigest()[:24]
    return f"conv-{digest}"

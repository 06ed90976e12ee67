"""Identity: tenant from the key, user and conversation from the request, in priority order."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.auth import KeyRing, hash_key
from proxy.errors import AuthenticationFailed, InvalidRequest
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.secrets_store import SubjectHasher
from proxy.stages.identity import IdentityStage


async def _run(body: dict[str, Any], headers: dict[str, str] | None = None, ring: KeyRing | None = None) -> RequestContext:
    ctx = RequestContext(request_id="r", endpoint="chat", body=body, headers=headers or {})
    seen: list[RequestContext] = []

    async def terminal(c: RequestContext) -> Completion:
        seen.append(c)
        return Completion.from_text("ok", model="m")

    await IdentityStage(ring or KeyRing(), SubjectHasher(b"t" * 32))(ctx, terminal)
    assert seen == [ctx]
    return ctx


def _body(first: str = "Hello", **kw: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": first}], **kw}


async def test_user_priority_header_then_safety_identifier_then_user() -> None:
    assert (await _run(_body(user="u1"))).user_id == "u1"
    assert (await _run(_body(user="u1", safety_identifier="s1"))).user_id == "s1"
    ctx = await _run(_body(user="u1", safety_identifier="s1"), {"x-bedside-user": "h1"})
    assert ctx.user_id == "h1"
    assert ctx.decisions["identity"]["user_source"] == "header"
    assert (await _run(_body())).user_id is None


async def test_conversation_from_header_or_derived_stably_from_first_user_turn() -> None:
    ctx = await _run(_body(), {"x-bedside-conversation": "conv-42"})
    assert (ctx.conversation_id, ctx.conversation_source) == ("conv-42", "header")
    turn1 = await _run(_body("I need help", user="ann"))
    later = _body("I need help", user="ann")
    later["messages"] += [{"role": "assistant", "content": "Sure"}, {"role": "user", "content": "thanks"}]
    turn2 = await _run(later)
    assert turn1.conversation_id == turn2.conversation_id
    assert turn1.conversation_source == "derived"
    other_user = await _run(_body("I need help", user="bob"))
    assert other_user.conversation_id != turn1.conversation_id


async def test_tenant_from_key_and_401_without_one() -> None:
    ring = KeyRing([(hash_key("bsk-1"), "acme")])
    assert (await _run(_body(), {"authorization": "Bearer bsk-1"}, ring)).tenant == "acme"
    with pytest.raises(AuthenticationFailed):
        await _run(_body(), {}, ring)


async def test_oversized_identifiers_are_refused() -> None:
    with pytest.raises(InvalidRequest):
        await _run(_body(user="x" * 300))

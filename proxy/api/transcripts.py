"""The transcripts API: a tenant's users' recorded conversations (``/v1/users/{user}/conversations``).

* ``GET /v1/users/{user}/conversations`` lists the user's conversations, most recent first: the
  conversation's id *hash* (Bedside stores only a keyed HMAC of the conversation id), its number of
  turns, first and last time, and the policy of its latest turn.
* ``GET /v1/users/{user}/conversations/{id}`` answers the turns, decrypted: ``{id}`` is the hash the
  list shows or the conversation id itself.

Keys and tenants as for the consent API (:mod:`proxy.api.privacy`): the ``privacy`` scope (open
mode: the open tenant), one credential only, users looked up in the caller's tenant only. A user
Bedside holds nothing about and another tenant's user get the same 404 ``user_not_found``; an
unknown conversation of a known user is 404 ``conversation_not_found``.

``proxy.app`` adds :data:`ROUTES` to its handlers and puts a :class:`TranscriptsAPI` in its state as
``transcripts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath

from proxy.api.privacy import json_response, path_id, privacy_tenant
from proxy.auth import KeyRing
from proxy.errors import NotFound
from proxy.privacy.consent import ConsentLedger
from proxy.privacy.transcripts import TranscriptWriter, Turn
from proxy.privacy.wiring import Privacy
from proxy.storage.repositories import UserScope
from proxy.storage.transcripts import ConversationSummary

MAX_CONVERSATION_ID = 256


@dataclass(frozen=True, slots=True)
class TranscriptsAPI:
    """What the transcripts routes need, kept in the app state as ``transcripts``."""

    keyring: KeyRing
    ledger: ConsentLedger
    writer: TranscriptWriter

    @classmethod
    def build(cls, keyring: KeyRing, privacy: Privacy) -> TranscriptsAPI:
        return cls(keyring, privacy.ledger, privacy.transcripts)


def _api(state: State) -> TranscriptsAPI:
    api: TranscriptsAPI = state.transcripts
    return api


def _iso(value: datetime) -> str:
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _user_not_found() -> NotFound:
    return NotFound("Bedside holds no transcripts or consent of this user.", param="user", code="user_not_found")


async def _known_scope(api: TranscriptsAPI, tenant: str, user: str) -> tuple[UserScope, list[ConversationSummary]]:
    scope = api.ledger.scope(tenant, user)
    conversations = await api.writer.list_conversations(scope)
    if not conversations and not await api.ledger.known(tenant, user):
        raise _user_not_found()
    return scope, conversations


def _summary(c: ConversationSummary) -> dict[str, Any]:
    return {
        "object": "conversation",
        "id": c.conversation,
        "turns": c.turns,
        "first_at": _iso(c.first_at),
        "last_at": _iso(c.last_at),
        "policy": {"name": c.policy_name, "version": c.policy_version},
    }


def _turn(t: Turn) -> dict[str, Any]:
    return {
        "turn": t.turn,
        "created_at": _iso(t.created_at),
        "policy": {"name": t.policy_name, "version": t.policy_version},
        "readings": t.readings,
        "user": t.user_text,
        "reply": t.reply_text,
        "unreadable": t.unreadable,
    }


@get("/v1/users/{user:str}/conversations")
async def list_conversations(request: Request[Any, Any, Any], state: State, user: FromPath[str]) -> Response[bytes]:
    api = _api(state)
    tenant = privacy_tenant(request, api.keyring)
    user = path_id(user)
    _, conversations = await _known_scope(api, tenant, user)
    return json_response({"object": "list", "user": user, "data": [_summary(c) for c in conversations]})


@get("/v1/users/{user:str}/conversations/{conversation:str}")
async def get_conversation(request: Request[Any, Any, Any], state: State, user: FromPath[str], conversation: FromPath[str]) -> Response[bytes]:
    api = _api(state)
    tenant = privacy_tenant(request, api.keyring)
    user = path_id(user)
    conversation = path_id(conversation, limit=MAX_CONVERSATION_ID, param="conversation", code="invalid_conversation")
    scope, _ = await _known_scope(api, tenant, user)
    turns = await api.writer.get_conversation(scope, conversation)
    if not turns:
        raise NotFound("This user has no conversation with this id.", param="conversation", code="conversation_not_found")
    return json_response({"object": "conversation", "id": turns[0].conversation, "user": user, "turns": [_turn(t) for t in turns]})


ROUTES = [list_conversations, get_conversation]

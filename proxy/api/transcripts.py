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

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath
from sqlalchemy.engine import Engine

from proxy.auth import KeyRing, check_single_credential
from proxy.crypto.subjects import MAX_USER_ID
from proxy.errors import InvalidRequest, NotFound
from proxy.privacy.consent import ConsentLedger
from proxy.privacy.transcripts import TranscriptWriter, Turn
from proxy.privacy.wiring import Privacy
from proxy.storage.repositories import UserScope
from proxy.storage.transcripts import ConversationSummary, TranscriptRepository

_encode = msgspec.json.Encoder().encode
SCOPE = "privacy"
MAX_CONVERSATION_ID = 256


@dataclass(frozen=True, slots=True)
class TranscriptsAPI:
    """What the transcripts routes need, kept in the app state as ``transcripts``."""

    keyring: KeyRing
    ledger: ConsentLedger
    writer: TranscriptWriter

    @classmethod
    def build(cls, keyring: KeyRing, privacy: Privacy, engine: Engine) -> TranscriptsAPI:
        return cls(keyring, privacy.ledger, privacy.transcripts or TranscriptWriter(TranscriptRepository(engine), privacy.envelope, privacy.subjects))


def _api(state: State) -> TranscriptsAPI:
    api: TranscriptsAPI = state.transcripts
    return api


def _tenant(request: Request[Any, Any, Any], api: TranscriptsAPI) -> str:
    check_single_credential(request.scope["headers"])
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
    return api.keyring.authenticate_scoped(headers, SCOPE)


def _checked_id(value: str, limit: int, param: str, code: str) -> str:
    value = value.strip()
    if not value or len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidRequest(f"The {param} id in the path must be 1 to {limit} printable characters.", param=param, code=code)
    return value


def _iso(value: datetime) -> str:
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(body: dict[str, Any]) -> Response[bytes]:
    return Response(content=_encode(body), media_type=MediaType.JSON)


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
    tenant = _tenant(request, api)
    user = _checked_id(user, MAX_USER_ID, "user", "invalid_user")
    _, conversations = await _known_scope(api, tenant, user)
    return _json({"object": "list", "user": user, "data": [_summary(c) for c in conversations]})


@get("/v1/users/{user:str}/conversations/{conversation:str}")
async def get_conversation(request: Request[Any, Any, Any], state: State, user: FromPath[str], conversation: FromPath[str]) -> Response[bytes]:
    api = _api(state)
    tenant = _tenant(request, api)
    user = _checked_id(user, MAX_USER_ID, "user", "invalid_user")
    conversation = _checked_id(conversation, MAX_CONVERSATION_ID, "conversation", "invalid_conversation")
    scope, _ = await _known_scope(api, tenant, user)
    turns = await api.writer.get_conversation(scope, conversation)
    if not turns:
        raise NotFound("This user has no conversation with this id.", param="conversation", code="conversation_not_found")
    return _json({"object": "conversation", "id": turns[0].conversation, "user": user, "turns": [_turn(t) for t in turns]})


ROUTES = [list_conversations, get_conversation]

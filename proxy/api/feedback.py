"""``POST /v1/feedback``: the chatbot's backend tells Bedside how a conversation ended.

Body: ``{"conversation": "...", "rating": 1-5, "resolved": true|false, "comment": "..."}``; the
conversation may come from ``X-Bedside-Conversation`` instead (the id the client sent, or the one
Bedside returned in ``x-bedside-conversation``). At least one of ``rating`` and ``resolved`` is
needed; a later feedback replaces the fields it gives. The key needs the ``chat`` scope (the same
key the chatbot chats with) and names the tenant: a conversation of another tenant is the same 404
as an unknown one.

The optional ``comment`` is free text: it is kept only when the user (``X-Bedside-User`` or
``user``) has granted ``transcripts`` consent and the conversation is ``standard``; it is then
redacted with the conversation's policy (like any message) and stored encrypted as a transcript
row (readings ``{"kind": "feedback", ...}``), under the user's export and erasure rights. Otherwise,
or when redaction fails (fail closed), it is dropped and the answer says so. The outcome row gets
the rating and resolution only, never the comment.

With several replicas the conversation's last turn may have been served by another one, whose
outcome writer has not written it yet: the route waits up to ``OTHER_REPLICA_SECONDS`` (1.5 s) for
its row before answering 404.
"""

from __future__ import annotations

import time
from typing import Any

import anyio.to_thread
import msgspec
from litestar import MediaType, Request, Response, post
from litestar.datastructures import State

from proxy.api.body import check_media_type, decode_object, read_body
from proxy.auth import check_single_credential
from proxy.crypto.subjects import MAX_USER_ID
from proxy.errors import InvalidRequest, NotFound, ServiceUnavailable
from proxy.logs import get_logger
from proxy.services import Services
from proxy.stages.pii import PiiStage

_encode = msgspec.json.Encoder().encode
MAX_BODY_BYTES = 16 * 1024
MAX_COMMENT = 2000
#: a conversation's last turn may have been served by another replica, whose outcome writer lingers
#: 0.1 s and then writes: how long feedback waits for its row before answering 404
OTHER_REPLICA_SECONDS = 1.5
_FIELDS = {"conversation", "rating", "resolved", "comment", "user"}


def _headers(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}


def _text_field(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidRequest(f"'{name}' must be a string of 1 to {limit} characters.", param=name, code="invalid_type")
    return value.strip()


def parse_feedback(body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """The checked feedback fields; 400 naming the field for anything else."""
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidRequest(
            f"Unknown field '{unknown[0][:64]}'. Feedback has 'conversation', 'rating' (1-5), 'resolved' (true/false) and an optional 'comment'.",
            param=unknown[0][:64],
            code="unknown_parameter",
        )
    conversation = _text_field(body.get("conversation"), "conversation", 256) or _text_field(headers.get("x-bedside-conversation"), "X-Bedside-Conversation", 256)
    if conversation is None:
        raise InvalidRequest(
            "Name the conversation: 'conversation' in the body, or the X-Bedside-Conversation header (the id you sent, or the one Bedside returned in x-bedside-conversation).",
            param="conversation",
            code="missing_conversation",
        )
    rating = body.get("rating")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5):
        raise InvalidRequest("'rating' must be a whole number from 1 (very unhappy) to 5 (very happy).", param="rating", code="invalid_rating")
    resolved = body.get("resolved")
    if resolved is not None and not isinstance(resolved, bool):
        raise InvalidRequest("'resolved' must be true or false.", param="resolved", code="invalid_type")
    if rating is None and resolved is None:
        raise InvalidRequest("Send a 'rating' (1-5), 'resolved' (true/false) or both.", param="rating", code="missing_feedback")
    comment = body.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        raise InvalidRequest(f"'comment' must be a string of at most {MAX_COMMENT} characters.", param="comment", code="invalid_type")
    user = _text_field(headers.get("x-bedside-user"), "X-Bedside-User", MAX_USER_ID) or _text_field(body.get("user"), "user", MAX_USER_ID)
    return {"conversation": conversation, "rating": rating, "resolved": resolved, "comment": comment.strip() if comment else None, "user": user}


def _pii_stage(services: Services) -> PiiStage | None:
    return next((s for s in services.pipeline.stages if isinstance(s, PiiStage)), None)


async def _keep_comment(services: Services, tenant: str, fb: dict[str, Any], policy_name: str, turn: int, headers: dict[str, str]) -> tuple[bool, str]:
    """Store the comment (redacted, encrypted) if the user allows it; (kept, why not)."""
    privacy = services.privacy
    policy = services.policies.current.policies.get(policy_name) if services.policies is not None else None
    if privacy is None or policy is None:
        return False, "comments are kept only as transcripts, which this Bedside does not record for this conversation's policy"
    if fb["user"] is None:
        return False, "comments are kept only for a named user (X-Bedside-User) who granted transcripts consent"
    sensitivity = (headers.get("x-bedside-sensitivity") or policy.memory.default_sensitivity).strip().lower()
    if sensitivity != "standard":
        return False, f"comments of a '{sensitivity}' conversation are not kept"
    if not await privacy.ledger.repo.run(privacy.ledger.granted_sync, tenant, fb["user"], "transcripts"):
        return False, "the user has not granted transcripts consent, so the comment was not kept"
    stage = _pii_stage(services)
    if stage is None or not policy.pii.enabled:
        return False, "comments are kept only redacted, and this policy does not redact personal data"
    try:
        redacted = await stage.redact_text(fb["comment"], policy)
    except Exception as exc:  # noqa: BLE001 - fail closed: an unredacted comment is never kept
        get_logger().warning("feedback_comment_dropped", reason="redaction_failed", error_type=type(exc).__name__)
        return False, "the comment could not be checked for personal data, so it was not kept"
    scope = privacy.subjects.scope(tenant, fb["user"])
    readings = {"kind": "feedback", "rating": fb["rating"], "resolved": fb["resolved"]}
    await privacy.transcripts.record(scope, fb["conversation"], turn, policy, readings, redacted, "")
    return True, ""


@post("/v1/feedback", status_code=200)
async def post_feedback(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    services: Services = state.services
    check_single_credential(request.scope["headers"])
    headers = _headers(request)
    tenant = services.keyring.authenticate_scoped(headers, "chat")
    outcomes = services.outcomes
    if outcomes is None:
        raise ServiceUnavailable("Outcome facts are turned off on this Bedside (outcomes.enabled), so feedback cannot be kept.", code="outcomes_disabled")
    check_media_type(headers)
    fb = parse_feedback(decode_object(await read_body(request, MAX_BODY_BYTES)), headers)
    key = outcomes.conversation_key(tenant, fb["conversation"])

    def store() -> Any:
        row = outcomes.repo.set_feedback(tenant, key, rating=fb["rating"], resolved=fb["resolved"])
        if row is None and outcomes.recorder.flush(2.0):  # the conversation's last turn may still be in the writer's queue
            row = outcomes.repo.set_feedback(tenant, key, rating=fb["rating"], resolved=fb["resolved"])
        deadline = time.monotonic() + OTHER_REPLICA_SECONDS
        while row is None and time.monotonic() < deadline:  # ... or in another replica's, which writes within a moment
            time.sleep(0.1)
            row = outcomes.repo.set_feedback(tenant, key, rating=fb["rating"], resolved=fb["resolved"])
        return row

    row = await anyio.to_thread.run_sync(store)
    if row is None:
        raise NotFound(
            "Bedside has no outcome for this conversation: it did not pass through Bedside with this tenant's key, it was marked no-store, "
            "or its facts have expired. Send the id you sent as X-Bedside-Conversation, or the one Bedside returned in x-bedside-conversation.",
            param="conversation",
            code="conversation_not_found",
        )
    kept, why = (False, "") if fb["comment"] is None else await _keep_comment(services, tenant, fb, row.policy_name, row.turns, headers)
    answer: dict[str, Any] = {"object": "feedback", "conversation": fb["conversation"], "rating": row.rating, "resolved": row.resolved, "comment_kept": kept}
    if why:
        answer["comment_note"] = why
    return Response(content=_encode(answer), media_type=MediaType.JSON)


ROUTES = [post_feedback]

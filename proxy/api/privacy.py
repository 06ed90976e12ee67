"""The privacy API: a tenant's users' consent (``/v1/users/{user}/consent``) and memories.

* ``PUT /v1/users/{user}/consent`` with ``{"purpose": "memory" | "transcripts", "granted": bool}``
  appends the decision and answers its receipt.
* ``GET /v1/users/{user}/consent`` answers the current state per purpose and the history.
* ``GET /v1/users/{user}/memories`` lists what Bedside remembers of the user (decrypted, values
  included: it is the user's own data), ``DELETE /v1/users/{user}/memories/{id}`` forgets one and
  ``DELETE /v1/users/{user}/memories`` forgets all of them (that user's only). Withdrawing the
  ``memory`` purpose forgets them all too; withdrawing ``transcripts`` deletes the user's recorded
  turns (:meth:`~proxy.privacy.transcripts.TranscriptWriter.delete_all`).

``{user}`` is the tenant's own id for its end user (the same value as ``X-Bedside-User``); it is
stored only as a keyed HMAC. In open mode (no API key anywhere) the open tenant is served; once
keys exist a key with the ``privacy`` scope is required (401 without a valid key, 403
``insufficient_scope`` for a key without the scope). A user the tenant has no record of is 404
``user_not_found`` (nothing granted), and a user of another tenant is exactly the same 404: users
are looked up within the caller's tenant only, so there is nothing else to answer.

Every change (a consent decision, memories or transcripts deleted) is recorded in the audit log
(``consent`` and ``user_data`` entries, the user named by subject only). With
``audit.privacy_on_failure: fail_closed`` (the default) a change is refused with 503
``audit_unavailable`` when the log cannot take entries, and the answer waits until the entry has its
index; with ``fail_open`` the entry is queued and a lost one counted.

``proxy.app`` adds :data:`ROUTES` to its handlers and puts a :class:`PrivacyAPI` (the key ring and
the services' consent ledger, memory store, transcript writer and audit log) in its state as
``privacy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, delete, get, put
from litestar.datastructures import State
from litestar.params import FromPath

from proxy.api.body import check_media_type, decode_object, read_body
from proxy.audit.events import AuditEvent, ConsentChange, UserDataChange
from proxy.audit.log import AuditLog
from proxy.auth import KeyRing, check_single_credential
from proxy.crypto.subjects import MAX_USER_ID
from proxy.errors import AuditUnavailable, InvalidRequest, NotFound
from proxy.metrics import Metrics
from proxy.privacy.consent import ConsentLedger
from proxy.privacy.memory import MemoryStore
from proxy.privacy.transcripts import TranscriptWriter
from proxy.storage.tables import PURPOSES

_encode = msgspec.json.Encoder().encode
SCOPE = "privacy"
#: a consent body is two small fields
MAX_BODY_BYTES = 4096


@dataclass(frozen=True, slots=True)
class PrivacyAPI:
    """What the privacy routes need, kept in the app state as ``privacy``."""

    keyring: KeyRing
    ledger: ConsentLedger
    memories: MemoryStore | None = None
    transcripts: TranscriptWriter | None = None
    audit: AuditLog | None = None
    #: ``audit.privacy_on_failure``
    on_failure: str = "fail_closed"
    metrics: Metrics | None = None

    def admit(self) -> None:
        """Before a change: refuse it (503) when fail_closed and the audit log cannot take entries."""
        if self.audit is not None and self.on_failure == "fail_closed" and not self.audit.available:
            if self.metrics is not None:
                self.metrics.audit_refused.labels("privacy").inc()
            raise AuditUnavailable("Bedside records every privacy change in its audit log, which cannot record right now, so nothing was changed. Try again in a moment.")

    async def record(self, event: AuditEvent) -> int | None:
        """Record a change that was made: wait for its index (fail_closed) or queue it (fail_open)."""
        if self.audit is None:
            return None
        if self.on_failure == "fail_open":
            self.audit.submit(event)
            return None
        try:
            return await self.audit.append(event)
        except AuditUnavailable:
            if self.metrics is not None:
                self.metrics.audit_refused.labels("privacy").inc()
            raise AuditUnavailable(
                "Your change was made, but the audit log has not confirmed its entry yet (its database is slow or down); "
                "the entry is queued and will be written. Read the current state with GET before trying again."
            ) from None


def _privacy(state: State) -> PrivacyAPI:
    api: PrivacyAPI = state.privacy
    return api


def _headers(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}


def privacy_tenant(request: Request[Any, Any, Any], keyring: KeyRing) -> str:
    """The caller's tenant, for a key with the ``privacy`` scope (one credential only)."""
    check_single_credential(request.scope["headers"])
    return keyring.authenticate_scoped(_headers(request), SCOPE)


def path_id(value: str, *, limit: int = MAX_USER_ID, param: str = "user", code: str = "invalid_user") -> str:
    """An id from the path: 1 to ``limit`` printable characters, else a 400 naming ``param``."""
    value = value.strip()
    if not value or len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidRequest(f"The {param} id in the path must be 1 to {limit} printable characters.", param=param, code=code)
    return value


def json_response(body: dict[str, Any]) -> Response[bytes]:
    return Response(content=_encode(body), media_type=MediaType.JSON)


def _decision(body: dict[str, Any]) -> tuple[str, bool]:
    unknown = sorted(set(body) - {"purpose", "granted"})
    if unknown:
        raise InvalidRequest(f"Unknown field '{unknown[0][:64]}'. A consent decision has exactly 'purpose' and 'granted'.", param=unknown[0][:64], code="unknown_parameter")
    purpose = body.get("purpose")
    if purpose not in PURPOSES:
        raise InvalidRequest(f"'purpose' must be one of {', '.join(repr(p) for p in PURPOSES)}.", param="purpose", code="invalid_purpose")
    granted = body.get("granted")
    if not isinstance(granted, bool):
        raise InvalidRequest("'granted' must be true (grant) or false (withdraw).", param="granted", code="invalid_type")
    return str(purpose), granted


@put("/v1/users/{user:str}/consent", status_code=200)
async def put_consent(request: Request[Any, Any, Any], state: State, user: FromPath[str]) -> Response[bytes]:
    api = _privacy(state)
    tenant = privacy_tenant(request, api.keyring)
    check_media_type(_headers(request))
    purpose, granted = _decision(decode_object(await read_body(request, MAX_BODY_BYTES)))
    user = path_id(user)
    api.admit()
    receipt = await api.ledger.record(tenant, user, purpose, granted, method="api")
    scope = api.ledger.scope(tenant, user)
    await api.record(
        ConsentChange(
            tenant=tenant, subject=scope.subject, purpose=purpose, granted=granted, receipt_id=receipt.id, method=receipt.method, notice_version=receipt.notice_version
        )
    )
    deleted: tuple[str, int] | None = None
    if purpose == "memory" and not granted and api.memories is not None:
        deleted = ("memories", await api.memories.forget_all(scope))  # withdrawn: nothing kept
    if purpose == "transcripts" and not granted and api.transcripts is not None:
        deleted = ("transcripts", await api.transcripts.delete_all(scope))  # withdrawn: the recorded turns go too
    if deleted is not None and deleted[1]:
        await api.record(UserDataChange(tenant=tenant, subject=scope.subject, data=deleted[0], count=deleted[1], cause="consent_withdrawn"))
    return json_response(receipt.to_json())


@get("/v1/users/{user:str}/consent")
async def get_consent(request: Request[Any, Any, Any], state: State, user: FromPath[str]) -> Response[bytes]:
    api = _privacy(state)
    tenant = privacy_tenant(request, api.keyring)
    user = path_id(user)
    state_ = await api.ledger.state(tenant, user)
    if not state_.history and not await api.ledger.known(tenant, user):
        raise _no_user()
    return json_response({**state_.to_json(), "user": user})


def _no_user() -> NotFound:
    return NotFound(
        "Bedside has no record of this user: nothing is granted. Record a decision with PUT on this path.",
        param="user",
        code="user_not_found",
    )


async def _memory_scope(request: Request[Any, Any, Any], state: State, user: str) -> tuple[MemoryStore, Any]:
    """The memory store and the user's scope; the same 404 for an unknown user and another tenant's."""
    api = _privacy(state)
    tenant = privacy_tenant(request, api.keyring)
    user = path_id(user)
    if api.memories is None or not await api.ledger.known(tenant, user):
        raise _no_user()
    return api.memories, api.memories.scope(tenant, user)


@get("/v1/users/{user:str}/memories")
async def list_memories(request: Request[Any, Any, Any], state: State, user: FromPath[str]) -> Response[bytes]:
    store, scope = await _memory_scope(request, state, user)
    return json_response({"object": "list", "data": [m.to_json() for m in await store.load(scope)]})


@delete("/v1/users/{user:str}/memories/{memory_id:str}", status_code=200)
async def forget_memory(request: Request[Any, Any, Any], state: State, user: FromPath[str], memory_id: FromPath[str]) -> Response[bytes]:
    store, scope = await _memory_scope(request, state, user)
    api = _privacy(state)
    api.admit()
    if len(memory_id) > 36 or not await store.forget(scope, memory_id):
        raise NotFound("This user has no memory with this id.", param="id", code="memory_not_found")
    await api.record(UserDataChange(tenant=scope.tenant, subject=scope.subject, data="memories", count=1, cause="user_request", memory_id=memory_id))
    return json_response({"object": "memory.deleted", "id": memory_id, "deleted": True})


@delete("/v1/users/{user:str}/memories", status_code=200)
async def forget_memories(request: Request[Any, Any, Any], state: State, user: FromPath[str]) -> Response[bytes]:
    store, scope = await _memory_scope(request, state, user)
    api = _privacy(state)
    api.admit()
    count = await store.forget_all(scope)
    if count:
        await api.record(UserDataChange(tenant=scope.tenant, subject=scope.subject, data="memories", count=count, cause="user_request"))
    return json_response({"object": "memory.deleted", "deleted": count})


ROUTES = [put_consent, get_consent, list_memories, forget_memory, forget_memories]

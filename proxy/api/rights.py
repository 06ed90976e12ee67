"""Export and erasure of one user's data: ``GET /v1/users/{user}/export``, ``DELETE /v1/users/{user}``.

* ``GET /v1/users/{user}/export`` streams one JSON document (schema: ``docs/export.schema.json``)
  with everything Bedside holds about the user, decrypted, and the processing facts of GDPR
  Art. 15 (:mod:`proxy.privacy.export`). It is written as it is read (``Transfer-Encoding:
  chunked``); the last field is ``"complete": true``, so a cut-off document is recognisable. Its
  head (consent, processing facts) is read before the answer starts, so a database failing at the
  start is a 503 ``database_unavailable``; one failing midway cuts the document (no ``complete``).
* ``DELETE /v1/users/{user}`` erases the user (:mod:`proxy.privacy.erasure`) and answers the
  deletion receipt (schema: ``docs/erasure-receipt.schema.json``). Safe to repeat: a retry after an
  interruption finishes the same erasure; once it is done the user is unknown (404).

Keys, tenants and 404s as for the consent API (:mod:`proxy.api.privacy`, whose helpers these routes
use): the ``privacy`` scope (open mode: the open tenant), one credential, users looked up in the
caller's tenant only. A user Bedside holds nothing about and another tenant's user get the same 404
``user_not_found``, byte for byte.

``proxy.app`` adds :data:`ROUTES` to its handlers and puts a :class:`RightsAPI` in its state as ``rights``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from litestar import MediaType, Request, Response, delete, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Stream

from proxy.api.privacy import json_response, path_id, privacy_tenant
from proxy.auth import KeyRing
from proxy.errors import NotFound, ServiceUnavailable
from proxy.logs import get_logger
from proxy.privacy.erasure import ErasureAuditFailed, ErasureWritersBusy
from proxy.privacy.rights import UserRights
from proxy.privacy.user_data import Who

#: answers with personal data are never kept by caches between Bedside and the caller
NO_STORE = {"cache-control": "no-store"}


@dataclass(frozen=True, slots=True)
class RightsAPI:
    """What the export and erasure routes need, kept in the app state as ``rights``."""

    keyring: KeyRing
    rights: UserRights


def _api(state: State) -> RightsAPI:
    api: RightsAPI = state.rights
    return api


def _no_user() -> NotFound:
    return NotFound(
        "Bedside holds nothing about this user in your tenant, so there is nothing to export or erase "
        "(an erasure that finished leaves nothing behind). Check the user id: it is the one you send as X-Bedside-User.",
        param="user",
        code="user_not_found",
    )


async def _known(request: Request[Any, Any, Any], state: State, user: str) -> tuple[RightsAPI, Who]:
    api = _api(state)
    tenant = privacy_tenant(request, api.keyring)
    who = api.rights.who(tenant, path_id(user))
    if not await api.rights.known(who):
        raise _no_user()
    return api, who


async def _logged(stream: AsyncIterator[bytes], tenant: str) -> AsyncIterator[bytes]:
    size = 0
    try:
        async for piece in stream:
            size += len(piece)
            yield piece
    except Exception as exc:
        get_logger().error("user_export", tenant=tenant, result="failed", bytes=size, exc_info=exc)
        raise
    get_logger().info("user_export", tenant=tenant, result="ok", bytes=size)


async def _after(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for piece in rest:
        yield piece


@get("/v1/users/{user:str}/export")
async def export_user(request: Request[Any, Any, Any], state: State, user: FromPath[str]) -> Stream:
    api, who = await _known(request, state, user)
    await api.rights.record_export(who)  # AuditUnavailable (503) when the audit log does not take it
    pieces = _logged(api.rights.export(who), who.tenant)
    # the head (consent and processing facts) is read before the 200 goes out, so a database that
    # fails at the start is a 503 the caller can retry, not a document cut off after its first byte
    head = await anext(pieces)
    return Stream(
        _after(head, pieces),
        media_type=MediaType.JSON,
        headers={**NO_STORE, "content-disposition": 'attachment; filename="bedside-export.json"'},
    )


@delete("/v1/users/{user:str}", status_code=200)
async def erase_user(request: Request[Any, Any, Any], state: State, user: FromPath[str]) -> Response[bytes]:
    api, who = await _known(request, state, user)
    try:
        receipt = await api.rights.erase(who)
    except ErasureAuditFailed:
        raise ServiceUnavailable(
            "Everything Bedside held about this user is erased, but the audit log did not record the erasure, so there is "
            "no receipt yet. Send the same DELETE again in a moment to finish it and get the receipt.",
            code="audit_unavailable",
        ) from None
    except ErasureWritersBusy:
        raise ServiceUnavailable(
            "Bedside is still writing this user's most recent conversation facts, so the erasure has not finished. "
            "Send the same DELETE again in a moment: it resumes the erasure and answers the receipt.",
            code="erasure_busy",
        ) from None
    get_logger().info("user_erasure", tenant=who.tenant, result="done", count=sum(receipt.erased.values()), n=len(receipt.data_keys_destroyed))
    response = json_response(receipt.model_dump(mode="json"))
    response.headers.update(NO_STORE)
    return response


ROUTES = [export_user, erase_user]

"""``/console``: the operators' page, served by Bedside with its own assets (no CDN, no content ever).

* ``GET /console``: the page (HTML); ``GET /console/assets/{name}``: its script and style sheet,
  from ``proxy/api/console_assets`` (a fixed list; nothing else is served). The page holds no data:
  it asks for an ``admin`` key (kept in the tab's ``sessionStorage`` only) unless Bedside is open.
* ``GET /console/status``: ``{"open": bool}``, so the page knows whether to ask for a key and
  whether to show the open-mode warning (``/readyz`` says the same to anyone).
* ``GET /console/events`` (``admin`` scope): server-sent events for the key's tenant: a
  ``snapshot`` of the live conversations, then a ``conversation`` event for every finished request,
  and ``ping`` every 15 s of silence (see :class:`proxy.outcomes.live.LiveBoard`). Machine values
  only: a short prefix of the conversation's keyed HMAC, policy, turns, the emotion and frustration
  trajectory, perception events, tone rules, rail verdicts, handoff.
* The KPI panels read ``GET /v1/kpis`` with the same key.

Every console response carries a strict Content-Security-Policy (own origin only, no inline
script), ``X-Frame-Options: DENY`` and ``no-store`` caching.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Stream

from proxy.api.kpis import admin_tenant
from proxy.errors import NotFound, ServiceUnavailable
from proxy.services import Services

_encode = msgspec.json.Encoder().encode
ASSETS = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _asset(name: str) -> bytes:
    return resources.files("proxy.api").joinpath("console_assets", name).read_bytes()


@get("/console", media_type=MediaType.HTML)
async def console_page() -> Response[bytes]:
    return Response(content=_asset("index.html"), media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


@get("/console/assets/{name:str}")
async def console_asset(name: FromPath[str]) -> Response[bytes]:
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("The console has no such file. Open /console.", code="not_found")
    return Response(content=_asset(name), media_type=media_type, headers=SECURITY_HEADERS)


@get("/console/status")
async def console_status(state: State) -> Response[bytes]:
    services: Services = state.services
    return Response(content=_encode({"open": services.keyring.open, "outcomes": services.outcomes is not None}), media_type=MediaType.JSON, headers=SECURITY_HEADERS)


def sse(event: dict[str, Any]) -> bytes:
    """One server-sent event: ``event: <type>`` and the JSON on one ``data:`` line."""
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + _encode(event) + b"\n\n"


@get("/console/events")
async def console_events(request: Request[Any, Any, Any], state: State) -> Stream:
    services: Services = state.services
    tenant = admin_tenant(request, services)
    outcomes = services.outcomes
    if outcomes is None:
        raise ServiceUnavailable("Outcome facts are turned off on this Bedside (outcomes.enabled): the console has nothing to show.", code="outcomes_disabled")

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        async for event in outcomes.board.subscribe(tenant):
            yield sse(event)

    return Stream(events(), media_type="text/event-stream", headers={**SECURITY_HEADERS, "x-accel-buffering": "no"})


ROUTES = [console_page, console_asset, console_status, console_events]

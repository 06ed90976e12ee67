"""The framework floor: the bare pass-through of ``bench/floor.py`` written on Bedside's own stack.

    python bench/framework_floor.py --upstream http://127.0.0.1:8091 [--host 127.0.0.1] [--port 8093]

Litestar on uvicorn (uvloop, httptools: what ``bedside serve`` runs), each request's bytes sent to
``upstream + path`` through one pooled ``aiohttp.ClientSession``, the reply returned unchanged:
JSON read whole, SSE relayed chunk by chunk. No Bedside code at all: no parsing, checks, logging,
metrics or middleware. ``bench/overhead.py --framework-floor`` measures it beside the aiohttp floor
and Bedside, so a table shows what the chosen framework costs before Bedside does anything; the
difference between this and Bedside's pass-through is Bedside's own work.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import uvicorn
from litestar import Litestar, Request, get, route
from litestar.response import Response, Stream

_FORWARD = ("authorization", "content-type", "accept")


def build_app(upstream: str) -> Litestar:
    """A Litestar app with one catch-all route under ``/v1`` and ``/healthz``."""
    upstream = upstream.rstrip("/")
    state: dict[str, Any] = {}

    async def on_startup() -> None:
        connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=60)
        state["session"] = aiohttp.ClientSession(connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout(total=300))

    async def on_shutdown() -> None:
        await state["session"].close()

    @route("/v1/{tail:path}", http_method=["GET", "POST"])
    async def forward(request: Request[Any, Any, Any], tail: str) -> Response[bytes] | Stream:
        body = await request.body()
        headers = {k: v for k in _FORWARD if (v := request.headers.get(k)) is not None}
        session: aiohttp.ClientSession = state["session"]
        url = f"{upstream}/v1{tail}" + (f"?{request.url.query}" if request.url.query else "")
        up = await session.request(request.method, url, data=body, headers=headers)
        ctype = up.headers.get("Content-Type", "application/octet-stream")
        if not ctype.startswith("text/event-stream"):
            try:
                return Response(content=await up.read(), status_code=up.status, media_type=ctype)
            finally:
                up.release()

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in up.content.iter_any():
                    yield chunk
            finally:
                up.release()

        return Stream(relay(), status_code=up.status, media_type=ctype, headers={"Cache-Control": "no-cache"})

    @get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    return Litestar(route_handlers=[forward, healthz], on_startup=[on_startup], on_shutdown=[on_shutdown], logging_config=None, openapi_config=None)


def main() -> None:
    parser = argparse.ArgumentParser(description="bare pass-through proxy on Litestar + uvicorn (the framework floor)")
    parser.add_argument("--upstream", required=True, help="upstream origin, e.g. http://127.0.0.1:8091 (the path is kept)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8093)
    args = parser.parse_args()
    print(f"framework floor on http://{args.host}:{args.port}/v1 -> {args.upstream}", flush=True)
    uvicorn.run(build_app(args.upstream), host=args.host, port=args.port, loop="uvloop", http="httptools", access_log=False, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()

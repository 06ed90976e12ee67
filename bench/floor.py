"""The floor: a bare pass-through proxy, what any proxy costs before it does anything useful.

    python bench/floor.py --upstream http://127.0.0.1:8091 [--host 127.0.0.1] [--port 8092]

aiohttp server on uvloop; each request's bytes go to ``upstream + path`` through one pooled
``aiohttp.ClientSession`` (keep-alive), and the reply comes back unchanged: JSON read whole, SSE
relayed chunk by chunk as it arrives. No parsing, no checks, no logging. ``bench/overhead.py``
compares Bedside against it.
"""

from __future__ import annotations

import argparse

import aiohttp
from aiohttp import web

_FORWARD = ("Authorization", "Content-Type", "Accept")


def build_app(upstream: str) -> web.Application:
    upstream = upstream.rstrip("/")
    app = web.Application()

    async def on_startup(app: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=60)
        app["session"] = aiohttp.ClientSession(connector=connector, auto_decompress=False, timeout=aiohttp.ClientTimeout(total=300))

    async def on_cleanup(app: web.Application) -> None:
        await app["session"].close()

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k in _FORWARD if (v := request.headers.get(k)) is not None}
        session: aiohttp.ClientSession = app["session"]
        async with session.request(request.method, upstream + request.path_qs, data=body, headers=headers) as up:
            ctype = up.headers.get("Content-Type", "application/octet-stream")
            if not ctype.startswith("text/event-stream"):
                return web.Response(status=up.status, body=await up.read(), headers={"Content-Type": ctype})
            out = web.StreamResponse(status=up.status, headers={"Content-Type": ctype, "Cache-Control": "no-cache"})
            await out.prepare(request)
            async for chunk in up.content.iter_any():
                await out.write(chunk)
            await out.write_eof()
            return out

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/healthz", healthz)
    app.router.add_route("*", "/v1/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="bare pass-through proxy (the benchmark floor)")
    parser.add_argument("--upstream", required=True, help="upstream origin, e.g. http://127.0.0.1:8091 (the path is kept)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        loop = None
    else:
        loop = uvloop.new_event_loop()
    print(f"floor proxy on http://{args.host}:{args.port}/v1 -> {args.upstream}", flush=True)
    web.run_app(build_app(args.upstream), host=args.host, port=args.port, print=None, access_log=None, loop=loop)


if __name__ == "__main__":
    main()

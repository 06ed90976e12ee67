"""Probes and metrics: ``/healthz`` (process alive), ``/readyz`` (can serve), ``/metrics``.

``/readyz`` answers 503 ``draining`` as soon as a shutdown begins (SIGTERM to ``bedside serve``,
``proxy/api/drain.py``), without running its other checks.

The probes are open; ``/metrics`` needs, once keys exist, a key with the ``metrics`` scope
(``bedside keys create --tenant ops --scopes metrics``), so a scraper holds no key that can chat.
"""

from __future__ import annotations

import time
from typing import Any

import anyio.to_thread
import msgspec
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State

from proxy.api.drain import Drain
from proxy.errors import BedsideError
from proxy.services import Services
from proxy.storage.engine import ping

_encode = msgspec.json.Encoder().encode
_PING_TTL = 5.0


@get("/healthz")
async def healthz() -> Response[Any]:
    return Response(content=b'{"status":"ok"}', media_type=MediaType.JSON)


class ReadinessCache:
    """Upstream pings are cached briefly so a busy probe does not hammer the model servers."""

    def __init__(self) -> None:
        self.until = 0.0
        self.result: dict[str, Any] = {}


@get("/readyz")
async def readyz(state: State) -> Response[Any]:
    services: Services = state.services
    cache: ReadinessCache = state.readiness
    drain: Drain | None = state.get("drain")
    if drain is not None and drain.draining:  # SIGTERM: tell the load balancer at once, before any other check
        check = {"ok": False, "in_flight": drain.in_flight, "seconds": round(drain.elapsed(), 1)}
        body = {"status": "draining", "checks": {"drain": check}, "warnings": [], "auth": "open" if services.keyring.open else "keys"}
        return Response(content=_encode(body), status_code=503, media_type=MediaType.JSON)
    checks: dict[str, Any] = {}
    ok = True
    try:
        await anyio.to_thread.run_sync(ping, services.engine)
        checks["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        ok = False
        checks["database"] = {"ok": False, "detail": f"the database did not answer ({type(exc).__name__})"}
    if time.monotonic() >= cache.until:
        upstreams: dict[str, Any] = {}
        for upstream in services.router.upstreams:
            try:
                await upstream.ping()
                upstreams[upstream.name] = {"ok": True}
            except BedsideError as exc:
                upstreams[upstream.name] = {"ok": False, "detail": exc.message}
        cache.result = upstreams
        cache.until = time.monotonic() + _PING_TTL
    checks["upstreams"] = cache.result
    ok = ok and all(u["ok"] for u in cache.result.values())
    extra = services.readiness_details()
    checks.update(extra["checks"])
    ok = ok and all(c.get("ok", True) for c in extra["checks"].values() if isinstance(c, dict))
    warnings = list(extra["warnings"])
    if services.keyring.open:
        warnings.append("OPEN TENANT: no API key is configured, so anyone who can reach Bedside can use it. Create a key with `bedside keys create --tenant NAME`.")
    if services.demo:
        warnings.append("DEMO UPSTREAM: replies come from the offline demo model. Set BEDSIDE_UPSTREAM_URL to use a real model.")
    body = {"status": "ready" if ok else "not_ready", "checks": checks, "warnings": warnings, "auth": "open" if services.keyring.open else "keys"}
    return Response(content=_encode(body), status_code=200 if ok else 503, media_type=MediaType.JSON)


@get("/metrics")
async def metrics(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    services: Services = state.services
    services.keyring.authenticate_scoped(dict(request.headers), "metrics")  # once keys exist: a key with the metrics scope
    return Response(content=services.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


ROUTES = [healthz, readyz, metrics]

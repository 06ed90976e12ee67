"""Graceful shutdown at the edge: count requests in flight, refuse new ones kindly while draining.

:class:`Drain` is the process's shutdown state, shared by three readers:

* ``bedside serve``'s server (``proxy/server.py``) calls :meth:`Drain.begin` on SIGTERM and waits,
  at most ``server.shutdown_grace_seconds``, until :attr:`Drain.in_flight` is 0 before it closes
  the listener and runs the app's shutdown (audit queue and outcome writer drained, a last
  checkpoint signed);
* ``/readyz`` answers 503 ``draining`` from the moment the drain begins, so a load balancer stops
  sending this replica new work;
* :class:`DrainingApp`, the ASGI wrapper ``bedside serve`` runs the app in, counts every HTTP
  request until its response (a stream included) has ended and, while draining, answers a request
  that still arrives with 503 ``shutting_down`` and ``Retry-After: 1`` without running it, so the
  client retries, and another replica answers. The probes (``/healthz``, ``/readyz``) and
  ``/metrics`` are always served.

The wrapper holds no per-request state beyond one counter; it reads no body and logs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

from proxy.errors import ServiceUnavailable

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: paths served even while draining: the orchestrator's probes and the metrics scrape
ALWAYS_SERVED = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER_SECONDS = 1

_encode = msgspec.json.Encoder().encode


def shutting_down() -> ServiceUnavailable:
    """What a request that reaches a replica on its way out is told."""
    return ServiceUnavailable(
        "This Bedside server is restarting and is not taking new requests. Nothing was sent on your behalf; "
        "please retry in a moment and another server will answer.",
        code="shutting_down",
        kind="shutting_down",
    )


class Drain:
    """Shutdown state: whether the drain has begun, since when, and how many requests are in flight."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.refused = 0
        self.began_at: float | None = None  # time.monotonic() of begin()

    @property
    def draining(self) -> bool:
        return self.began_at is not None

    def begin(self) -> bool:
        """Start draining (idempotent); True the first time."""
        if self.began_at is not None:
            return False
        self.began_at = time.monotonic()
        return True

    def elapsed(self) -> float:
        return 0.0 if self.began_at is None else time.monotonic() - self.began_at


class DrainingApp:
    """An ASGI app that counts ``app``'s HTTP requests and refuses new ones while ``drain`` is on."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain
        error = shutting_down()
        self._body = _encode(error.to_body())
        self._status = error.http_status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in ALWAYS_SERVED:
            await self.app(scope, receive, send)
            return
        drain = self.drain
        if drain.draining:
            drain.refused += 1
            await self._refuse(send)
            return
        drain.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            drain.in_flight -= 1

    async def _refuse(self, send: Send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(self._body)).encode()),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": self._status, "headers": headers})
        await send({"type": "http.response.body", "body": self._body})

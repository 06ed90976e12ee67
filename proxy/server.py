"""The HTTP server: uvicorn with httptools, plus the read limits uvicorn does not enforce.

uvicorn closes idle keep-alive connections, but once a client has sent one byte it waits for the
rest for ever: request headers that never finish, a body dripped a byte every few seconds or a
chunked body with no last chunk each hold a connection (and a task) open indefinitely, and a
request header of any size is buffered whole (quadratically, in httptools) before the app can say
no. :class:`BedsideHttpToolsProtocol` is uvicorn's httptools protocol with, per connection:

* a **header timeout** (``server.header_timeout``): from connection open, or from the end of the
  previous response, until a request's headers are complete. On expiry the connection is closed,
  with a 408 if part of a request had arrived (a silent idle connection is just closed, as
  uvicorn's keep-alive timeout does);
* a **body timeout** (``server.body_timeout`` for the whole body, ``server.body_idle_timeout``
  between two reads of it): a 408 if no response has started, then the connection is closed. Time
  the server itself holds the body back (reading paused because the app has not consumed the last
  64 KiB yet, or waiting for the app before sending ``100 Continue``) is not held against the client;
* a **header size limit** (``server.max_header_bytes``, request line plus headers): counted while
  they arrive, so an oversized header is refused with 431 after at most one read buffer, not after
  it has been received;
* **OpenAI-shaped errors** for these and for malformed HTTP (uvicorn answers ``Invalid HTTP
  request received.`` as plain text): ``{"error": {"message", "type", "param", "code"}}``.

After such an answer the connection is half-closed and what the client still sends is read and
discarded for a moment (a "lingering close", as nginx does), so the client can read the answer
instead of getting a connection reset; then it is closed.

On SIGTERM :class:`DrainingServer` drains before it stops (``server.shutdown_grace_seconds``;
:mod:`proxy.api.drain`).

``server.max_body_bytes`` stays with the app (``proxy/api/body.py``), which knows the route. With
``http="h11"`` (not what ``bedside serve`` runs) only uvicorn's own limits apply: the keep-alive
timeout and ``h11_max_incomplete_event_size`` set to ``server.max_header_bytes``.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import msgspec
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from proxy.api.drain import Drain, DrainingApp
from proxy.logs import get_logger

if TYPE_CHECKING:
    from proxy.settings import ServerSettings, Settings

#: after an error answer, how long and how much of what the client still sends is read and dropped
LINGER_SECONDS = 1.0
LINGER_BYTES = 256 * 1024

_encode = msgspec.json.Encoder().encode


def error_bytes(message: str, code: str) -> bytes:
    """The OpenAI error body for a response the server writes itself."""
    return _encode({"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}})


class BedsideHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header/body read timeouts and a header size limit.

    Use :func:`protocol_class` to get a subclass bound to the settings.
    """

    limits: ClassVar[ServerSettings]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        #: what the read timer is waiting for: the next request's headers, its body, or nothing
        #: (the app is answering)
        self._phase: Literal["headers", "body"] | None = "headers"
        self._phase_since = 0.0  # when the phase began (loop time)
        self._last_read = 0.0  # last body bytes (loop time)
        self._message_begun = False  # bytes of a request not yet complete have arrived
        self._header_bytes = 0  # bytes of the current request's line and headers seen so far
        self._completed = 0  # requests parsed in full on this connection
        self._answered = False  # the server wrote an error and is closing
        self._lingered = 0

    # ---- connection ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._enter("headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._answered:
            self._linger(len(data))
            return
        completed = self._completed
        super().data_received(data)
        # a read that neither finished the headers nor contained the end of an earlier request is
        # all header bytes, including a header value httptools is still accumulating
        if not self._answered and self._phase != "body" and self._message_begun and self._completed == completed:
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_header_bytes:
                self._answer_too_large()

    def send_400_response(self, msg: str) -> None:
        self._answer(400, "The request is not valid HTTP/1.1, so Bedside cannot read it. Check the request line, headers and body framing.", "invalid_http")

    # ---- parser callbacks ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._answered:
            return
        self._message_begun = True
        self._header_bytes = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        if not self._answered:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._answered:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._answered:
            return
        # request line (method, spaces, version and CRLF are about 16 bytes) plus "name: value\r\n"s
        size = len(self.url) + 16 + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if size > self.limits.max_header_bytes:
            self._answer_too_large()
            return
        super().on_headers_complete()
        self._enter("body")

    def on_body(self, body: bytes) -> None:
        if self._answered:
            return
        self._last_read = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._answered:
            return
        self._completed += 1
        self._message_begun = False
        super().on_message_complete()
        self._enter("headers" if self._app_idle() else None)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._answered and not self.transport.is_closing() and self._phase is None and self._app_idle():
            self._enter("headers")

    def handle_websocket_upgrade(self) -> None:  # pragma: no cover - bedside serve runs with ws="none"
        self._cancel()
        super().handle_websocket_upgrade()

    # ---- timers ---------------------------------------------------------------------------------

    def _app_idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _enter(self, phase: Literal["headers", "body"] | None) -> None:
        self._cancel()
        self._phase = phase
        self._phase_since = self._last_read = self.loop.time()
        if phase == "headers":
            self._timer = self.loop.call_later(self.limits.header_timeout, self._check)
        elif phase == "body":
            self._timer = self.loop.call_later(min(self.limits.body_timeout, self.limits.body_idle_timeout), self._check)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        self._timer = None
        if self._answered or self.transport.is_closing():
            return
        now = self.loop.time()
        if self._phase == "headers":
            deadline = self._phase_since + self.limits.header_timeout
            if now >= deadline:
                if self._message_begun:
                    self._answer(408, "The request headers did not arrive in time, so Bedside closed the connection. Send the whole request promptly.", "request_timeout")
                else:  # nothing of a new request: close quietly, like the keep-alive timeout
                    self.transport.close()
                return
        elif self._phase == "body":
            if self.flow.read_paused or (self.cycle is not None and self.cycle.waiting_for_100_continue):
                # the server is holding the body back, not the client: restart both clocks' slack
                self._last_read = now
                self._phase_since = max(self._phase_since, now - self.limits.body_timeout + self.limits.body_idle_timeout)
            deadline = min(self._phase_since + self.limits.body_timeout, self._last_read + self.limits.body_idle_timeout)
            if now >= deadline:
                self._body_timed_out()
                return
        else:
            return
        self._timer = self.loop.call_later(deadline - now, self._check)

    def _body_timed_out(self) -> None:
        if self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # the app answered already (and will see the disconnect)
        else:
            self._answer(408, "The request body did not arrive in time, so Bedside closed the connection. Send the whole body promptly.", "request_timeout")

    # ---- answers ----------------------------------------------------------------------------------

    def _answer_too_large(self) -> None:
        limit = self.limits.max_header_bytes
        message = (
            f"The request line and headers are larger than this Bedside accepts ({limit // 1024} KiB). "
            "Send fewer or shorter headers, or ask your operator to raise server.max_header_bytes."
        )
        self._answer(431, message, "request_headers_too_large")

    def _answer(self, status: int, message: str, code: str) -> None:
        """Write an error, half-close, and drop what the client still sends for a moment."""
        self._cancel()
        self._answered = True
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started or self._phase != "body":
                # a response is under way, or the app is answering an earlier (pipelined) request:
                # an answer now would interleave with it, so just close
                self.transport.close()
                return
            # the app is waiting for this request's body: it sees a disconnect, what it sends is dropped
            cycle.disconnected = True
            cycle.message_event.set()
        body = error_bytes(message, code)
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: application/json\r\ncontent-length: ", str(len(body)).encode(), b"\r\nconnection: close\r\n\r\n"]
        if self.transport.is_closing():
            return
        self.transport.write(b"".join(head) + body)
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self._timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    def _linger(self, size: int) -> None:
        self._lingered += size
        if self._lingered > LINGER_BYTES and not self.transport.is_closing():
            self.transport.close()


def protocol_class(limits: ServerSettings) -> type[BedsideHttpToolsProtocol]:
    """:class:`BedsideHttpToolsProtocol` bound to ``limits`` (uvicorn builds it with its own arguments)."""
    return type("BedsideHttpToolsProtocol", (BedsideHttpToolsProtocol,), {"limits": limits})


def uvicorn_options(settings: Settings, *, http: Literal["httptools", "h11"] = "httptools") -> dict[str, Any]:
    """The uvicorn options ``bedside serve`` runs with: uvloop, httptools with Bedside's limits."""
    server = settings.server
    return {
        "host": server.host,
        "port": server.port,
        "loop": "uvloop",
        "http": protocol_class(server) if http == "httptools" else "h11",
        "ws": "none",  # Bedside serves no websockets; an upgrade request is answered as plain HTTP
        "timeout_keep_alive": server.keep_alive_timeout,
        "h11_max_incomplete_event_size": server.max_header_bytes,
        "access_log": False,
        "log_config": None,
        "lifespan": "on",
        "timeout_graceful_shutdown": server.shutdown_grace_seconds,
    }


class DrainingServer(uvicorn.Server):
    """uvicorn's server with a drain before its shutdown (see :mod:`proxy.api.drain`).

    The first SIGTERM (or SIGINT) only begins the drain: ``/readyz`` answers 503, new requests get
    503 ``shutting_down`` with ``Retry-After``, the listener stays open. Once no request is in
    flight, or ``grace`` seconds after the signal, uvicorn's own shutdown runs: the listener
    closes, what is still open gets the rest of the grace (at least a second), then the app's
    shutdown drains the audit queue and the outcome writer and signs a last checkpoint. A second
    signal skips the wait; a further SIGINT forces the exit, as in plain uvicorn."""

    def __init__(self, config: uvicorn.Config, drain: Drain, grace: float) -> None:
        super().__init__(config)
        self.drain = drain
        self.grace = grace
        self._announced = False

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.drain.begin():
            return  # on_tick (every 0.1 s) does the rest, outside the signal handler
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        drain = self.drain
        if drain.draining and not self.should_exit:
            if not self._announced:
                self._announced = True
                get_logger().info("shutdown", phase="draining", in_flight=drain.in_flight, grace_s=self.grace)
            remaining = self.grace - drain.elapsed()
            if drain.in_flight == 0 or remaining <= 0:
                get_logger().info("shutdown", phase="stopping", in_flight=drain.in_flight, refused=drain.refused, duration_s=round(drain.elapsed(), 2))
                self.config.timeout_graceful_shutdown = max(1, math.ceil(remaining))
                self.should_exit = True
        return await super().on_tick(counter)


def serve(app: Any, settings: Settings, *, http: Literal["httptools", "h11"] = "httptools") -> None:
    """Run ``app`` until interrupted, with the limits in ``settings.server``.

    A Bedside app (one whose state holds a :class:`Drain`) runs inside :class:`DrainingApp` under
    :class:`DrainingServer`: SIGTERM drains it within ``server.shutdown_grace_seconds``."""
    drain = getattr(getattr(app, "state", None), "drain", None)
    if not isinstance(drain, Drain):
        uvicorn.run(app, **uvicorn_options(settings, http=http))
        return
    config = uvicorn.Config(DrainingApp(app, drain), **uvicorn_options(settings, http=http))
    DrainingServer(config, drain, settings.server.shutdown_grace_seconds).run()

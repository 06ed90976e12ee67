"""The HTTP interface the OpenAI layer needs, and nothing more.

``send`` returns once the response headers have arrived; the body is read with ``read`` or
``iter_bytes``. Implementations map their library's errors onto Bedside's:

* connection refused / reset / DNS failure before a reply -> ``UpstreamUnavailable``
* no connection or no headers in time -> ``UpstreamTimeout``
* a failure while reading the body -> ``UpstreamUnavailable`` (mid-stream: the route writes an
  SSE error frame)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from typing import Protocol

from proxy.settings import Timeouts


class UpstreamResponse(Protocol):
    status: int
    headers: Mapping[str, str]

    async def read(self, limit: int | None = None) -> bytes:
        """The whole body (at most ``limit`` bytes are kept)."""
        ...

    def iter_bytes(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives."""
        ...

    async def aclose(self) -> None:
        """Release the connection: back to the pool when the body was read, else closed."""
        ...


class HttpTransport(Protocol):
    name: str

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None,
        timeouts: Timeouts,
    ) -> UpstreamResponse: ...

    async def aclose(self) -> None: ...

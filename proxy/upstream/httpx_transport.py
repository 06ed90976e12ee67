"""The httpx transport: for HTTP proxies, HTTP/2, and respx / ``httpx.MockTransport`` in tests."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping

import httpx

from proxy.errors import UpstreamTimeout, UpstreamUnavailable
from proxy.settings import Timeouts


class HttpxResponse:
    __slots__ = ("_resp", "headers", "status")

    def __init__(self, resp: httpx.Response) -> None:
        self._resp = resp
        self.status = resp.status_code
        self.headers: Mapping[str, str] = resp.headers

    async def read(self, limit: int | None = None) -> bytes:
        try:
            if limit is None:
                return await self._resp.aread()
            data = bytearray()
            async for chunk in self._resp.aiter_bytes():
                data += chunk
                if len(data) >= limit:
                    break
            return bytes(data[:limit])
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("The model server took too long to send its reply.", kind="upstream_timeout") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("The model server closed the connection before its reply was complete.", kind="upstream_reset") from exc

    async def iter_bytes(self) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in self._resp.aiter_bytes():
                yield chunk
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("The model server went silent in the middle of its reply.", kind="upstream_stream_idle") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("The model server closed the connection in the middle of its reply.", kind="upstream_reset") from exc

    async def aclose(self) -> None:
        await self._resp.aclose()


class HttpxTransport:
    """``HttpTransport`` over an ``httpx.AsyncClient``; pass ``transport=`` to fake the upstream."""

    name = "httpx"

    def __init__(self, *, max_connections: int = 256, transport: httpx.AsyncBaseTransport | None = None, http2: bool = False) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._client = httpx.AsyncClient(limits=limits, transport=transport, http2=http2, follow_redirects=False, trust_env=True)

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None,
        timeouts: Timeouts,
    ) -> HttpxResponse:
        timeout = httpx.Timeout(connect=timeouts.connect, read=timeouts.read, write=timeouts.read, pool=timeouts.connect)
        request = self._client.build_request(method, url, headers=headers, content=content, timeout=timeout)
        try:
            resp = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("The model server took too long to answer.", kind="upstream_timeout") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable("Bedside could not reach the model server.", kind="upstream_unreachable") from exc
        return HttpxResponse(resp)

    async def aclose(self) -> None:
        await self._client.aclose()

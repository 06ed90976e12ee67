"""The default transport: aiohttp with a pooled keep-alive connector.

Measured on these machines (see ``bench/overhead.py``) it costs a third of httpx's CPU per request
and does not degrade at high concurrency.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping

import aiohttp

from proxy.errors import UpstreamTimeout, UpstreamUnavailable
from proxy.settings import Timeouts


class AiohttpResponse:
    __slots__ = ("_done", "_resp", "headers", "status")

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self._resp = resp
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers
        self._done = False

    async def read(self, limit: int | None = None) -> bytes:
        try:
            length = self._resp.content_length
            if limit is None or (length is not None and length <= limit):
                data = await self._resp.read()  # one call for a body of known, acceptable size
                self._done = True
                return data
            buf = bytearray()
            while True:
                chunk = await self._resp.content.read(65536)
                if not chunk:
                    self._done = True
                    break
                buf += chunk
                if len(buf) >= limit:
                    break  # not done: the connection is closed rather than reused
            return bytes(buf[:limit])
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise UpstreamUnavailable("The model server closed the connection before its reply was complete.", kind="upstream_reset") from exc

    async def iter_bytes(self) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
            self._done = True
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise UpstreamUnavailable("The model server closed the connection in the middle of its reply.", kind="upstream_reset") from exc

    async def aclose(self) -> None:
        if self._done:
            self._resp.release()
        else:
            self._resp.close()  # abandon the connection: the upstream sees the request cancelled


class AiohttpTransport:
    """``HttpTransport`` over one ``aiohttp.ClientSession`` (created lazily inside the loop)."""

    name = "aiohttp"

    def __init__(self, *, max_connections: int = 256) -> None:
        self._max = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max, keepalive_timeout=30, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None,
        timeouts: Timeouts,
    ) -> AiohttpResponse:
        session = self._get_session()
        timeout = self._timeouts.get(timeouts.connect)
        if timeout is None:  # building a ClientTimeout is surprisingly costly: one per setting
            timeout = self._timeouts[timeouts.connect] = aiohttp.ClientTimeout(total=None, sock_connect=timeouts.connect, connect=timeouts.connect)
        try:
            async with asyncio.timeout(timeouts.connect + timeouts.read):
                resp = await session.request(method, url, headers=headers, data=content, timeout=timeout, allow_redirects=False)
        except TimeoutError as exc:
            raise UpstreamTimeout("The model server took too long to answer.", kind="upstream_timeout") from exc
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, ConnectionError) as exc:
            raise UpstreamUnavailable("Bedside could not reach the model server.", kind="upstream_unreachable") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnavailable("The model server did not answer properly.", kind="upstream_client_error") from exc
        return AiohttpResponse(resp)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

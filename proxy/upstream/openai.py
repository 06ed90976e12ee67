"""The OpenAI protocol over an :class:`HttpTransport`: one configured upstream.

Reads a request body (already shaped by the stages), sends it, and returns a ``Completion`` whose
deltas come from the upstream's SSE stream or JSON body. Raises a typed ``UpstreamError`` for any
fault **before** the reply starts (including an error sent as the stream's first event); a fault
**after** it started surfaces as an exception from the delta iterator, which the route turns into
an SSE error frame.

Timeouts: ``connect`` + ``read`` bound the wait for response headers (non-streaming: also the
body); ``stream_idle`` bounds the silence between two chunks; ``total`` bounds the exchange.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlencode

import msgspec

from proxy.errors import UpstreamError, UpstreamProtocolError, UpstreamStatusError, UpstreamTimeout
from proxy.logs import get_logger
from proxy.pipeline.completion import Completion
from proxy.pipeline.deltas import Delta, ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta, coalesce
from proxy.pipeline.sse import SSEDecoder, decode_payload
from proxy.responses.decode import response_completion
from proxy.settings import Timeouts, UpstreamSettings
from proxy.upstream.chunk_timer import ChunkTimer
from proxy.upstream.stream_readers import ChatChunkReader, ResponsesEventReader, StreamReader, stream_error
from proxy.upstream.transport import HttpTransport, UpstreamResponse

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_MAX_ERROR_BODY = 64 * 1024
_MAX_JSON_BODY = 64 * 1024 * 1024


class OpenAIUpstream:
    """One OpenAI-compatible model server."""

    def __init__(self, config: UpstreamSettings, transport: HttpTransport, default_timeouts: Timeouts) -> None:
        self.config = config
        self.name = config.name
        self.transport = transport
        self.timeouts = config.timeouts or default_timeouts
        self._query = ("?" + urlencode(config.query)) if config.query else ""
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        headers.update({k.lower(): v for k, v in config.headers.items()})
        key = config.resolved_api_key()
        if key:
            if config.auth_header == "api-key":
                headers["api-key"] = key
            else:
                headers["authorization"] = f"Bearer {key}"
        self._headers = headers
        self._matches: dict[str, bool] = {}
        self._responses_mode: str = config.responses

    def matches(self, model: str) -> bool:
        found = self._matches.get(model)
        if found is None:
            found = self.config.matches(model)
            if len(self._matches) < 4096:
                self._matches[model] = found
        return found

    def _url(self, path: str) -> str:
        return f"{self.config.base_url}{path}{self._query}"

    async def _send(self, method: str, path: str, body: dict[str, Any] | None, request_id: str | None) -> UpstreamResponse:
        headers = self._headers if request_id is None else {**self._headers, "x-request-id": request_id}
        content = _encode(body) if body is not None else None
        resp = await self.transport.send(method, self._url(path), headers=headers, content=content, timeouts=self.timeouts)
        if resp.status >= 400:
            raise await _status_error(resp)
        return resp

    # ---- chat ------------------------------------------------------------------------------

    async def chat(self, body: dict[str, Any], *, request_id: str | None = None) -> Completion:
        stream = bool(body.get("stream"))
        deadline = time.monotonic() + self.timeouts.total
        resp = await self._send("POST", "/chat/completions", body, request_id)
        ctype = resp.headers.get("content-type", "")
        if stream and "text/event-stream" in ctype:
            return await self._stream_completion(resp, deadline)
        data = await self._read_json(resp, deadline)
        return json_completion(data)

    async def _read_json(self, resp: UpstreamResponse, deadline: float) -> dict[str, Any]:
        try:
            async with asyncio.timeout(min(self.timeouts.read, max(0.0, deadline - time.monotonic()))):
                raw = await resp.read(_MAX_JSON_BODY)
        except TimeoutError as exc:
            raise UpstreamTimeout("The model server took too long to send its reply.", kind="upstream_timeout") from exc
        finally:
            await resp.aclose()
        try:
            data = _decode(raw)
        except msgspec.DecodeError as exc:
            raise UpstreamProtocolError("The model server sent a reply that is not valid JSON.", kind="upstream_garbage") from exc
        if not isinstance(data, dict):
            raise UpstreamProtocolError("The model server sent a reply that is not a JSON object.", kind="upstream_garbage")
        return data

    async def _stream_completion(self, resp: UpstreamResponse, deadline: float, reader: StreamReader | None = None) -> Completion:
        """The deltas of an SSE reply, read by ``reader`` (chat completion chunks by default)."""
        reader = reader if reader is not None else ChatChunkReader()
        decoder = SSEDecoder()
        source = resp.iter_bytes()
        timer = ChunkTimer(self.timeouts.stream_idle, deadline)  # one timer per stream, not one per chunk

        async def next_payloads() -> list[str] | None:
            """The next batch of payloads, [] for a chunk with none, None at the end of the body."""
            chunk = await timer.next(source)
            return None if chunk is None else decoder.feed(chunk)

        # Read until the first payload so an error sent as the first event becomes a proper status.
        first: list[str] = []
        try:
            while not first:
                got = await next_payloads()
                if got is None:
                    first = decoder.flush()
                    if not first:
                        raise UpstreamProtocolError("The model server ended the stream without sending anything.", kind="upstream_empty_stream")
                    break
                first = got
            if first[0] != "[DONE]":
                reader.first(decode_payload(first[0]))
        except BaseException:
            timer.close()
            await resp.aclose()
            await source.aclose()
            raise

        async def deltas() -> AsyncIterator[Delta]:
            pending = first
            try:
                while True:
                    # the events of one read go on as one window: their text pieces joined
                    batch: list[Delta] = []
                    done = False
                    fault: Exception | None = None
                    for payload in pending:
                        if payload == "[DONE]":
                            done = True
                            break
                        try:
                            batch.extend(reader.deltas(decode_payload(payload)))
                        except Exception as exc:  # noqa: BLE001 - raised after what came before it
                            fault = exc
                            break
                    for delta in coalesce(batch) if len(batch) > 1 else batch:
                        yield delta
                    if fault is not None:
                        raise fault
                    if done:
                        await _drain(source)
                        return
                    if reader.finished:
                        await _drain(source)
                        return
                    got = await next_payloads()
                    if got is None:
                        rest = decoder.flush()
                        if rest:
                            pending = rest
                            continue
                        raise UpstreamProtocolError("The model server ended its reply without finishing it.", kind="upstream_truncated")
                    pending = got
            finally:
                timer.close()
                await source.aclose()
                await resp.aclose()

        return Completion(deltas=deltas(), meta=reader.meta, kept_as=reader.kept_as)

    # ---- the Responses API -------------------------------------------------------------------

    @property
    def responses_mode(self) -> str:
        """How Responses requests reach this upstream: ``passthrough``, ``translate``, or ``auto``
        (passthrough until the server answers that it has no ``/responses``)."""
        return self._responses_mode

    async def responses(self, body: dict[str, Any], *, request_id: str | None = None) -> Completion:
        """Send a Responses request as it is (passthrough); raises :class:`ResponsesNotServed` in
        ``auto`` mode when the server has no ``/responses`` (from then on it is ``translate``)."""
        stream = bool(body.get("stream"))
        deadline = time.monotonic() + self.timeouts.total
        try:
            resp = await self._send("POST", "/responses", body, request_id)
        except UpstreamStatusError as exc:
            if self._responses_mode == "auto" and exc.http_status in (404, 405) and exc.upstream_error is None:
                self._responses_mode = "translate"
                get_logger().warning("responses_translate", upstream=self.name, detail="the model server has no /responses: Responses requests are translated to chat completions")
                raise ResponsesNotServed(self.name) from exc
            raise
        if self._responses_mode == "auto":
            self._responses_mode = "passthrough"
        ctype = resp.headers.get("content-type", "")
        if stream and "text/event-stream" in ctype:
            reader = ResponsesEventReader()
            return await self._stream_completion(resp, deadline, reader)
        return response_completion(await self._read_json(resp, deadline))

    async def retrieve_response(self, response_id: str, *, request_id: str | None = None) -> dict[str, Any]:
        """``GET /responses/{id}`` of a stored response."""
        return await self.json_call("GET", f"/responses/{quote(response_id, safe='')}", request_id=request_id)

    async def delete_response(self, response_id: str, *, request_id: str | None = None) -> dict[str, Any]:
        """``DELETE /responses/{id}`` of a stored response."""
        return await self.json_call("DELETE", f"/responses/{quote(response_id, safe='')}", request_id=request_id)

    # ---- JSON endpoints ----------------------------------------------------------------------

    async def json_call(self, method: str, path: str, body: dict[str, Any] | None = None, *, request_id: str | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeouts.total
        resp = await self._send(method, path, body, request_id)
        return await self._read_json(resp, deadline)

    async def embeddings(self, body: dict[str, Any], *, request_id: str | None = None) -> dict[str, Any]:
        data = await self.json_call("POST", "/embeddings", body, request_id=request_id)
        if not isinstance(data.get("data"), list):
            raise UpstreamProtocolError("The model server's embeddings reply has no data list.", kind="upstream_garbage")
        return data

    async def models(self) -> list[dict[str, Any]]:
        data = await self.json_call("GET", "/models")
        items = data.get("data")
        if not isinstance(items, list):
            raise UpstreamProtocolError("The model server's model list is not a list.", kind="upstream_garbage")
        return [m for m in items if isinstance(m, dict) and isinstance(m.get("id"), str)]

    async def ping(self) -> None:
        """Raises an ``UpstreamError`` when the model server cannot list its models."""
        await self.models()


async def _drain(source: AsyncIterator[bytes], seconds: float = 0.05) -> None:
    """Read what follows ``[DONE]`` until the body ends, so the connection goes back to the pool.

    Servers that end the body a moment after ``[DONE]`` would otherwise cost a new connection per
    stream. Bounded: past ``seconds`` the connection is simply closed.
    """
    try:
        async with asyncio.timeout(seconds):
            async for _ in source:
                pass
    except (TimeoutError, UpstreamError):
        pass


def json_completion(data: dict[str, Any]) -> Completion:
    """A ``Completion`` from a non-streaming ``chat.completion`` body."""
    choices = data.get("choices")
    if not isinstance(choices, list):
        if "error" in data:
            raise stream_error(data)
        raise UpstreamProtocolError("The model server's reply has no choices.", kind="upstream_garbage")
    meta = {k: v for k, v in data.items() if k not in ("choices", "usage", "object")}
    usage = data.get("usage")
    completion = Completion(deltas=_body_deltas(choices, usage), meta=meta, template=choices, passthrough=data)
    completion._passthrough_of = completion.deltas
    return completion


async def _body_deltas(choices: list[Any], usage: Any) -> AsyncIterator[Delta]:
    for position, choice in enumerate(choices):
        if not isinstance(choice, dict):
            raise UpstreamProtocolError("The model server's reply has a malformed choice.", kind="upstream_garbage")
        index = choice.get("index", position)
        message = choice.get("message") or {}
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        if not isinstance(message, dict) or not isinstance(index, int) or isinstance(index, bool) or not isinstance(calls or [], list) or not all(isinstance(c, dict) for c in calls or ()):
            raise UpstreamProtocolError("The model server's reply has a malformed choice.", kind="upstream_garbage")
        content = message.get("content")
        if isinstance(content, str) and content:
            # logprobs travel with the text so output checks can drop those of text they refuse
            yield TextDelta(content, index, choice.get("logprobs"))
        for i, call in enumerate(calls or ()):
            fn = call.get("function") if isinstance(call.get("function"), dict) else {}
            yield ToolCallDelta(i, index, call.get("id"), fn.get("name"), fn.get("arguments") or "", call.get("type") or "function")
        if message.get("function_call"):
            yield ExtraDelta({"function_call": message["function_call"]}, index)
        yield FinishDelta(choice.get("finish_reason") or "stop", index)
    if isinstance(usage, dict):
        yield UsageDelta(usage)


async def _status_error(resp: UpstreamResponse) -> UpstreamError:
    try:
        raw = await resp.read(_MAX_ERROR_BODY)
    except UpstreamError:
        raw = b""
    finally:
        await resp.aclose()
    body: Any = None
    try:
        body = _decode(raw) if raw else None
    except msgspec.DecodeError:
        body = None
    status = resp.status
    if status == 429:
        msg = "The model server is busy right now (rate limited). Please wait a moment and try again."
    elif status >= 500:
        msg = "The model server had a problem answering. Please try again in a moment."
    elif status in (401, 403):
        msg = "The model server refused Bedside's credentials. An operator should check the upstream API key."
    elif status == 404:
        msg = "The model server does not know this model or endpoint. Check the model name."
    else:
        msg = f"The model server could not accept this request (HTTP {status}). The error's 'code' and 'param' say what it objected to."
    return UpstreamStatusError(msg, status=status, upstream_body=body if isinstance(body, dict) else None)


class ResponsesNotServed(Exception):
    """The upstream has no ``/responses`` (found in ``auto`` mode): translate to chat completions."""

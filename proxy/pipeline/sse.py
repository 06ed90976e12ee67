"""The SSE codec: upstream SSE bytes -> chunk dicts -> deltas, and deltas -> OpenAI SSE chunks.

Decoding (upstream side): :class:`SSEDecoder` turns bytes into ``data:`` payloads (handles ``\\r\\n``,
multi-line data, comments and events), :func:`chunk_to_deltas` turns one
``chat.completion.chunk`` into typed deltas.

Encoding (client side): :class:`ChunkEncoder` writes each delta as one
``data: {...chat.completion.chunk...}\\n\\n`` frame, adds ``role: "assistant"`` to a choice's first
frame, writes the usage chunk only when the client asked for it (``stream_options.include_usage``),
and ends with ``data: [DONE]``. :func:`error_frame` writes an OpenAI error object as an SSE frame for
faults after the stream began.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from proxy.errors import UpstreamProtocolError
from proxy.pipeline.deltas import Delta, ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta

DONE = b"data: [DONE]\n\n"
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

#: top-level chunk fields that are rebuilt, not passed through
_REBUILT = frozenset({"choices", "usage", "object"})
#: delta fields modelled by typed deltas
_MODELLED_DELTA = frozenset({"content", "tool_calls", "role"})


class SSEDecoder:
    """Incremental SSE parser: feed bytes, get complete ``data`` payloads (str)."""

    __slots__ = ("_buf", "_data")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        buf = self._buf + chunk if self._buf else chunk
        lines = buf.split(b"\n")
        self._buf = lines.pop()  # the unfinished last line (b"" when the chunk ended a line)
        out: list[str] = []
        for line in lines:
            if line[-1:] == b"\r":
                line = line[:-1]
            if not line:
                if self._data:
                    out.append("\n".join(self._data))
                    self._data = []
                continue
            if line[:5] == b"data:":
                value = line[6:] if line[5:6] == b" " else line[5:]
            elif line == b"data":
                value = b""
            else:
                continue  # a comment (keep-alive), or event:, id:, retry: (nothing Bedside needs)
            try:
                self._data.append(value.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise UpstreamProtocolError("The model server sent a stream that is not valid UTF-8.") from exc
        return out

    def flush(self) -> list[str]:
        """Payload left when the stream ended without a final blank line."""
        out = self.feed(b"\n\n") if self._buf or self._data else []
        return out


def decode_payload(payload: str) -> dict[str, Any]:
    """A ``data:`` payload as a dict, or UpstreamProtocolError."""
    try:
        value = _decode(payload)
    except msgspec.DecodeError as exc:
        raise UpstreamProtocolError("The model server sent a stream chunk that is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise UpstreamProtocolError("The model server sent a stream chunk that is not a JSON object.")
    return value


def chunk_to_deltas(chunk: dict[str, Any], meta: dict[str, Any]) -> Iterator[Delta]:
    """Typed deltas of one ``chat.completion.chunk``; fills ``meta`` with its top-level fields."""
    for key, value in chunk.items():
        if key not in _REBUILT:
            meta[key] = value
    choices = chunk.get("choices")
    if choices is None and "usage" not in chunk:
        raise UpstreamProtocolError("The model server sent a stream chunk without choices.")
    for choice in choices or ():
        if not isinstance(choice, dict):
            raise UpstreamProtocolError("The model server sent a malformed choice in a stream chunk.")
        index = choice.get("index", 0)
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            raise UpstreamProtocolError("The model server sent a malformed delta in a stream chunk.")
        content = delta.get("content")
        logprobs = choice.get("logprobs")
        if content:
            yield TextDelta(content, index, logprobs)
        elif logprobs:
            yield TextDelta("", index, logprobs)
        for call in delta.get("tool_calls") or ():
            fn = call.get("function") or {}
            yield ToolCallDelta(
                index=call.get("index", 0),
                choice=index,
                id=call.get("id"),
                name=fn.get("name"),
                arguments=fn.get("arguments") or "",
                type=call.get("type"),
            )
        extra = {k: v for k, v in delta.items() if k not in _MODELLED_DELTA and v is not None}
        if extra:
            yield ExtraDelta(extra, index)
        reason = choice.get("finish_reason")
        if reason:
            yield FinishDelta(reason, index)
    usage = chunk.get("usage")
    if usage:
        yield UsageDelta(usage)


class ChunkEncoder:
    """Writes deltas as OpenAI ``chat.completion.chunk`` SSE frames."""

    __slots__ = ("_include_usage", "_meta", "_prefix", "_prefix_of", "_started")

    def __init__(self, meta: dict[str, Any], *, include_usage: bool) -> None:
        self._meta = meta
        self._include_usage = include_usage
        self._started: set[int] = set()
        #: ``data: {`` and the top-level fields before ``choices``, encoded once for the meta they
        #: were encoded from (a copy: the reader updates ``meta`` in place)
        self._prefix = b""
        self._prefix_of: dict[str, Any] | None = None

    def _frame(self, choice: int, delta: dict[str, Any], finish: str | None = None, logprobs: Any = None) -> bytes:
        if choice not in self._started:
            self._started.add(choice)
            delta = {"role": "assistant", **delta}
            if "content" not in delta and "tool_calls" not in delta:
                delta["content"] = ""
        chunk_choice: dict[str, Any] = {"index": choice, "delta": delta, "finish_reason": finish}
        if logprobs is not None:
            chunk_choice["logprobs"] = logprobs
        body = {**self._meta, "object": "chat.completion.chunk", "choices": [chunk_choice]}
        if self._include_usage:
            body["usage"] = None
        return b"data: " + _encode(body) + b"\n\n"

    def _text(self, delta: TextDelta) -> bytes:
        """A text piece of a started choice: the same bytes as :meth:`_frame`, with the top-level
        fields encoded once per stream (again only when the upstream changes one)."""
        if self._prefix_of != self._meta:
            self._prefix_of = dict(self._meta)
            self._prefix = b"data: " + _encode({**self._meta, "object": "chat.completion.chunk"})[:-1] + b',"choices":[{"index":'
        tail = b'},"finish_reason":null}],"usage":null}\n\n' if self._include_usage else b'},"finish_reason":null}]}\n\n'
        return self._prefix + str(delta.choice).encode() + b',"delta":{"content":' + _encode(delta.text) + tail

    def encode(self, delta: Delta) -> bytes:
        if isinstance(delta, TextDelta):
            if delta.logprobs is None and delta.choice in self._started and type(delta.choice) is int:
                return self._text(delta)
            return self._frame(delta.choice, {"content": delta.text}, logprobs=delta.logprobs)
        if isinstance(delta, ToolCallDelta):
            call: dict[str, Any] = {"index": delta.index}
            if delta.id is not None:
                call["id"] = delta.id
            if delta.type is not None:
                call["type"] = delta.type
            fn: dict[str, Any] = {"arguments": delta.arguments}
            if delta.name is not None:
                fn["name"] = delta.name
            call["function"] = fn
            return self._frame(delta.choice, {"tool_calls": [call]})
        if isinstance(delta, FinishDelta):
            return self._frame(delta.choice, {}, finish=delta.reason)
        if isinstance(delta, ExtraDelta):
            return self._frame(delta.choice, dict(delta.fields))
        if isinstance(delta, UsageDelta):
            if not self._include_usage:
                return b""
            body = {**self._meta, "object": "chat.completion.chunk", "choices": [], "usage": delta.usage}
            return b"data: " + _encode(body) + b"\n\n"
        raise TypeError(f"unknown delta {type(delta).__name__}")


def error_frame(error_body: dict[str, Any]) -> bytes:
    """An OpenAI error object as one SSE frame (the ``openai`` client raises it as APIError)."""
    return b"data: " + _encode(error_body) + b"\n\n"

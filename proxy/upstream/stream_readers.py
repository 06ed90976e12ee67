"""What a streamed upstream reply's events mean: chat completion chunks, or Responses events.

:meth:`OpenAIUpstream._stream_completion <proxy.upstream.openai.OpenAIUpstream>` owns the socket,
the timeouts and the SSE framing; a reader turns each decoded ``data:`` payload into deltas. The
first payload is checked apart (``first``), so an error sent as the first event becomes the
request's HTTP status instead of a stream that fails at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from proxy.errors import UpstreamError, UpstreamStatusError
from proxy.pipeline.deltas import Delta
from proxy.pipeline.sse import chunk_to_deltas
from proxy.responses.decode import EventReader

__all__ = ["ChatChunkReader", "ResponsesEventReader", "StreamReader", "stream_error"]


class StreamReader(Protocol):
    #: the reply's top-level fields, filled as they arrive
    meta: dict[str, Any]
    #: the id under which the upstream keeps the reply (Responses with ``store``), else None
    kept_as: str | None
    #: a terminal event was read: the end of the body is the normal end (Responses streams have no ``[DONE]``)
    finished: bool

    def first(self, payload: dict[str, Any]) -> None: ...

    def deltas(self, payload: dict[str, Any]) -> Iterator[Delta]: ...


class ChatChunkReader:
    """``chat.completion.chunk`` payloads; the stream ends with ``data: [DONE]``."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.kept_as: str | None = None
        self.finished = False

    def first(self, payload: dict[str, Any]) -> None:
        if "error" in payload and "choices" not in payload:
            raise stream_error(payload)

    def deltas(self, payload: dict[str, Any]) -> Iterator[Delta]:
        if "error" in payload and "choices" not in payload:
            raise stream_error(payload)
        return chunk_to_deltas(payload, self.meta)


class ResponsesEventReader(EventReader):
    """The typed events of a streamed Response (:class:`proxy.responses.decode.EventReader`)."""


def stream_error(chunk: Mapping[str, Any]) -> UpstreamError:
    """An error object sent in place of a chat chunk (or a JSON body)."""
    err = chunk.get("error")
    status = 502
    if isinstance(err, dict):
        code = err.get("code")
        if isinstance(code, int) and 400 <= code < 600:
            status = code
    return UpstreamStatusError("The model server reported an error while answering.", status=status, upstream_body=dict(chunk))

"""An upstream's Responses reply (a JSON Response object, or its typed SSE events) -> deltas.

The text of ``message`` items becomes :class:`TextDelta` (so the PII and output stages check and
restore it in the hold-back window like any reply), ``function_call`` items
:class:`ToolCallDelta`, a ``refusal`` part ``ExtraDelta({"refusal": ...})`` as in chat. What
chat has no delta for travels as ``ExtraDelta({OUTPUT_ITEM: item})``: the header of a message
or function call item (its ``id``, so the client sees the upstream's item ids) and every other
item whole (reasoning, built-in tool calls), which no stage reads or changes.

``status`` becomes the finish: ``completed`` is ``stop`` (``tool_calls`` when the model called a
function), ``incomplete`` is ``length`` or ``content_filter`` by its reason, ``failed`` and an
``error`` event are upstream errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from proxy.errors import UpstreamError, UpstreamProtocolError, UpstreamStatusError
from proxy.pipeline.completion import Completion
from proxy.pipeline.deltas import Delta, ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta
from proxy.responses.ids import as_dict

__all__ = ["OUTPUT_ITEM", "EventReader", "failed_error", "finish_reason", "logprobs_in", "response_completion"]

#: the ExtraDelta key of an output item (a message's or function call's header, or another item whole)
OUTPUT_ITEM = "output_item"
#: fields of a Response object that are rebuilt from the deltas, not passed through as they came
_REBUILT = frozenset({"output", "usage", "output_text", "status", "incomplete_details", "error", "completed_at"})
_TERMINAL = frozenset({"response.completed", "response.incomplete"})


def finish_reason(status: Any, incomplete: Any, called: bool) -> str:
    """The pipeline's finish reason for a Response's ``status`` and ``incomplete_details``."""
    if status == "incomplete":
        reason = incomplete.get("reason") if isinstance(incomplete, dict) else None
        return "content_filter" if reason == "content_filter" else "length"
    return "tool_calls" if called else "stop"


def logprobs_in(logprobs: Any) -> Any:
    """Responses logprobs (a list of tokens) in the chat form the hold-back window reads."""
    return {"content": list(logprobs), "refusal": None} if isinstance(logprobs, list) and logprobs else None


def failed_error(response: Any) -> UpstreamError:
    """The error of a Response whose ``status`` is ``failed`` (or of an ``error`` event)."""
    err = response.get("error") if isinstance(response, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    status = 429 if code == "rate_limit_exceeded" else 502
    return UpstreamStatusError("The model server could not finish this response.", status=status, upstream_body={"error": err} if isinstance(err, dict) else None)


def _meta(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k not in _REBUILT}


def response_completion(data: dict[str, Any]) -> Completion:
    """A ``Completion`` from a non-streaming Response object."""
    output = data.get("output")
    if not isinstance(output, list):
        if isinstance(data.get("error"), dict) and "id" not in data:
            raise UpstreamStatusError("The model server reported an error while answering.", status=502, upstream_body=data)
        raise UpstreamProtocolError("The model server's reply is not a Response object (it has no output list).", kind="upstream_garbage")
    if data.get("status") == "failed":
        raise failed_error(data)
    kept = data.get("id") if data.get("store") is not False and isinstance(data.get("id"), str) else None
    return Completion(deltas=_output_deltas(output, data.get("status"), data.get("incomplete_details"), data.get("usage")), meta=_meta(data), kept_as=kept)


async def _output_deltas(output: list[Any], status: Any, incomplete: Any, usage: Any) -> AsyncIterator[Delta]:
    calls = 0
    for item in output:
        if not isinstance(item, dict):
            raise UpstreamProtocolError("The model server's reply has a malformed output item.", kind="upstream_garbage")
        kind = item.get("type")
        if kind == "message":
            yield ExtraDelta({OUTPUT_ITEM: _header(item)})
            for part in item.get("content") or ():
                for delta in _part_deltas(part):
                    yield delta
        elif kind == "function_call":
            yield ExtraDelta({OUTPUT_ITEM: _header(item)})
            yield ToolCallDelta(calls, 0, item.get("call_id"), item.get("name"), item.get("arguments") or "", "function")
            calls += 1
        else:
            yield ExtraDelta({OUTPUT_ITEM: item})
    yield FinishDelta(finish_reason(status, incomplete, calls > 0))
    if isinstance(usage, dict):
        yield UsageDelta(usage)


def _header(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("type", "id", "role") if item.get("type") == "message" else ("type", "id", "call_id")
    return {k: item[k] for k in keep if k in item}


def _part_deltas(part: Any) -> Iterator[Delta]:
    if not isinstance(part, dict):
        return
    if part.get("type") == "output_text" and isinstance(part.get("text"), str):
        yield TextDelta(part["text"], 0, logprobs_in(part.get("logprobs")))
        if part.get("annotations"):
            yield ExtraDelta({"annotations": part["annotations"]})
    elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
        yield ExtraDelta({"refusal": part["refusal"]})


class EventReader:
    """Typed SSE events of a streamed Response -> deltas, one event at a time.

    ``meta`` fills from ``response.created`` (and is updated at the end); ``kept_as`` is the
    response id when the upstream stores it; ``finished`` turns true at ``response.completed`` or
    ``response.incomplete`` (after which the end of the body is the normal end).
    """

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.kept_as: str | None = None
        self.finished = False
        self._calls: dict[Any, int] = {}  # output_index -> tool call index
        self._args_seen: set[int] = set()
        self._text_seen: set[Any] = set()

    def first(self, event: dict[str, Any]) -> None:
        """Check the stream's first event: an error becomes the request's HTTP status."""
        if event.get("type") == "error" or (isinstance(event.get("error"), dict) and "type" not in event):
            raise _event_error(event)
        if event.get("type") == "response.failed":
            raise failed_error(event.get("response"))
        self._start(event)

    def _start(self, event: dict[str, Any]) -> None:
        response = event.get("response")
        if isinstance(response, dict):
            self.meta.update(_meta(response))
            if self.kept_as is None and response.get("store") is not False and isinstance(response.get("id"), str):
                self.kept_as = response["id"]

    def deltas(self, event: dict[str, Any]) -> Iterator[Delta]:
        kind = event.get("type")
        if kind in ("response.created", "response.in_progress", "response.queued"):
            self._start(event)
        elif kind == "response.output_item.added":
            yield from self._item_added(event)
        elif kind == "response.output_text.delta":
            self._text_seen.add(event.get("item_id"))
            yield TextDelta(str(event.get("delta") or ""), 0, logprobs_in(event.get("logprobs")))
        elif kind == "response.output_text.done" and event.get("item_id") not in self._text_seen and isinstance(event.get("text"), str):
            yield TextDelta(event["text"], 0, logprobs_in(event.get("logprobs")))
        elif kind == "response.output_text.annotation.added" and isinstance(event.get("annotation"), dict):
            yield ExtraDelta({"annotations": [event["annotation"]]})
        elif kind == "response.refusal.delta":
            yield ExtraDelta({"refusal": str(event.get("delta") or "")})
        elif kind == "response.function_call_arguments.delta":
            index = self._calls.get(event.get("output_index"))
            if index is not None:
                self._args_seen.add(index)
                yield ToolCallDelta(index, 0, arguments=str(event.get("delta") or ""), type=None)
        elif kind == "response.output_item.done":
            yield from self._item_done(event)
        elif kind in _TERMINAL:
            yield from self._end(event)
        elif kind == "response.failed":
            raise failed_error(event.get("response"))
        elif kind == "error":
            raise _event_error(event)
        # other events (reasoning summary deltas, built-in tool progress) carry nothing the
        # pipeline reads: their items arrive whole with response.output_item.done

    def _item_added(self, event: dict[str, Any]) -> Iterator[Delta]:
        item = event.get("item")
        if not isinstance(item, dict):
            raise UpstreamProtocolError("The model server sent a malformed output item event.")
        if item.get("type") == "message":
            yield ExtraDelta({OUTPUT_ITEM: _header(item)})
        elif item.get("type") == "function_call":
            index = self._calls[event.get("output_index")] = len(self._calls)
            yield ExtraDelta({OUTPUT_ITEM: _header(item)})
            yield ToolCallDelta(index, 0, item.get("call_id"), item.get("name"), "", "function")
            if item.get("arguments"):
                self._args_seen.add(index)
                yield ToolCallDelta(index, 0, arguments=str(item["arguments"]), type=None)

    def _item_done(self, event: dict[str, Any]) -> Iterator[Delta]:
        item = event.get("item")
        if not isinstance(item, dict):
            raise UpstreamProtocolError("The model server sent a malformed output item event.")
        kind = item.get("type")
        if kind == "function_call":
            index = self._calls.get(event.get("output_index"))
            if index is not None and index not in self._args_seen and item.get("arguments"):
                yield ToolCallDelta(index, 0, arguments=str(item["arguments"]), type=None)
        elif kind != "message":
            yield ExtraDelta({OUTPUT_ITEM: item})

    def _end(self, event: dict[str, Any]) -> Iterator[Delta]:
        response = as_dict(event.get("response"))
        self._start(event)
        self.finished = True
        yield FinishDelta(finish_reason(response.get("status"), response.get("incomplete_details"), bool(self._calls)))
        if isinstance(response.get("usage"), dict):
            yield UsageDelta(response["usage"])


def _event_error(event: dict[str, Any]) -> UpstreamError:
    given = event.get("error")
    err: dict[str, Any] = given if isinstance(given, dict) else {"code": event.get("code"), "message": event.get("message"), "param": event.get("param"), "type": "server_error"}
    code = err.get("code")
    status = code if isinstance(code, int) and 400 <= code < 600 else 429 if code == "rate_limit_exceeded" else 502
    return UpstreamStatusError("The model server reported an error while answering.", status=status, upstream_body={"error": err})

"""Deltas -> the Responses API's reply: one Response object, or its typed SSE events.

:class:`OutputAssembler` turns the (checked, restored) deltas into output items as they arrive:
text opens a ``message`` item with an ``output_text`` part, a refusal a ``refusal`` part, a new tool
call closes what is open and opens a ``function_call`` item, a kept item (reasoning, built-in tool
calls) is added whole. Each step returns the stream events it implies (``response.output_item.added``,
``response.content_part.added``, ``response.output_text.delta``, ``response.function_call_arguments.delta``,
and their ``.done`` events when an item closes), so the streaming encoder and the JSON collector
share one code path and give the same output.

The finish becomes the response's ``status``: ``length`` is ``incomplete`` (``max_output_tokens``),
``content_filter`` is ``incomplete`` (``content_filter``: a policy stopped the reply, which ends with
the policy's own text), anything else ``completed``.

:func:`response_object` builds the Response itself: the upstream's top-level fields when it spoke
the Responses API, the client's own values of the fields a Response repeats (``instructions``,
``metadata``, ``tools``, ... : never the persona or the redacted values Bedside sent), the output,
the status and the usage (a chat usage is converted).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import msgspec

from proxy.errors import BedsideError
from proxy.pipeline.completion import Completion
from proxy.pipeline.deltas import Delta, ExtraDelta, TextDelta, ToolCallDelta, UsageDelta
from proxy.responses.decode import OUTPUT_ITEM
from proxy.responses.ids import as_dict, client_id, new_id

__all__ = [
    "OutputAssembler", "collect_response", "error_event", "events_from_deltas", "response_from_deltas", "response_object", "sse_frame", "usage_out",
]  # fmt: skip

_encode = msgspec.json.Encoder().encode
#: fields of the upstream's Response that the client's own values replace (Bedside changed them),
#: with the value a Response shows when the client did not send one
_ECHOED: dict[str, Any] = {
    "instructions": None, "metadata": {}, "tools": [], "tool_choice": "auto", "text": {"format": {"type": "text"}}, "user": None,
    "safety_identifier": None, "previous_response_id": None, "conversation": None, "prompt": None,
}  # fmt: skip
#: request fields a Response does not repeat
_NOT_REPEATED = frozenset({"store"})


def usage_out(usage: Any) -> dict[str, Any] | None:
    """A Responses usage object (a chat usage converted; missing details filled with 0)."""
    if not isinstance(usage, dict):
        return None
    if "input_tokens" in usage:
        inp, out = _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))
        in_details = as_dict(usage.get("input_tokens_details"))
        out_details = as_dict(usage.get("output_tokens_details"))
    else:
        inp, out = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
        in_details = as_dict(usage.get("prompt_tokens_details"))
        out_details = as_dict(usage.get("completion_tokens_details"))
    total = usage.get("total_tokens")
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": _int(in_details.get("cached_tokens")), "cache_write_tokens": _int(in_details.get("cache_write_tokens"))},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": _int(out_details.get("reasoning_tokens"))},
        "total_tokens": _int(total) if total is not None else inp + out,
    }


#: Response fields that are left out rather than null
_OMITTED_WHEN_NONE = ("user", "usage", "safety_identifier", "prompt", "conversation", "prompt_cache_key", "prompt_cache_retention", "service_tier")


def _listed_tool(tool: Any) -> Any:
    """A tool as a Response lists it: a function tool always says whether it is strict and its parameters."""
    if isinstance(tool, dict) and tool.get("type") == "function":
        return {"strict": None, "parameters": None, **tool}
    return tool


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _status(finish: str | None) -> tuple[str, dict[str, Any] | None]:
    if finish == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if finish == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


class OutputAssembler:
    """Output items built from deltas, and the stream events each step implies (see the module docstring)."""

    def __init__(self) -> None:
        self.output: list[dict[str, Any]] = []
        self.finish: str | None = None
        self.usage: Any = None
        self._open: dict[str, Any] | None = None  # the item being written
        self._part: dict[str, Any] | None = None  # its content part being written
        self._calls: dict[int, dict[str, Any]] = {}  # tool call index -> its item
        self._message_ids: list[str] = []  # ids of message items the upstream announced
        self._call_ids: dict[str, str] = {}  # call_id -> the upstream's item id

    # ---- the public steps -------------------------------------------------------------------

    def feed(self, delta: Delta) -> list[dict[str, Any]]:
        """The events ``delta`` implies (choice 0 only: a Response has one output)."""
        if isinstance(delta, UsageDelta):
            self.usage = delta.usage
            return []
        if delta.choice != 0:
            return []
        if isinstance(delta, TextDelta):
            return self._text(delta)
        if isinstance(delta, ToolCallDelta):
            return self._call(delta)
        if isinstance(delta, ExtraDelta):
            return self._extra(delta.fields)
        self.finish = delta.reason
        return []

    def close(self) -> list[dict[str, Any]]:
        """Close what is open (the end of the reply)."""
        return self._close()

    @property
    def status(self) -> tuple[str, dict[str, Any] | None]:
        return _status(self.finish)

    # ---- items ------------------------------------------------------------------------------

    def _text(self, delta: TextDelta) -> list[dict[str, Any]]:
        events = self._message_part("output_text")
        assert self._open is not None and self._part is not None
        self._part["text"] += delta.text
        logprobs = delta.logprobs.get("content") if isinstance(delta.logprobs, dict) else None
        if isinstance(logprobs, list):
            self._part["logprobs"].extend(logprobs)
        if delta.text or logprobs:
            events.append(
                {
                    "type": "response.output_text.delta",
                    "item_id": self._open["id"],
                    "output_index": self._index(),
                    "content_index": len(self._open["content"]) - 1,
                    "delta": delta.text,
                    "logprobs": list(logprobs or []),
                }
            )
        return events

    def _extra(self, fields: dict[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        item = fields.get(OUTPUT_ITEM)
        if isinstance(item, dict):
            kind = item.get("type")
            if kind == "message" and isinstance(item.get("id"), str):
                self._message_ids.append(item["id"])
            elif kind == "function_call" and isinstance(item.get("id"), str) and isinstance(item.get("call_id"), str):
                self._call_ids[item["call_id"]] = item["id"]
            elif kind not in ("message", "function_call"):
                events += self._close()
                self.output.append(item)
                index = len(self.output) - 1
                events.append({"type": "response.output_item.added", "output_index": index, "item": item})
                events.append({"type": "response.output_item.done", "output_index": index, "item": item})
        refusal = fields.get("refusal")
        if isinstance(refusal, str) and refusal:
            events += self._message_part("refusal")
            assert self._open is not None and self._part is not None
            self._part["refusal"] += refusal
            events.append(
                {"type": "response.refusal.delta", "item_id": self._open["id"], "output_index": self._index(), "content_index": len(self._open["content"]) - 1, "delta": refusal}
            )
        annotations = fields.get("annotations")
        if isinstance(annotations, list) and self._part is not None and self._part["type"] == "output_text":
            self._part["annotations"].extend(annotations)
        return events

    def _message_part(self, kind: str) -> list[dict[str, Any]]:
        """Make sure a message item is open with a ``kind`` part being written."""
        events: list[dict[str, Any]] = []
        if self._open is None or self._open["type"] != "message":
            events += self._close()
            item_id = self._message_ids.pop(0) if self._message_ids else new_id("msg")
            self._open = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
            self.output.append(self._open)
            events.append({"type": "response.output_item.added", "output_index": self._index(), "item": _snapshot(self._open)})
        if self._part is None or self._part["type"] != kind:
            events += self._close_part()
            self._part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []} if kind == "output_text" else {"type": "refusal", "refusal": ""}
            self._open["content"].append(self._part)
            events.append(
                {"type": "response.content_part.added", "item_id": self._open["id"], "output_index": self._index(), "content_index": len(self._open["content"]) - 1, "part": _snapshot(self._part)}
            )
        return events

    def _call(self, delta: ToolCallDelta) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        item = self._calls.get(delta.index)
        if item is None or delta.id is not None or delta.name is not None:
            if item is None:
                events += self._close()
                call_id = delta.id or new_id("call")
                item = {"id": self._call_ids.get(call_id) or new_id("fc"), "type": "function_call", "status": "in_progress", "call_id": call_id, "name": delta.name or "", "arguments": ""}
                self._calls[delta.index] = self._open = item
                self.output.append(item)
                events.append({"type": "response.output_item.added", "output_index": self._index(), "item": _snapshot(item)})
            else:
                item["name"] = delta.name or item["name"]
        if delta.arguments:
            item["arguments"] += delta.arguments
            events.append({"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": self.output.index(item), "delta": delta.arguments})
        return events

    # ---- closing ----------------------------------------------------------------------------

    def _index(self) -> int:
        return len(self.output) - 1

    def _close_part(self) -> list[dict[str, Any]]:
        part, item = self._part, self._open
        self._part = None
        if part is None or item is None:
            return []
        where = {"item_id": item["id"], "output_index": self.output.index(item), "content_index": item["content"].index(part)}
        if part["type"] == "output_text":
            done = {"type": "response.output_text.done", **where, "text": part["text"], "logprobs": part["logprobs"]}
        else:
            done = {"type": "response.refusal.done", **where, "refusal": part["refusal"]}
        return [done, {"type": "response.content_part.done", **where, "part": _snapshot(part)}]

    def _close(self) -> list[dict[str, Any]]:
        item = self._open
        if item is None:
            return []
        events = self._close_part() if item["type"] == "message" else []
        self._open = None
        item["status"] = "incomplete" if self.status[0] == "incomplete" else "completed"
        index = self.output.index(item)
        if item["type"] == "function_call":
            events.append({"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": index, "name": item["name"], "arguments": item["arguments"]})
        events.append({"type": "response.output_item.done", "output_index": index, "item": _snapshot(item)})
        return events


def _snapshot(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of an item or part as it is now (events must not change when it grows later)."""
    out: dict[str, Any] = msgspec.json.decode(_encode(obj))
    return out


def response_object(
    meta: dict[str, Any],
    echo: dict[str, Any],
    *,
    output: list[dict[str, Any]],
    status: str,
    incomplete: dict[str, Any] | None = None,
    usage: Any = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Response object (see the module docstring)."""
    created = meta.get("created_at", meta.get("created"))
    body: dict[str, Any] = {
        "id": client_id(meta.get("id")),
        "object": "response",
        "created_at": created if isinstance(created, (int, float)) and not isinstance(created, bool) else int(time.time()),
        "status": status,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": None,
        "max_output_tokens": echo.get("max_output_tokens"),
        "model": meta.get("model") or "",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": None,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": usage_out(usage),
        "user": None,
        "metadata": {},
    }
    for key, value in meta.items():  # the upstream's own fields (a Responses upstream), then the client's
        if key not in ("id", "object", "created", "created_at", "status", "error", "incomplete_details", "output", "usage", "system_fingerprint"):
            body[key] = value
    for key, default in _ECHOED.items():  # never the persona, the redacted values or the hashed user ids Bedside sent
        body[key] = echo[key] if echo.get(key) is not None else default
    for key, value in echo.items():
        if key not in _ECHOED and key not in meta and key not in _NOT_REPEATED:
            body[key] = value
    for key in _NOT_REPEATED:
        body.pop(key, None)
    if isinstance(body.get("conversation"), str):
        body["conversation"] = {"id": body["conversation"]}
    if isinstance(body.get("tools"), list):
        body["tools"] = [_listed_tool(t) for t in body["tools"]]
    for key in _OMITTED_WHEN_NONE:  # optional fields the spec does not let be null
        if body.get(key) is None:
            body.pop(key, None)
    if status == "completed":
        body["completed_at"] = int(time.time())
    return body


async def collect_response(completion: Completion, echo: dict[str, Any]) -> dict[str, Any]:
    """Drain a completion into one Response object (``stream`` false); closes it."""
    assembler = OutputAssembler()
    try:
        async for delta in completion.deltas:
            assembler.feed(delta)
    finally:
        await completion.aclose()
    assembler.close()
    status, incomplete = assembler.status
    return response_object(completion.meta, echo, output=assembler.output, status=status, incomplete=incomplete, usage=assembler.usage)


def error_event(exc: BedsideError, body: dict[str, Any]) -> dict[str, Any]:
    """The ``error`` stream event for a fault after the stream began (``body`` is the error's OpenAI body)."""
    err = as_dict(body.get("error"))
    return {"type": "error", "code": err.get("code") or exc.code or "server_error", "message": err.get("message") or exc.message, "param": err.get("param")}


def response_from_deltas(meta: dict[str, Any], echo: dict[str, Any], deltas: Iterable[Delta]) -> dict[str, Any]:
    """The Response object of a whole reply given as deltas (fakes and tests that write replies)."""
    assembler = OutputAssembler()
    for delta in deltas:
        assembler.feed(delta)
    assembler.close()
    status, incomplete = assembler.status
    return response_object(meta, echo, output=assembler.output, status=status, incomplete=incomplete, usage=assembler.usage)


def events_from_deltas(meta: dict[str, Any], echo: dict[str, Any], deltas: Iterable[Delta]) -> list[dict[str, Any]]:
    """Every stream event of a whole reply given as deltas, numbered (fakes and tests)."""
    started = response_object(meta, echo, output=[], status="in_progress")
    events: list[dict[str, Any]] = [{"type": "response.created", "response": started}, {"type": "response.in_progress", "response": started}]
    assembler = OutputAssembler()
    for delta in deltas:
        events += assembler.feed(delta)
    events += assembler.close()
    status, incomplete = assembler.status
    final = response_object(meta, echo, output=assembler.output, status=status, incomplete=incomplete, usage=assembler.usage)
    events.append({"type": "response.completed" if status == "completed" else "response.incomplete", "response": final})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def sse_frame(event: dict[str, Any]) -> bytes:
    """One event as an SSE frame (``event:`` names its type, as OpenAI's streams do)."""
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + _encode(event) + b"\n\n"

"""A Responses request <-> the pipeline's request (a chat-completions-shaped body).

:func:`from_responses` (the edge, before the stages) turns ``POST /v1/responses`` into the body
every stage reads:

==============================  ================================================================
Responses                       pipeline body
==============================  ================================================================
``instructions`` (string)       a ``system`` message first (which the policy treats like any
                                client system message: kept, dropped, refused)
``input`` string                one ``user`` message
``message`` items               messages of their role; parts ``input_text`` / ``output_text`` ->
                                ``text``, ``input_image`` -> ``image_url``, ``input_file`` ->
                                ``file``, ``refusal``, ``input_audio`` keep their chat forms
``function_call`` items         ``tool_calls`` of an assistant message (consecutive calls share one)
``function_call_output``        a ``tool`` message (``tool_call_id`` = ``call_id``)
any other item type             kept whole in ``input_items`` (reasoning, item references,
                                built-in tool calls): walked like any field, placed back after
                                the message it followed
function ``tools``              ``{"type": "function", "function": {...}}``; other tools as sent
``tool_choice`` by name         ``{"type": "function", "function": {"name": ...}}``
``max_output_tokens``           ``max_completion_tokens`` (the policy clamps it)
``text.format``/``.verbosity``  ``response_format`` / ``verbosity``
``reasoning.effort``            ``reasoning_effort``
``previous_response_id``,       not in the body: the route keeps them as ``ctx.thread``
``conversation``
everything else                 the same field, untouched (``metadata``, ``user``, ``store``, ...)
==============================  ================================================================

Fields an item has and chat has not (``id``, ``status``, annotations, ...) ride along under
``item`` (messages, tool calls) or ``part`` (content parts), so the PII walk reads them too and
:func:`to_responses` can put them back.

:func:`to_responses` (the upstream side, after the stages) rebuilds a Responses request from
``ctx.body`` alone, so whatever the stages did (persona, clamps, removed tools, redaction) is what
the upstream receives: Bedside's own guidance messages and the messages made from
``instructions`` become ``instructions`` (never kept in the upstream's stored history), every
other message becomes input items again. :class:`ResponsesWire` only remembers *which* messages
came from ``instructions`` and where the kept items sat; it holds no value that is forwarded.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from proxy.marks import is_bedside_text
from proxy.pipeline.context import ThreadRef
from proxy.responses.ids import as_dict, as_list, internal_id

__all__ = ["ECHO_FIELDS", "ITEM_KEY", "OPAQUE_KEY", "PART_KEY", "ResponsesWire", "from_responses", "to_responses"]

#: where input items with no chat form wait in the pipeline's body
OPAQUE_KEY = "input_items"
#: where a message or tool call keeps the item's fields chat has no place for
ITEM_KEY = "item"
#: where a content part keeps the part's fields chat has no place for
PART_KEY = "part"
#: the request fields a Response object repeats; the reply shows the client's own values
ECHO_FIELDS = (
    "instructions", "metadata", "tools", "tool_choice", "temperature", "top_p", "parallel_tool_calls", "max_output_tokens",
    "text", "reasoning", "store", "previous_response_id", "conversation", "user", "safety_identifier", "truncation",
    "top_logprobs", "service_tier", "prompt_cache_key", "background", "max_tool_calls", "prompt",
)  # fmt: skip
_SYSTEM_ROLES = ("system", "developer")
#: pipeline body fields that :func:`to_responses` turns back into their Responses fields
_MAPPED = frozenset({"messages", OPAQUE_KEY, "tools", "tool_choice", "max_tokens", "max_completion_tokens", "response_format", "verbosity", "text", "reasoning_effort", "reasoning"})


@dataclass(slots=True)
class ResponsesWire:
    """What the edge remembers beside ``ctx.body`` to rebuild a Responses request from it.

    References only: which message dicts came from ``instructions``, and the order of messages and
    kept items as the client sent them. Every value the upstream receives is read from ``ctx.body``
    after the stages. ``echo`` holds the client's own values of :data:`ECHO_FIELDS` (copies, for
    this request's reply only).
    """

    instructions: list[dict[str, Any]] = field(default_factory=list)
    #: ``instructions`` was a list of input items (rebuilt as a list), not a string
    instructions_list: bool = False
    #: messages and kept items in the client's order: ("m", message) or ("o", item)
    sequence: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    echo: dict[str, Any] = field(default_factory=dict)

    def is_instruction(self, message: dict[str, Any]) -> bool:
        return any(message is m for m in self.instructions)


def from_responses(body: dict[str, Any]) -> tuple[dict[str, Any], ResponsesWire, ThreadRef]:
    """The pipeline's body for a (checked) Responses request, what is needed to rebuild it, and the
    thread it continues (see the module docstring)."""
    wire = ResponsesWire(echo={k: copy.deepcopy(body[k]) for k in ECHO_FIELDS if k in body})
    messages: list[dict[str, Any]] = []
    opaque: list[dict[str, Any]] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        wire.instructions.append({"role": "system", "content": instructions})
    elif isinstance(instructions, list):
        wire.instructions_list = True
        _items(instructions, wire.instructions, [], wire)
    messages.extend(wire.instructions)
    given = body.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
        wire.sequence.append(("m", messages[-1]))
    elif isinstance(given, list):
        _items(given, messages, opaque, wire)

    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    for key, value in body.items():
        if key in ("model", "input", "instructions", "previous_response_id", "conversation"):
            continue
        if key == "tools" and isinstance(value, list):
            out["tools"] = [_tool_in(t) for t in value]
        elif key == "tool_choice":
            out["tool_choice"] = _tool_choice_in(value)
        elif key == "max_output_tokens":
            if value is not None:
                out["max_completion_tokens"] = value
        elif key == "text" and isinstance(value, dict):
            _text_in(value, out)
        elif key == "reasoning" and isinstance(value, dict):
            rest = {k: v for k, v in value.items() if k != "effort"}
            if value.get("effort") is not None:
                out["reasoning_effort"] = value["effort"]
            if rest:
                out["reasoning"] = rest
        elif value is not None or key not in ("text", "reasoning"):
            out[key] = value
    if opaque:
        out[OPAQUE_KEY] = opaque
    return out, wire, _thread(body)


def _thread(body: dict[str, Any]) -> ThreadRef:
    keep = body.get("store") is not False
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        conversation = conversation.get("id")
    if isinstance(conversation, str) and conversation:
        return ThreadRef(kind="conversation", continues=conversation, keep=keep)
    previous = body.get("previous_response_id")
    return ThreadRef(kind="response", continues=internal_id(previous) if isinstance(previous, str) and previous else None, keep=keep)


# ---- input items -> messages -------------------------------------------------------------------


def _item_type(item: dict[str, Any]) -> Any:
    return item.get("type") if "type" in item else ("message" if "role" in item else None)


def _items(items: Iterable[Any], messages: list[dict[str, Any]], opaque: list[dict[str, Any]], wire: ResponsesWire) -> None:
    """Append the messages of ``items`` (and keep the others in ``opaque``), in order."""
    open_calls: dict[str, Any] | None = None  # the assistant message consecutive function calls join
    for item in items:
        kind = _item_type(item)
        if kind == "message":
            message = _with_extra({"role": item.get("role"), "content": _content_in(item.get("content"))}, item, ("type", "role", "content"))
            open_calls = message if item.get("role") == "assistant" else None
        elif kind == "function_call":
            call = _with_extra(
                {"id": item.get("call_id"), "type": "function", "function": {"name": item.get("name"), "arguments": item.get("arguments")}},
                item,
                ("type", "call_id", "name", "arguments"),
            )
            if open_calls is not None and messages and messages[-1] is open_calls:
                open_calls.setdefault("tool_calls", []).append(call)
                continue
            message = open_calls = {"role": "assistant", "content": None, "tool_calls": [call]}
        elif kind == "function_call_output":
            message = _with_extra({"role": "tool", "tool_call_id": item.get("call_id"), "content": _content_in(item.get("output"))}, item, ("type", "call_id", "output"))
            open_calls = None
        else:
            opaque.append(item)
            wire.sequence.append(("o", item))
            open_calls = None
            continue
        messages.append(message)
        wire.sequence.append(("m", message))


def _with_extra(target: dict[str, Any], source: dict[str, Any], mapped: tuple[str, ...], key: str = ITEM_KEY) -> dict[str, Any]:
    extra = {k: v for k, v in source.items() if k not in mapped}
    if extra:
        target[key] = extra
    return target


def _content_in(content: Any) -> Any:
    if isinstance(content, list):
        return [_part_in(p) if isinstance(p, dict) else p for p in content]
    return content


def _part_in(part: dict[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return _with_extra({"type": "text", "text": part.get("text")}, part, ("type", "text"), PART_KEY)
    if kind == "input_image":
        image = {"url" if k == "image_url" else k: v for k, v in part.items() if k in ("image_url", "detail", "file_id")}
        return _with_extra({"type": "image_url", "image_url": image}, part, ("type", "image_url", "detail", "file_id"), PART_KEY)
    if kind == "input_file":
        file = {k: v for k, v in part.items() if k in ("file_id", "file_data", "filename", "file_url")}
        return _with_extra({"type": "file", "file": file}, part, ("type", "file_id", "file_data", "filename", "file_url"), PART_KEY)
    return part  # refusal and input_audio have the same form in chat; unknown parts travel as sent


def _tool_in(tool: Any) -> Any:
    if isinstance(tool, dict) and tool.get("type") == "function" and "function" not in tool:
        return {"type": "function", "function": {k: v for k, v in tool.items() if k != "type"}}
    return tool


def _tool_choice_in(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == "function" and "function" not in choice:
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice


def _text_in(text: dict[str, Any], out: dict[str, Any]) -> None:
    fmt = text.get("format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        out["response_format"] = {"type": "json_schema", "json_schema": {k: v for k, v in fmt.items() if k != "type"}}
    elif fmt is not None:
        out["response_format"] = fmt
    if text.get("verbosity") is not None:
        out["verbosity"] = text["verbosity"]
    rest = {k: v for k, v in text.items() if k not in ("format", "verbosity")}
    if rest:
        out["text"] = rest


# ---- the pipeline's body -> a Responses request --------------------------------------------------


def to_responses(body: dict[str, Any], wire: ResponsesWire, thread: ThreadRef | None) -> dict[str, Any]:
    """A Responses request built from ``body`` as the stages left it (see the module docstring)."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    after, first = _placements(messages, body.get(OPAQUE_KEY), wire)
    instructions: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = list(first)
    for message in messages:
        if wire.is_instruction(message) or (message.get("role") in _SYSTEM_ROLES and is_bedside_text(message.get("content"))):
            instructions.append(message)
        else:
            items.extend(_message_items(message))
        items.extend(after.get(id(message), ()))

    out: dict[str, Any] = {"model": body.get("model")}
    if instructions:
        out["instructions"] = _instructions_out(instructions, wire.instructions_list)
    out["input"] = items
    text: dict[str, Any] = {}
    reasoning: dict[str, Any] = {}
    limits: list[int] = []
    for key, value in body.items():
        if key not in _MAPPED:
            if key != "model":
                out[key] = value
        elif key == "tools" and isinstance(value, list):
            out["tools"] = [_tool_out(t) for t in value]
        elif key == "tool_choice":
            out["tool_choice"] = _tool_choice_out(value)
        elif key in ("max_tokens", "max_completion_tokens"):
            if isinstance(value, int) and not isinstance(value, bool):
                limits.append(value)
        elif key == "response_format":
            text["format"] = _format_out(value)
        elif key == "verbosity":
            text["verbosity"] = value
        elif key == "text" and isinstance(value, dict):
            text = {**value, **text}
        elif key == "reasoning_effort":
            reasoning["effort"] = value
        elif key == "reasoning" and isinstance(value, dict):
            reasoning = {**value, **reasoning}
    if limits:
        out["max_output_tokens"] = min(limits)
    if text:
        out["text"] = text
    if reasoning:
        out["reasoning"] = reasoning
    if thread is not None and thread.resume_from:
        out["conversation" if thread.kind == "conversation" else "previous_response_id"] = thread.resume_from
    return out


def _placements(messages: list[dict[str, Any]], kept: Any, wire: ResponsesWire) -> tuple[dict[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Where each kept item goes: after the last message before it that is still in the body
    (a policy may have dropped the one it followed), or first."""
    present = {id(m) for m in messages}
    anchor: dict[int, dict[str, Any] | None] = {}
    last: dict[str, Any] | None = None
    for kind, obj in wire.sequence:
        if kind == "m":
            if id(obj) in present:
                last = obj
        else:
            anchor[id(obj)] = last
    after: dict[int, list[dict[str, Any]]] = {}
    first: list[dict[str, Any]] = []
    for item in kept if isinstance(kept, list) else ():
        target = anchor.get(id(item))
        (after.setdefault(id(target), []) if target is not None else first).append(item)
    return after, first


def _message_items(message: dict[str, Any]) -> list[dict[str, Any]]:
    role = message.get("role")
    extra = as_dict(message.get(ITEM_KEY))
    if role in ("tool", "function"):
        return [{"type": "function_call_output", "call_id": message.get("tool_call_id"), "output": _content_out(message.get("content"), role), **extra}]
    out: list[dict[str, Any]] = []
    content = message.get("content")
    calls = as_list(message.get("tool_calls"))
    if content not in (None, "", []) or not calls:
        out.append({"type": "message", "role": role, "content": _content_out(content, role), **extra})
    for call in calls:
        if not isinstance(call, dict):
            continue
        fn = as_dict(call.get("function"))
        more = as_dict(call.get(ITEM_KEY))
        out.append({"type": "function_call", "call_id": call.get("id"), "name": fn.get("name"), "arguments": fn.get("arguments") or "", **more})
    return out


def _content_out(content: Any, role: Any) -> Any:
    if content is None:
        return ""
    if isinstance(content, list):
        return [_part_out(p, role) if isinstance(p, dict) else p for p in content]
    return content


def _part_out(part: dict[str, Any], role: Any) -> dict[str, Any]:
    kind = part.get("type")
    extra = as_dict(part.get(PART_KEY))
    if kind == "text":
        if role == "assistant":
            return {"type": "output_text", "text": part.get("text"), "annotations": [], **extra}
        return {"type": "input_text", "text": part.get("text"), **extra}
    if kind == "image_url" and isinstance(part.get("image_url"), dict):
        image = part["image_url"]
        out = {"type": "input_image", "detail": image.get("detail", "auto")}
        out.update(("image_url" if k == "url" else k, v) for k, v in image.items() if k != "detail")
        return {**out, **extra}
    if kind == "file" and isinstance(part.get("file"), dict):
        return {"type": "input_file", **part["file"], **extra}
    return part


def _instructions_out(messages: list[dict[str, Any]], as_list: bool) -> Any:
    if as_list:
        return [{"type": "message", "role": m.get("role"), "content": _content_out(m.get("content"), m.get("role"))} for m in messages]
    texts: list[str] = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.append("\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)))
    return "\n\n".join(t for t in texts if t)


def _tool_out(tool: Any) -> Any:
    if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("function"), dict):
        return {"type": "function", **tool["function"]}
    return tool


def _tool_choice_out(choice: Any) -> Any:
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("function"), dict):
        return {"type": "function", "name": choice["function"].get("name")}
    return choice


def _format_out(fmt: Any) -> Any:
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema" and isinstance(fmt.get("json_schema"), dict):
        return {"type": "json_schema", **fmt["json_schema"]}
    return fmt

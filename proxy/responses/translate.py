"""Responses requests for an upstream that serves only chat completions (``responses: translate``).

The pipeline's body is already a chat-completions body; :func:`to_chat` makes it a clean one:
the fields chat has no place for are dropped or, where dropping would change what the model is
asked, refused with a 400 that says what to do instead. The reply comes back as chat deltas and is
encoded as a Responses object like any other (:func:`responses_meta` gives it a response id).

What the translation cannot carry (documented in ``docs/responses.md``):

* refused: ``previous_response_id`` and ``conversation`` (a chat server keeps no history: resend
  the conversation in ``input``), built-in tools (``web_search``, ``file_search``, MCP, ...) and
  their calls in ``input``, ``item_reference`` items, ``prompt`` templates, images or files by
  ``file_id`` / ``file_url``, non-text parts in a function call's output, custom tools;
* dropped: ``reasoning`` items in ``input`` (a chat server cannot read them back), ``store``,
  ``include`` (``message.output_text.logprobs`` becomes ``logprobs: true``), ``truncation``,
  ``max_tool_calls``, ``text`` and ``reasoning`` settings other than ``format``, ``verbosity`` and
  ``effort``, and the Responses-only fields of items (``id``, ``status``, annotations).
"""

from __future__ import annotations

import time
from typing import Any

from proxy.errors import InvalidRequest
from proxy.pipeline.context import ThreadRef
from proxy.responses.ids import new_id
from proxy.responses.request import ITEM_KEY, OPAQUE_KEY, PART_KEY

__all__ = ["DROPPED", "responses_meta", "to_chat"]

#: Responses fields a chat request has no place for, dropped by the translation
DROPPED = frozenset({"store", "include", "truncation", "max_tool_calls", "text", "reasoning", "stream_options", "prompt_cache_retention", "background", "item", "input_items"})
_CHAT_TOOL_CHOICES = ("none", "auto", "required")


def _refuse(what: str, code: str = "unsupported_by_model_server", param: str | None = None) -> InvalidRequest:
    return InvalidRequest(
        f"The model server behind this model speaks only chat completions, so Bedside translates Responses requests for it, and {what}",
        code=code,
        param=param,
    )


def to_chat(body: dict[str, Any], thread: ThreadRef | None) -> dict[str, Any]:
    """A chat completions request with the meaning of ``body`` (the pipeline's body of a Responses
    request), or InvalidRequest for what it cannot carry (see the module docstring)."""
    if thread is not None and thread.continues is not None:
        param = "conversation" if thread.kind == "conversation" else "previous_response_id"
        raise _refuse(f"'{param}' cannot be translated: such a server keeps no conversation. Send the earlier turns in 'input' instead.", "unsupported_parameter", param)
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "messages":
            out["messages"] = _messages(value)
        elif key == OPAQUE_KEY:
            _check_kept_items(value)
        elif key == "tools" and isinstance(value, list):
            out["tools"] = [_tool(t) for t in value]
        elif key == "tool_choice":
            out["tool_choice"] = _tool_choice(value)
        elif key == "prompt" and value is not None:
            raise _refuse("a stored 'prompt' template cannot be translated. Send the prompt's text as 'instructions' or 'input'.", "unsupported_parameter", "prompt")
        elif key not in DROPPED:
            out[key] = value
    include = body.get("include")
    if isinstance(include, list) and "message.output_text.logprobs" in include:
        out["logprobs"] = True
    if body.get("stream"):
        out["stream_options"] = {"include_usage": True}
    return out


def responses_meta(chat_meta: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields of a Responses reply made from a chat reply's (a new response id)."""
    created = chat_meta.get("created")
    return {"id": new_id("resp"), "created_at": created if isinstance(created, int) else int(time.time()), "model": chat_meta.get("model")}


def _check_kept_items(items: Any) -> None:
    for item in items if isinstance(items, list) else ():
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "reasoning":
            continue  # the model's own earlier reasoning: a chat server cannot read it back, the turn stands without it
        raise _refuse(f"an input item of type '{kind}' has no chat form. Send messages, function calls and function call outputs only.", param="input")


def _messages(messages: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        clean: dict[str, Any] = {"role": role}
        if role == "tool":
            clean["tool_call_id"] = message.get("tool_call_id")
            clean["content"] = _content(message.get("content"), tool=True)
        else:
            clean["content"] = _content(message.get("content"), tool=False)
            calls = message.get("tool_calls")
            if isinstance(calls, list) and calls:
                clean["tool_calls"] = [{k: v for k, v in c.items() if k != ITEM_KEY} for c in calls if isinstance(c, dict)]
        for key in ("name", "refusal"):
            if key in message:
                clean[key] = message[key]
        previous = out[-1] if out else None
        if previous is not None and role == "assistant" and previous.get("role") == "assistant" and clean.get("tool_calls") and not clean.get("content"):
            previous.setdefault("tool_calls", []).extend(clean["tool_calls"])  # calls a kept reasoning item had separated
            continue
        out.append(clean)
    return out


def _content(content: Any, *, tool: bool) -> Any:
    if not isinstance(content, list):
        return content
    parts: list[Any] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append({"type": "text", "text": part.get("text")})
        elif tool:
            raise _refuse("a function call's output can carry only text there. Send the output as text.", param="input")
        elif kind == "image_url" and isinstance(part.get("image_url"), dict) and "url" in part["image_url"] and "file_id" not in part["image_url"]:
            parts.append({"type": "image_url", "image_url": {k: v for k, v in part["image_url"].items() if k in ("url", "detail")}})
        elif kind == "file" and isinstance(part.get("file"), dict) and "file_url" not in part["file"]:
            parts.append({"type": "file", "file": part["file"]})
        elif kind in ("refusal", "input_audio"):
            parts.append({k: v for k, v in part.items() if k != PART_KEY})
        else:
            raise _refuse(f"a content part of type '{kind}' (or an image or file given by id or URL) has no chat form. Send it inline as data.", param="input")
    return parts


def _tool(tool: Any) -> Any:
    if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(tool.get("function"), dict):
        return tool
    kind = tool.get("type") if isinstance(tool, dict) else None
    raise _refuse(f"the tool type '{kind}' is a built-in tool of the Responses API with no chat form. Use function tools with this model.", param="tools")


def _tool_choice(choice: Any) -> Any:
    if choice is None or choice in _CHAT_TOOL_CHOICES:
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("function"), dict):
        return choice
    raise _refuse("this 'tool_choice' has no chat form. Use \"auto\", \"none\", \"required\" or a function by name.", param="tool_choice")

"""The types and shapes of the Responses request fields Bedside or the OpenAI spec fixes.

What is checked: ``model``; ``input`` (a string, or a list of items: messages with their content
parts, function calls and their outputs; other item types pass through); ``instructions`` (a
string or a list of messages); the types of the fields Bedside maps, clamps or reads (``tools``,
``tool_choice``, ``stream``, ``max_output_tokens``, ``text``, ``metadata``, ``user``,
``previous_response_id``, ``conversation``, ...). Bedside's reserved mark is refused anywhere in
``input`` and ``instructions``. ``background: true`` and ``n`` are refused: Bedside checks every
reply as it is written, one at a time. Each failure is a 400 naming the field (``param``).
"""

from __future__ import annotations

from typing import Any

from proxy.api.chat_checks import _bad, _is_int, _opt_bool, _opt_int, _opt_number, _opt_object, _opt_str, _require_model
from proxy.api.reserved_mark import check_no_mark
from proxy.errors import InvalidRequest

__all__ = ["check_responses"]

_ROLES = frozenset({"user", "assistant", "system", "developer"})
_TEXT_PARTS = frozenset({"input_text", "output_text"})


def _check_parts(content: Any, p: str) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise _bad(p, f"{p} must be a string or a list of content parts such as {{\"type\": \"input_text\", \"text\": \"...\"}}.")
    for j, part in enumerate(content):
        pp = f"{p}[{j}]"
        if not isinstance(part, dict):
            raise _bad(pp, f"{pp} must be a content part object such as {{\"type\": \"input_text\", \"text\": \"...\"}}.")
        kind = part.get("type")
        if not isinstance(kind, str):
            raise _bad(f"{pp}.type", f"{pp}.type must be a string such as \"input_text\" or \"input_image\".", "missing_value" if kind is None else "invalid_type")
        if kind in _TEXT_PARTS and not isinstance(part.get("text"), str):
            raise _bad(f"{pp}.text", f"{pp}.text must be a string: a text part carries its text there.")
        if kind == "refusal" and not isinstance(part.get("refusal"), str):
            raise _bad(f"{pp}.refusal", f"{pp}.refusal must be a string.")
        for key in ("image_url", "file_id", "file_data", "filename", "file_url", "detail"):
            if kind in ("input_image", "input_file"):
                _opt_str(part, key, f"{pp}.{key}")


def _check_item(item: Any, p: str, *, messages_only: bool = False) -> None:
    if not isinstance(item, dict):
        raise _bad(p, f"{p} must be an object: a message {{\"role\": \"user\", \"content\": \"...\"}} or an item with a 'type'.")
    kind = item.get("type")
    if kind is not None and not isinstance(kind, str):
        raise _bad(f"{p}.type", f"{p}.type must be a string such as \"message\" or \"function_call_output\".")
    if kind is None and "role" not in item:
        raise _bad(p, f"{p} has neither 'type' nor 'role': say what the item is.", "missing_value")
    if kind in (None, "message"):
        role = item.get("role")
        if not isinstance(role, str) or role not in _ROLES:
            raise InvalidRequest(f"{p}.role must be one of user, assistant, system or developer.", param=f"{p}.role", code="invalid_value")
        if item.get("content") is None:
            raise InvalidRequest(f"{p}.content is missing.", param=f"{p}.content", code="invalid_value")
        _check_parts(item["content"], f"{p}.content")
        return
    if messages_only:
        raise _bad(p, f"{p} must be a message: 'instructions' holds system or developer messages only.", "invalid_value")
    if kind == "function_call":
        for key in ("call_id", "name", "arguments"):
            if not isinstance(item.get(key), str):
                raise _bad(f"{p}.{key}", f"{p}.{key} must be a string (a function call item carries its call_id, name and arguments).")
    elif kind == "function_call_output":
        if not isinstance(item.get("call_id"), str):
            raise _bad(f"{p}.call_id", f"{p}.call_id must be a string: the call_id of the function call this is the output of.")
        if item.get("output") is None:
            raise InvalidRequest(f"{p}.output is missing: send the function's result as a string.", param=f"{p}.output", code="invalid_value")
        _check_parts(item["output"], f"{p}.output")
    # other item types (reasoning, item_reference, built-in tool calls) pass through: the upstream knows them


def _check_input(body: dict[str, Any]) -> None:
    value = body.get("input")
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, list):
        raise _bad("input", "'input' must be a string or a list of input items.")
    for i, item in enumerate(value):
        _check_item(item, f"input[{i}]")
    check_no_mark(value, "input")


def _check_instructions(body: dict[str, Any]) -> None:
    value = body.get("instructions")
    if value is None:
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_item(item, f"instructions[{i}]", messages_only=True)
    elif not isinstance(value, str):
        raise _bad("instructions", "'instructions' must be a string (or a list of system and developer messages).")
    check_no_mark(value, "instructions")


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad("tools", "'tools' must be a list of tool definitions.")
        for i, tool in enumerate(tools):
            p = f"tools[{i}]"
            if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
                raise _bad(p, f"{p} must be an object with a 'type', such as {{\"type\": \"function\", \"name\": ...}}.")
            if tool["type"] == "function":
                if not isinstance(tool.get("name"), str) or not tool["name"]:
                    raise _bad(f"{p}.name", f"{p}.name must be the function's name (a non-empty string).")
                _opt_str(tool, "description", f"{p}.description")
                _opt_object(tool, "parameters", f"{p}.parameters")
                _opt_bool(tool, "strict", f"{p}.strict")
    choice = body.get("tool_choice")
    if choice is not None and not isinstance(choice, str):
        if not isinstance(choice, dict) or not isinstance(choice.get("type"), str):
            raise _bad("tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or an object with a 'type'.")
        _opt_str(choice, "name", "tool_choice.name")


def _check_options(body: dict[str, Any]) -> None:
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("stream", "'stream' must be true or false.")
    if _opt_object(body, "stream_options", "stream_options") is not None and stream is not True:
        raise _bad("stream_options", "'stream_options' applies only to streamed replies: set 'stream' to true, or leave 'stream_options' out.", "invalid_value")
    if body.get("background") is True:
        raise _bad(
            "background",
            "Bedside does not run responses in the background: it checks each reply as it is written and answers when it is done. Leave 'background' out, or stream the reply.",
            "unsupported_parameter",
        )
    if "n" in body and body["n"] not in (None, 1):
        raise _bad("n", "The Responses API writes one response at a time: leave 'n' out.", "unsupported_parameter")
    limit = body.get("max_output_tokens")
    if limit is not None and (not _is_int(limit) or limit < 1):
        raise _bad("max_output_tokens", "'max_output_tokens' must be a positive whole number.", "invalid_value")
    for field in ("temperature", "top_p"):
        _opt_number(body, field, field)
    for field in ("top_logprobs", "max_tool_calls"):
        _opt_int(body, field, field)
    for field in ("parallel_tool_calls", "store", "background"):
        _opt_bool(body, field, field)
    for field in ("user", "safety_identifier", "prompt_cache_key", "previous_response_id", "service_tier", "truncation"):
        _opt_str(body, field, field)
    conversation = body.get("conversation")
    if conversation is not None and not isinstance(conversation, str):
        if not isinstance(conversation, dict) or not isinstance(conversation.get("id"), str):
            raise _bad("conversation", "'conversation' must be a conversation id, or an object {\"id\": ...}.")
    if body.get("previous_response_id") and conversation:
        raise _bad("previous_response_id", "Send either 'previous_response_id' or 'conversation', not both.", "invalid_value")
    metadata = _opt_object(body, "metadata", "metadata")
    if metadata is not None and not all(isinstance(v, str) for v in metadata.values()):
        raise _bad("metadata", "'metadata' must be an object whose values are strings.")
    text = _opt_object(body, "text", "text")
    if text is not None:
        fmt = _opt_object(text, "format", "text.format")
        if fmt is not None:
            _opt_str(fmt, "type", "text.format.type")
            _opt_str(fmt, "name", "text.format.name")
    _opt_object(body, "reasoning", "reasoning")
    include = body.get("include")
    if include is not None and not (isinstance(include, list) and all(isinstance(v, str) for v in include)):
        raise _bad("include", "'include' must be a list of strings such as [\"message.output_text.logprobs\"].")


def check_responses(body: dict[str, Any]) -> None:
    """The Responses fields Bedside's mapping and stages rely on; raises InvalidRequest naming the field."""
    _require_model(body)
    _check_input(body)
    _check_instructions(body)
    _check_options(body)
    _check_tools(body)

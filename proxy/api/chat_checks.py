"""The types and shapes of the chat and embeddings fields Bedside or the OpenAI spec fixes.

What is checked: the fields Bedside's stages read (``model``, ``messages`` with every message's
``content``, parts, ``name``, ``tool_calls``), and the types of the OpenAI fields Bedside or its
stages touch or clamp (``stream``, ``stream_options``, ``n``, ``max_tokens``, ``tools``,
``tool_choice``, ``stop``, ``metadata``, ``logit_bias``, ...). Only types and shapes are checked,
as the OpenAI API documents them, with ``null`` accepted for optional fields; values are left to
the upstream. Unknown fields and unknown content-part types pass through untouched. Each failure
is a 400 naming the field (``param``) with a ``code``.
"""

from __future__ import annotations

from typing import Any

from proxy.api.reserved_mark import check_no_mark
from proxy.errors import InvalidRequest

__all__ = ["check_chat", "check_embeddings"]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
#: content-part types whose ``text`` the stages read
_TEXT_PARTS = frozenset({"text", "input_text"})


def _bad(param: str, message: str, code: str = "invalid_type") -> InvalidRequest:
    return InvalidRequest(message, param=param, code=code)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _opt_str(obj: dict[str, Any], key: str, param: str) -> None:
    v = obj.get(key)
    if v is not None and not isinstance(v, str):
        raise _bad(param, f"'{param}' must be a string.")


def _opt_bool(obj: dict[str, Any], key: str, param: str) -> None:
    v = obj.get(key)
    if v is not None and not isinstance(v, bool):
        raise _bad(param, f"'{param}' must be true or false.")


def _opt_number(obj: dict[str, Any], key: str, param: str) -> None:
    v = obj.get(key)
    if v is not None and not _is_number(v):
        raise _bad(param, f"'{param}' must be a number.")


def _opt_int(obj: dict[str, Any], key: str, param: str) -> None:
    v = obj.get(key)
    if v is not None and not _is_int(v):
        raise _bad(param, f"'{param}' must be a whole number.")


def _opt_object(obj: dict[str, Any], key: str, param: str) -> dict[str, Any] | None:
    v = obj.get(key)
    if v is not None and not isinstance(v, dict):
        raise _bad(param, f"'{param}' must be a JSON object.")
    return v


def _require_model(body: dict[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("Say which model to use: 'model' must be a non-empty string.", param="model", code="missing_model" if model is None else "invalid_type")


def _check_part(part: Any, p: str) -> None:
    if not isinstance(part, dict):
        raise _bad(p, f"{p} must be a content part object such as {{\"type\": \"text\", \"text\": \"...\"}}.")
    kind = part.get("type")
    if kind is None:
        raise _bad(f"{p}.type", f"{p} has no 'type': say what the part is, e.g. \"text\" or \"image_url\".", "missing_value")
    if not isinstance(kind, str):
        raise _bad(f"{p}.type", f"{p}.type must be a string such as \"text\" or \"image_url\".")
    if kind in _TEXT_PARTS:
        if not isinstance(part.get("text"), str):
            raise _bad(f"{p}.text", f"{p}.text must be a string: a text part carries its text there.")
    elif kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, dict):
            if not isinstance(image.get("url"), str):
                raise _bad(f"{p}.image_url.url", f"{p}.image_url.url must be a string (an https: or data: URL).")
            _opt_str(image, "detail", f"{p}.image_url.detail")
        elif not isinstance(image, str):
            raise _bad(f"{p}.image_url", f"{p}.image_url must be an object with a 'url' string.")
    elif kind == "input_audio":
        audio = part.get("input_audio")
        if not isinstance(audio, dict):
            raise _bad(f"{p}.input_audio", f"{p}.input_audio must be an object with 'data' and 'format' strings.")
        _opt_str(audio, "data", f"{p}.input_audio.data")
        _opt_str(audio, "format", f"{p}.input_audio.format")
    elif kind == "file":
        file = part.get("file")
        if not isinstance(file, dict):
            raise _bad(f"{p}.file", f"{p}.file must be an object with 'file_id' or 'file_data'.")
        for key in ("file_id", "file_data", "filename"):
            _opt_str(file, key, f"{p}.file.{key}")
    elif kind == "refusal":
        if not isinstance(part.get("refusal"), str):
            raise _bad(f"{p}.refusal", f"{p}.refusal must be a string.")
    # other part types pass through: the upstream knows which it supports


def _check_function(fn: Any, p: str) -> None:
    """A tool call's or legacy function call's ``{name, arguments}``."""
    if not isinstance(fn, dict):
        raise _bad(p, f"{p} must be an object with 'name' and 'arguments'.")
    _opt_str(fn, "name", f"{p}.name")
    args = fn.get("arguments")
    if args is not None and not isinstance(args, (str, dict)):
        raise _bad(f"{p}.arguments", f"{p}.arguments must be a string of JSON (or a JSON object).")


def _check_message(msg: Any, i: int) -> None:
    p = f"messages[{i}]"
    if not isinstance(msg, dict):
        raise InvalidRequest(f"{p} must be an object with 'role' and 'content'.", param=p, code="invalid_type")
    role = msg.get("role")
    if not isinstance(role, str) or role not in _ROLES:
        raise InvalidRequest(f"{p}.role must be one of system, developer, user, assistant or tool.", param=f"{p}.role", code="invalid_value")
    content = msg.get("content")
    if content is None:
        if role in ("user", "system", "developer"):
            raise InvalidRequest(f"{p}.content is missing.", param=f"{p}.content", code="invalid_value")
    elif isinstance(content, list):
        for j, part in enumerate(content):
            _check_part(part, f"{p}.content[{j}]")
    elif not isinstance(content, str):
        raise InvalidRequest(f"{p}.content must be a string or a list of content parts.", param=f"{p}.content", code="invalid_type")
    _opt_str(msg, "name", f"{p}.name")
    _opt_str(msg, "tool_call_id", f"{p}.tool_call_id")
    _opt_str(msg, "refusal", f"{p}.refusal")
    calls = msg.get("tool_calls")
    if calls is not None:
        if not isinstance(calls, list):
            raise _bad(f"{p}.tool_calls", f"{p}.tool_calls must be a list of tool call objects.")
        for k, call in enumerate(calls):
            cp = f"{p}.tool_calls[{k}]"
            if not isinstance(call, dict):
                raise _bad(cp, f"{cp} must be an object with 'id', 'type' and 'function'.")
            _opt_str(call, "id", f"{cp}.id")
            _opt_str(call, "type", f"{cp}.type")
            if call.get("function") is not None:
                _check_function(call["function"], f"{cp}.function")
    if msg.get("function_call") is not None:
        _check_function(msg["function_call"], f"{p}.function_call")
    check_no_mark(msg, p)


# ---- the chat body -------------------------------------------------------------------------------


def _check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _bad("tools", "'tools' must be a list of tool definitions.")
        for i, tool in enumerate(tools):
            p = f"tools[{i}]"
            if not isinstance(tool, dict):
                raise _bad(p, f"{p} must be an object such as {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}.")
            _opt_str(tool, "type", f"{p}.type")
            fn = tool.get("function")
            if fn is not None:
                if not isinstance(fn, dict):
                    raise _bad(f"{p}.function", f"{p}.function must be an object with a 'name'.")
                _opt_str(fn, "name", f"{p}.function.name")
                _opt_str(fn, "description", f"{p}.function.description")
                _opt_object(fn, "parameters", f"{p}.function.parameters")
                _opt_bool(fn, "strict", f"{p}.function.strict")
    choice = body.get("tool_choice")
    if choice is not None and not isinstance(choice, str):
        if not isinstance(choice, dict):
            raise _bad("tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or an object naming a tool.")
        _opt_str(choice, "type", "tool_choice.type")
        fn = _opt_object(choice, "function", "tool_choice.function")
        if fn is not None:
            _opt_str(fn, "name", "tool_choice.function.name")
    functions = body.get("functions")
    if functions is not None:
        if not isinstance(functions, list) or not all(isinstance(f, dict) for f in functions):
            raise _bad("functions", "'functions' must be a list of function definitions.")
        for i, f in enumerate(functions):
            _opt_str(f, "name", f"functions[{i}].name")
    call = body.get("function_call")
    if call is not None and not isinstance(call, str):
        if not isinstance(call, dict):
            raise _bad("function_call", "'function_call' must be \"none\", \"auto\" or an object naming a function.")
        _opt_str(call, "name", "function_call.name")


def _check_options(body: dict[str, Any]) -> None:
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("stream", "'stream' must be true or false.")
    options = _opt_object(body, "stream_options", "stream_options")
    if options is not None:
        _opt_bool(options, "include_usage", "stream_options.include_usage")
        _opt_bool(options, "include_obfuscation", "stream_options.include_obfuscation")
        if stream is not True:
            raise _bad("stream_options", "'stream_options' applies only to streamed replies: set 'stream' to true, or leave 'stream_options' out.", "invalid_value")
    n = body.get("n")
    if n is not None and (not _is_int(n) or n < 1 or n > 128):
        raise _bad("n", "'n' must be a whole number from 1 to 128.", "invalid_value")
    for field in ("max_tokens", "max_completion_tokens"):
        v = body.get(field)
        if v is not None and (not _is_int(v) or v < 1):
            raise _bad(field, f"'{field}' must be a positive whole number.", "invalid_value")
    for field in ("temperature", "top_p", "presence_penalty", "frequency_penalty"):
        _opt_number(body, field, field)
    for field in ("seed", "top_logprobs"):
        _opt_int(body, field, field)
    for field in ("logprobs", "parallel_tool_calls", "store"):
        _opt_bool(body, field, field)
    for field in ("user", "safety_identifier", "prompt_cache_key", "reasoning_effort", "service_tier", "verbosity"):
        _opt_str(body, field, field)
    for field in ("audio", "prediction", "web_search_options"):
        _opt_object(body, field, field)
    fmt = _opt_object(body, "response_format", "response_format")
    if fmt is not None:
        _opt_str(fmt, "type", "response_format.type")
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str) and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise _bad("stop", "'stop' must be a string or a list of strings.")
    metadata = _opt_object(body, "metadata", "metadata")
    if metadata is not None and not all(isinstance(v, str) for v in metadata.values()):
        raise _bad("metadata", "'metadata' must be an object whose values are strings.")
    bias = _opt_object(body, "logit_bias", "logit_bias")
    if bias is not None and not all(_is_number(v) for v in bias.values()):
        raise _bad("logit_bias", "'logit_bias' must be an object mapping token ids to numbers from -100 to 100.")
    modalities = body.get("modalities")
    if modalities is not None and not (isinstance(modalities, list) and all(isinstance(m, str) for m in modalities)):
        raise _bad("modalities", "'modalities' must be a list of strings such as [\"text\"].")


def check_chat(body: dict[str, Any]) -> None:
    """The chat fields Bedside's stages rely on; raises InvalidRequest naming the field."""
    _require_model(body)
    messages = body.get("messages")
    if messages is None:
        raise InvalidRequest("'messages' is missing: send the conversation as a list of {role, content} objects.", param="messages", code="missing_messages")
    if not isinstance(messages, list):
        raise InvalidRequest("'messages' must be a list of {role, content} objects.", param="messages", code="invalid_type")
    if not messages:
        raise InvalidRequest("'messages' is empty: send at least one message.", param="messages", code="empty_messages")
    for i, msg in enumerate(messages):
        _check_message(msg, i)
    _check_options(body)
    _check_tools(body)


def check_embeddings(body: dict[str, Any]) -> None:
    _require_model(body)
    value = body.get("input")
    ok = isinstance(value, str) or (
        isinstance(value, list)
        and value
        and (
            all(isinstance(v, str) for v in value)
            or all(_is_int(v) for v in value)
            or all(isinstance(v, list) and v and all(_is_int(t) for t in v) for v in value)
        )
    )
    if not ok:
        raise InvalidRequest("'input' must be a string or a non-empty list of strings (or token lists).", param="input", code="invalid_type")
    _opt_str(body, "encoding_format", "encoding_format")
    _opt_str(body, "user", "user")
    dims = body.get("dimensions")
    if dims is not None and (not _is_int(dims) or dims < 1):
        raise _bad("dimensions", "'dimensions' must be a positive whole number.", "invalid_value")

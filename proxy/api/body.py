"""Reading and checking request bodies: size limit, JSON, the few fields Bedside relies on.

Only what Bedside needs is checked (and explained kindly); every other field passes through to the
upstream untouched, which validates the rest.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from proxy.errors import InvalidRequest, PayloadTooLarge

_decode = msgspec.json.Decoder().decode
#: the prefix of Bedside's own injected messages ([bedside:persona], [bedside:tone], ...)
RESERVED_MARK = "[bedside:"
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


async def read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise PayloadTooLarge(_too_large(limit))
        return await request.body()  # bounded by the declared length, already checked
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(_too_large(limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> str:
    return (
        f"The request is larger than this Bedside accepts ({limit // 1024} KiB). "
        "Send fewer or shorter messages, or ask your operator to raise server.max_body_bytes."
    )


def decode_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise InvalidRequest("The request body is empty. Send a JSON object, e.g. {\"model\": ..., \"messages\": [...]}.", code="invalid_json")
    try:
        value = _decode(raw)
    except msgspec.DecodeError:
        raise InvalidRequest(
            "The request body is not valid JSON. Check quotes, commas and brackets, and send it with 'Content-Type: application/json'.",
            code="invalid_json",
        ) from None
    if not isinstance(value, dict):
        raise InvalidRequest("The request body must be a JSON object, not a list or a single value.", code="invalid_json")
    return value


def _require_model(body: dict[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequest("Say which model to use: 'model' must be a non-empty string.", param="model", code="missing_model" if model is None else "invalid_type")


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
        if not isinstance(msg, dict):
            raise InvalidRequest(f"messages[{i}] must be an object with 'role' and 'content'.", param=f"messages[{i}]", code="invalid_type")
        role = msg.get("role")
        if role not in _ROLES:
            raise InvalidRequest(
                f"messages[{i}].role must be one of system, developer, user, assistant or tool.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        content = msg.get("content")
        if isinstance(content, str) and content.startswith(RESERVED_MARK):
            # Bedside marks its own system messages this way and never returns them to clients, so a
            # client message carrying the mark is an attempt to pass as Bedside's own guidance
            raise InvalidRequest(
                f"messages[{i}].content starts with '{RESERVED_MARK}', which Bedside reserves for its own guidance. Remove that prefix and send it again.",
                param=f"messages[{i}].content",
                code="reserved_marker",
            )
        if content is not None and not isinstance(content, (str, list)):
            raise InvalidRequest(f"messages[{i}].content must be a string or a list of content parts.", param=f"messages[{i}].content", code="invalid_type")
        if content is None and role in ("user", "system", "developer"):
            raise InvalidRequest(f"messages[{i}].content is missing.", param=f"messages[{i}].content", code="invalid_value")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be true or false.", param="stream", code="invalid_type")
    n = body.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1 or n > 128):
        raise InvalidRequest("'n' must be a whole number from 1 to 128.", param="n", code="invalid_value")
    for field in ("max_tokens", "max_completion_tokens"):
        v = body.get(field)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise InvalidRequest(f"'{field}' must be a positive whole number.", param=field, code="invalid_value")
    for field in ("temperature", "top_p"):
        v = body.get(field)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
            raise InvalidRequest(f"'{field}' must be a number.", param=field, code="invalid_type")
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise InvalidRequest("'tools' must be a list of tool definitions.", param="tools", code="invalid_type")


def check_embeddings(body: dict[str, Any]) -> None:
    _require_model(body)
    value = body.get("input")
    ok = isinstance(value, str) or (
        isinstance(value, list)
        and value
        and (all(isinstance(v, str) for v in value) or all(isinstance(v, int) for v in value) or all(isinstance(v, list) for v in value))
    )
    if not ok:
        raise InvalidRequest("'input' must be a string or a non-empty list of strings (or token lists).", param="input", code="invalid_type")

"""Reading request bodies: media type, size limit, encoding, nesting, JSON.

Every check here runs before any stage or upstream call, so a malformed request is a 400 naming
what is wrong, never a 500 from a stage that met unexpected input. The field types are checked by
:mod:`proxy.api.chat_checks` and Bedside's reserved mark by :mod:`proxy.api.reserved_mark`
(both re-exported here).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from proxy.api.chat_checks import check_chat, check_embeddings
from proxy.api.reserved_mark import RESERVED_MARK, has_reserved_mark, normalise_for_mark
from proxy.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType

__all__ = [
    "MAX_DEPTH", "RESERVED_MARK", "check_chat", "check_embeddings", "check_media_type", "decode_object",
    "has_reserved_mark", "normalise_for_mark", "read_body",
]  # fmt: skip

_decode = msgspec.json.Decoder().decode
#: deepest JSON nesting accepted (a chat request needs about 8: body, messages, message, content,
#: part, ...; tool schemas a few more). Deeper input is refused before anything recursive sees it.
MAX_DEPTH = 64


def check_media_type(headers: dict[str, str]) -> None:
    """Only ``application/json`` bodies (UTF-8, uncompressed) are read; others get 415.

    A missing ``Content-Type`` is refused too: every OpenAI client sends ``application/json``, and
    refusing anything else means a web page cannot send a "simple" cross-site request (a form or
    ``text/plain`` POST, which browsers send without asking) to a Bedside in open mode.
    """
    ctype = headers.get("content-type")
    media, _, params = (ctype or "").partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip('"').lower()
    if media.strip().lower() != "application/json" or charset not in (None, "utf-8", "utf8"):
        raise UnsupportedMediaType(
            "Bedside reads JSON request bodies only. Send the body as JSON with the header 'Content-Type: application/json' "
            "(the openai client and most HTTP libraries' json= option do this)."
        )
    encoding = headers.get("content-encoding")
    if encoding is not None and encoding.strip().lower() not in ("", "identity"):
        raise UnsupportedMediaType(
            "Bedside does not accept compressed request bodies (Content-Encoding gzip, deflate, br, ...). Send the JSON body uncompressed.",
            code="unsupported_encoding",
        )


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


def _too_deep() -> InvalidRequest:
    return InvalidRequest(
        f"The request body is nested more than {MAX_DEPTH} levels deep. Send a flatter JSON object: a chat request needs only a few levels.",
        code="too_deeply_nested",
    )


def decode_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; refuses invalid UTF-8, invalid JSON and deep nesting (400)."""
    if not raw.strip():
        raise InvalidRequest("The request body is empty. Send a JSON object, e.g. {\"model\": ..., \"messages\": [...]}.", code="invalid_json")
    try:
        value = _decode(raw)
    except msgspec.DecodeError:
        if not _is_utf8(raw):  # the decoder may stop at a syntax error before the bad bytes
            raise _not_utf8() from None
        raise InvalidRequest(
            "The request body is not valid JSON. Check quotes, commas and brackets, and send it with 'Content-Type: application/json'.",
            code="invalid_json",
        ) from None
    except UnicodeDecodeError:
        raise _not_utf8() from None
    except RecursionError:
        raise _too_deep() from None
    if not isinstance(value, dict):
        raise InvalidRequest("The request body must be a JSON object, not a list or a single value.", code="invalid_json")
    # one opening bracket per level at least: bodies with few brackets cannot be deep
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _depth_exceeds(value, MAX_DEPTH):
        raise _too_deep()
    return value


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _not_utf8() -> InvalidRequest:
    return InvalidRequest(
        "The request body is not valid UTF-8. Encode the JSON body as UTF-8 (what JSON requires) and send it again.",
        code="invalid_encoding",
    )


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (iterative: deep input cannot recurse here)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


# ---- small type checks ---------------------------------------------------------------------------

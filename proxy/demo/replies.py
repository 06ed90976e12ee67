"""Deterministic demo replies for chat, embeddings and the model list.

The reply names itself as a demo, says how many system messages it received (so an operator sees
the policy's persona and tone rules arrive) and echoes the start of the last user message (so an
operator sees PII arrive redacted, and restored on the way back), and of the first one when the
conversation has several (so a continued conversation shows its history arrived).
"""

from __future__ import annotations

import hashlib
import math
import struct
import time
from typing import Any

DEMO_MODELS = ("bedside-demo", "gpt-4o-mini", "text-embedding-3-small")
_ECHO_CHARS = 200


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def reply_text(body: dict[str, Any]) -> str:
    """The demo's answer to a chat request."""
    messages = body.get("messages") or []
    systems = sum(1 for m in messages if isinstance(m, dict) and m.get("role") in ("system", "developer"))
    last_user = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    said = " ".join(_text_of(last_user.get("content")).split()) if last_user else ""
    if len(said) > _ECHO_CHARS:
        said = said[:_ECHO_CHARS].rstrip() + "..."
    last_tool = messages[-1] if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool" else None
    parts = ["This is Bedside's offline demo model, not a real assistant."]
    if last_tool is not None:
        parts.append("I received the tool result and would now answer from it.")
    elif said:
        parts.append(f'You said: "{said}"')
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        if len(users) > 1:  # shows the history arrived (and, through Bedside, that its placeholders come back restored)
            first = " ".join(_text_of(users[0].get("content")).split())
            parts.append(f'Earlier you said: "{first[:_ECHO_CHARS]}"')
    parts.append(f"I received {len(messages)} message(s), {systems} of them system guidance.")
    parts.append("Set BEDSIDE_UPSTREAM_URL to talk to a real model.")
    return " ".join(parts)


def tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
    """A tool call when the request forces one (``tool_choice`` required or a named function)."""
    tools = body.get("tools") or []
    choice = body.get("tool_choice")
    messages = body.get("messages") or []
    if not tools or (messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool"):
        return None
    name: str | None = None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
    elif choice == "required":
        first = tools[0] if isinstance(tools[0], dict) else {}
        name = (first.get("function") or {}).get("name")
    if not name:
        return None
    last_user = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    said = _text_of(last_user.get("content"))[:_ECHO_CHARS] if last_user else ""
    import json

    digest = hashlib.sha256(f"{name}:{said}".encode()).hexdigest()[:24]
    return {"id": f"call_{digest}", "type": "function", "function": {"name": name, "arguments": json.dumps({"query": said})}}


def words(text: str) -> list[str]:
    """Stream pieces: each word with its following space."""
    out: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == " ":
            out.append(text[start : i + 1])
            start = i + 1
    if start < len(text):
        out.append(text[start:])
    return out


def usage_for(body: dict[str, Any], text: str) -> dict[str, int]:
    prompt = sum(len(_text_of(m.get("content")).split()) for m in body.get("messages") or [] if isinstance(m, dict))
    completion = len(text.split()) * max(1, int(body.get("n") or 1))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def logprobs_for(piece: str) -> dict[str, Any]:
    return {"content": [{"token": piece, "logprob": 0.0, "bytes": list(piece.encode()), "top_logprobs": []}], "refusal": None}


def completion_id(body: dict[str, Any]) -> str:
    return "chatcmpl-demo-" + hashlib.sha256(repr(body.get("messages")).encode()).hexdigest()[:20]


def embedding(text: str, dims: int = 16) -> list[float]:
    """A deterministic unit vector from the text's hash (meaningless, but stable)."""
    raw = hashlib.sha256(text.encode()).digest() * ((dims * 4) // 32 + 1)
    values = [struct.unpack_from(">i", raw, i * 4)[0] / 2**31 for i in range(dims)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embeddings_body(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("input")
    items = inputs if isinstance(inputs, list) else [inputs]
    data = [{"object": "embedding", "index": i, "embedding": embedding(str(item), int(body.get("dimensions") or 16))} for i, item in enumerate(items)]
    tokens = sum(len(str(item).split()) for item in items)
    return {"object": "list", "data": data, "model": body.get("model") or DEMO_MODELS[2], "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def models_body() -> dict[str, Any]:
    return {"object": "list", "data": [model_entry(m) for m in DEMO_MODELS]}


def model_entry(model: str) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 1735689600, "owned_by": "bedside-demo"}


def now() -> int:
    return int(time.time())


def chat_body(body: dict[str, Any]) -> dict[str, Any]:
    """A non-streaming ``chat.completion`` body."""
    text = reply_text(body)
    call = tool_call(body)
    n = max(1, int(body.get("n") or 1))
    choices = []
    for i in range(n):
        message: dict[str, Any] = {"role": "assistant", "content": None if call else text, "refusal": None}
        if call:
            message["tool_calls"] = [call]
        choice: dict[str, Any] = {"index": i, "message": message, "finish_reason": "tool_calls" if call else "stop", "logprobs": None}
        if body.get("logprobs") and not call:
            choice["logprobs"] = {"content": [c for w in words(text) for c in logprobs_for(w)["content"]], "refusal": None}
        choices.append(choice)
    return {
        "id": completion_id(body),
        "object": "chat.completion",
        "created": now(),
        "model": body.get("model") or DEMO_MODELS[0],
        "system_fingerprint": "fp_bedside_demo",
        "choices": choices,
        "usage": usage_for(body, "" if call else text),
    }


def chat_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` dicts of a streaming reply (without ``[DONE]``)."""
    text = reply_text(body)
    call = tool_call(body)
    n = max(1, int(body.get("n") or 1))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {"id": completion_id(body), "object": "chat.completion.chunk", "created": now(), "model": body.get("model") or DEMO_MODELS[0], "system_fingerprint": "fp_bedside_demo"}
    extra = {"usage": None} if include_usage else {}
    chunks: list[dict[str, Any]] = []
    for i in range(n):
        chunks.append({**base, **extra, "choices": [{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        if call:
            fn = call["function"]
            head = {"index": 0, "id": call["id"], "type": "function", "function": {"name": fn["name"], "arguments": ""}}
            chunks.append({**base, **extra, "choices": [{"index": i, "delta": {"tool_calls": [head]}, "finish_reason": None}]})
            args = fn["arguments"]
            for start in range(0, len(args), 8):
                piece = {"index": 0, "function": {"arguments": args[start : start + 8]}}
                chunks.append({**base, **extra, "choices": [{"index": i, "delta": {"tool_calls": [piece]}, "finish_reason": None}]})
        else:
            for w in words(text):
                choice: dict[str, Any] = {"index": i, "delta": {"content": w}, "finish_reason": None}
                if body.get("logprobs"):
                    choice["logprobs"] = logprobs_for(w)
                chunks.append({**base, **extra, "choices": [choice]})
        chunks.append({**base, **extra, "choices": [{"index": i, "delta": {}, "finish_reason": "tool_calls" if call else "stop"}]})
    if include_usage:
        chunks.append({**base, "choices": [], "usage": usage_for(body, "" if call else text)})
    return chunks

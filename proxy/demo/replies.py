"""Deterministic demo replies for chat, embeddings and the model list.

The reply names itself as a demo and says what reached it, so an operator sees Bedside at work
with no model at all: the user's message as it arrived (with Bedside's placeholders, which Bedside
restores on the way back), the placeholders listed in a form Bedside leaves alone (``PERSON #1``),
the start of the persona, the tone guidance, and the tools offered. It never repeats Bedside's
``[bedside:`` mark (a client resending the reply would be refused) nor more than a few words of the
persona in a row (the output rails would take that for a system-prompt leak).

``response_format`` is honoured: ``json_object`` answers a JSON object saying the same things,
``json_schema`` an instance of the schema (:mod:`proxy.demo.schema_fill`). A forced tool call
(``tool_choice`` naming a function, or ``required``) gets arguments that fit the tool's
parameters schema. When the conversation has several user turns it also echoes the first (so a
continued conversation shows its history arrived).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import time
from typing import Any

from proxy.demo.schema_fill import FillContext, fill
from proxy.marks import BEDSIDE_MARK, MEMORY_MARK, PERSONA_MARK, TONE_MARK

DEMO_MODELS = ("bedside-demo", "gpt-4o-mini", "text-embedding-3-small")
_ECHO_CHARS = 200
#: words of the persona quoted (fewer than the output rails' leak run of 8)
_PERSONA_WORDS = 6
_TONE_CHARS = 300
#: a placeholder as Bedside writes it (``<PERSON_1>``)
_PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_([1-9][0-9]{0,5})>")
_WORD = re.compile(r"\w+(?:['’]\w+)*")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in body.get("messages") or [] if isinstance(m, dict)]


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    last_user = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    return _text_of(last_user.get("content")) if last_user else ""


def _echo(text: str) -> str:
    said = " ".join(text.split())
    return said[:_ECHO_CHARS].rstrip() + "..." if len(said) > _ECHO_CHARS else said


def placeholders(messages: list[dict[str, Any]]) -> list[str]:
    """Bedside's placeholders in the client's messages (not Bedside's own), in order of first appearance."""
    found: dict[str, None] = {}
    for m in messages:
        text = _text_of(m.get("content"))
        if not text.startswith(BEDSIDE_MARK):
            found.update((match.group(0), None) for match in _PLACEHOLDER.finditer(text))
    return list(found)


def _unrestorable(placeholder: str) -> str:
    """``<PERSON_1>`` as ``PERSON #1``: Bedside restores every form of a placeholder it issued, this one it leaves."""
    match = _PLACEHOLDER.fullmatch(placeholder)
    return f"{match.group(1)} #{match.group(2)}" if match else placeholder


def _persona_start(text: str) -> str:
    body = text.removeprefix(PERSONA_MARK).strip()
    words = list(_WORD.finditer(body))
    if len(words) <= _PERSONA_WORDS:
        return body
    return body[: words[_PERSONA_WORDS - 1].end()] + "..."


def _tone_lines(text: str) -> str:
    lines = [ln[2:].strip() for ln in text.splitlines() if ln.startswith("- ")]
    said = " ".join(lines)
    return said[:_TONE_CHARS].rstrip() + "..." if len(said) > _TONE_CHARS else said


def received(body: dict[str, Any]) -> dict[str, Any]:
    """What reached the model, as machine-readable facts (the JSON-mode reply and the text reply's source)."""
    messages = _messages(body)
    systems = [_text_of(m.get("content")) for m in messages if m.get("role") in ("system", "developer")]
    persona = next((t for t in systems if t.startswith(PERSONA_MARK)), None)
    tone = next((t for t in systems if t.startswith(TONE_MARK)), None)
    tools = [str((t.get("function") or {}).get("name") or t.get("name") or "") for t in body.get("tools") or [] if isinstance(t, dict)]
    return {
        "messages": len(messages),
        "persona": None if persona is None else {"starts": _persona_start(persona), "characters": len(persona)},
        "tone_guidance": None if tone is None else _tone_lines(tone),
        "memories": any(t.startswith(MEMORY_MARK) for t in systems),
        "client_system_messages": sum(1 for t in systems if not t.startswith(BEDSIDE_MARK)),
        "placeholders": [_unrestorable(p) for p in placeholders(messages)],
        "tools": tools,
    }


def reply_text(body: dict[str, Any]) -> str:
    """The demo's answer to a chat request: what it received, one fact per line."""
    messages = _messages(body)
    facts = received(body)
    said = _echo(_last_user_text(messages))
    last_tool = messages[-1] if messages and messages[-1].get("role") == "tool" else None
    head = "This is Bedside's offline demo model, not a real assistant."
    if last_tool is not None:
        head += " I received the tool result and would now answer from it."
    elif said:
        head += f' You said: "{said}"'
    lines = [head]
    users = [m for m in messages if m.get("role") == "user"]
    if len(users) > 1:  # shows the history arrived (and, through Bedside, that its placeholders come back restored)
        lines.append(f'Earlier you said: "{_echo(_text_of(users[0].get("content")))}"')
    lines += [f"What reached me: {facts['messages']} message(s), {sum(1 for m in messages if m.get('role') in ('system', 'developer'))} of them system guidance."]
    if facts["persona"] is not None:
        lines.append(f'- persona ({facts["persona"]["characters"]} characters): "{facts["persona"]["starts"]}"')
    if facts["tone_guidance"] is not None:
        lines.append(f'- tone guidance: "{facts["tone_guidance"]}"')
    if facts["memories"]:
        lines.append("- memories of this user (as placeholders)")
    if facts["client_system_messages"]:
        lines.append(f"- your own system message(s): {facts['client_system_messages']}")
    if facts["placeholders"]:
        lines.append(
            f"- personal data as placeholders, not values: {', '.join(facts['placeholders'])} "
            "(written with '#' here; Bedside puts your values back wherever I write a placeholder it sent)"
        )
    if facts["tools"]:
        lines.append(f"- tools offered: {', '.join(facts['tools'])} (I call one only when tool_choice forces it)")
    lines.append("Set BEDSIDE_UPSTREAM_URL to talk to a real model.")
    return "\n".join(lines)


def _fill_context(body: dict[str, Any]) -> FillContext:
    messages = _messages(body)
    return FillContext(said=_echo(_last_user_text(messages)), placeholders=tuple(placeholders(messages)))


def content_for(body: dict[str, Any]) -> str:
    """The reply's content: text, or JSON when ``response_format`` asks for it."""
    fmt = body.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_object":
        messages = _messages(body)
        answer = {"demo": "This is Bedside's offline demo model, not a real assistant.", "you_said": _echo(_last_user_text(messages)), "received": received(body)}
        return json.dumps(answer, ensure_ascii=False)
    if kind == "json_schema" and isinstance(fmt, dict):
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return json.dumps(fill(schema if isinstance(schema, dict) else {"type": "object"}, _fill_context(body)), ensure_ascii=False)
    return reply_text(body)


def tool_call(body: dict[str, Any]) -> dict[str, Any] | None:
    """A tool call when the request forces one (``tool_choice`` required or a named function),
    with arguments that fit the tool's parameters schema."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    choice = body.get("tool_choice")
    messages = _messages(body)
    if not tools or (messages and messages[-1].get("role") == "tool"):
        return None
    name: str | None = None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
    elif choice == "required":
        name = (tools[0].get("function") or {}).get("name")
    if not name:
        return None
    tool = next((t for t in tools if (t.get("function") or {}).get("name") == name), {})
    parameters = (tool.get("function") or {}).get("parameters")
    context = _fill_context(body)
    arguments = fill(parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}}, context)
    digest = hashlib.sha256(f"{name}:{context.said}".encode()).hexdigest()[:24]
    return {"id": f"call_{digest}", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}


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
    text = content_for(body)
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
    text = content_for(body)
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

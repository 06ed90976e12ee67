"""Collect a completion's deltas into one ``chat.completion`` JSON body (``stream=false``).

When the upstream answered with a JSON body, its ``choices`` are the template: every field the
collector does not rebuild (``logprobs``, ``message.refusal``, ``message.annotations``, unknown
fields) survives untouched; ``message.content``, ``message.tool_calls`` and ``finish_reason`` are
rebuilt from the (possibly rewritten) deltas.
"""

from __future__ import annotations

from typing import Any

from proxy.pipeline.completion import Completion
from proxy.pipeline.deltas import ExtraDelta, FinishDelta, TextDelta, ToolCallDelta, UsageDelta


class _Choice:
    __slots__ = ("calls", "extra", "finish", "has_text", "logprobs", "text")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.has_text = False
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish: str | None = None
        self.extra: dict[str, Any] = {}
        self.logprobs: list[Any] = []


async def collect(completion: Completion) -> dict[str, Any]:
    """Drain the deltas and build the JSON body (or return the upstream's own, when untouched)."""
    untouched = completion.untouched_body()
    if untouched is not None:
        await completion.aclose()
        return untouched
    choices: dict[int, _Choice] = {}
    usage: dict[str, Any] | None = None
    try:
        async for delta in completion.deltas:
            if isinstance(delta, UsageDelta):
                usage = delta.usage
                continue
            ch = choices.get(delta.choice)
            if ch is None:
                ch = choices[delta.choice] = _Choice()
            if isinstance(delta, TextDelta):
                ch.text.append(delta.text)
                ch.has_text = True
                if delta.logprobs is not None:
                    ch.logprobs.append(delta.logprobs)
            elif isinstance(delta, ToolCallDelta):
                call = ch.calls.get(delta.index)
                if call is None:
                    call = ch.calls[delta.index] = {"id": delta.id, "type": delta.type or "function", "function": {"name": delta.name or "", "arguments": ""}}
                if delta.id:
                    call["id"] = delta.id
                if delta.name:
                    call["function"]["name"] = delta.name
                call["function"]["arguments"] += delta.arguments
            elif isinstance(delta, FinishDelta):
                ch.finish = delta.reason
            elif isinstance(delta, ExtraDelta):
                for key, value in delta.fields.items():
                    if isinstance(value, str) and isinstance(ch.extra.get(key), str):
                        ch.extra[key] += value
                    else:
                        ch.extra[key] = value
    finally:
        await completion.aclose()

    template = {c.get("index", i): c for i, c in enumerate(completion.template or ())}
    out_choices = []
    for index in sorted(set(choices) | set(template)):
        ch = choices.get(index) or _Choice()
        base = template.get(index)
        choice: dict[str, Any] = dict(base) if base else {"index": index, "logprobs": None}
        message: dict[str, Any] = dict(choice.get("message") or {"role": "assistant"})
        message.setdefault("role", "assistant")
        message.update(ch.extra)
        if ch.has_text or "content" not in message:
            message["content"] = "".join(ch.text) if ch.has_text else None
        if ch.calls:
            message["tool_calls"] = [ch.calls[i] for i in sorted(ch.calls)]
        elif "tool_calls" in message and base is not None:
            message.pop("tool_calls")  # a stage removed them
        message.setdefault("refusal", None)
        choice["message"] = message
        choice["index"] = index
        choice["finish_reason"] = ch.finish or choice.get("finish_reason") or "stop"
        if ch.logprobs:
            # a single untouched part is the upstream's own object; anything else is rebuilt
            choice["logprobs"] = ch.logprobs[0] if len(ch.logprobs) == 1 else _merge_logprobs(ch.logprobs)
        elif base is not None and base.get("logprobs") is not None:
            choice["logprobs"] = None  # the checks withheld them with the text they describe
        choice.setdefault("logprobs", None)
        out_choices.append(choice)

    body: dict[str, Any] = {**completion.meta, "object": "chat.completion", "choices": out_choices}
    if usage is not None:
        body["usage"] = usage
    return body


def _merge_logprobs(parts: list[Any]) -> Any:
    content: list[Any] = []
    for part in parts:
        if isinstance(part, dict) and isinstance(part.get("content"), list):
            content.extend(part["content"])
    return {"content": content, "refusal": None}

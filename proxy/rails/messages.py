"""Small helpers for reading and placing chat messages, shared by the stages, the checks and the
handoff builder. Pure functions over plain dicts: no imports from the rest of Bedside."""

from __future__ import annotations

from typing import Any


def text_of(content: Any) -> str:
    """The text of a message's ``content``: a string, or the text parts of a content array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") in ("text", "input_text") and isinstance(p.get("text"), str))
    return ""


def user_texts(messages: Any) -> list[str]:
    """The text of every user turn, oldest first."""
    if not isinstance(messages, list):
        return []
    return [text_of(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]


def leading_system_end(messages: list[dict[str, Any]]) -> int:
    """Index just after the leading block of system/developer messages."""
    i = 0
    while i < len(messages) and messages[i].get("role") in ("system", "developer"):
        i += 1
    return i


def last_user_index(messages: list[dict[str, Any]]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i
    return None

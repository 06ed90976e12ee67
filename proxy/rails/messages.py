"""Small helpers for reading and placing chat messages, shared by the stages, the checks and the
handoff builder. Pure functions over plain dicts: no imports from the rest of Bedside."""

from __future__ import annotations

from typing import Any


def _is_text_part(p: Any) -> bool:
    return isinstance(p, dict) and p.get("type") in ("text", "input_text") and isinstance(p.get("text"), str)


def text_of(content: Any) -> str:
    """The text of a message's ``content``: a string, or the text parts of a content array
    (parts marked ``"document": true`` excluded: they are untrusted data, see :func:`document_parts`)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if _is_text_part(p) and p.get("document") is not True)
    return ""


def document_parts(content: Any) -> list[str]:
    """The text of the content parts a client marks as documents (``{"type": "text", "text": ...,
    "document": true}``): data from outside the conversation, never the person's own words."""
    if not isinstance(content, list):
        return []
    return [p["text"] for p in content if _is_text_part(p) and p.get("document") is True and p["text"].strip()]


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

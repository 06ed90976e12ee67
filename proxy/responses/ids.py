"""Ids of responses and output items (and two small readers of optional JSON fields).

Replies Bedside writes itself (a refusal, a handoff) carry the pipeline's own id
(``chatcmpl-bedside-...``); a Responses client sees it as ``resp_chatcmpl-bedside-...``, and
:func:`internal_id` maps that back when the client continues from it or asks for it.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["as_dict", "as_list", "client_id", "internal_id", "new_id"]

_PREFIX = "resp_"


def new_id(prefix: str) -> str:
    """A fresh random id such as ``resp_<48 hex>`` or ``msg_<48 hex>``."""
    return f"{prefix}_{os.urandom(24).hex()}"


def client_id(reply_id: object) -> str:
    """The id a Responses client sees for a reply whose pipeline id is ``reply_id``."""
    if isinstance(reply_id, str) and reply_id:
        return reply_id if reply_id.startswith(_PREFIX) else _PREFIX + reply_id
    return new_id("resp")


def internal_id(given: str) -> str:
    """The pipeline's id of a reply the client names (the inverse of :func:`client_id`)."""
    rest = given[len(_PREFIX) :]
    return rest if given.startswith(_PREFIX) and rest.startswith("chatcmpl-") else given


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (for reading optional nested fields)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []

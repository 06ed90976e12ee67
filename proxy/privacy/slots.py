"""The values the request walk finds: a :class:`Slot` per string, number or key, and :class:`JsonDoc`
for strings that hold JSON (see ``proxy.privacy.request_walk`` for the kinds)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["JsonDoc", "Kind", "Slot"]

Kind = Literal["text", "name", "number", "ident", "binary"]


@dataclass(slots=True)
class JsonDoc:
    """A string that holds JSON: parsed into ``doc``, written back as JSON once a slot changed it."""

    holder: Any
    key: Any
    doc: Any

    def write_back(self) -> None:
        self.holder[self.key] = json.dumps(self.doc, ensure_ascii=False)


@dataclass(slots=True)
class Slot:
    """One value of the request: ``holder[key]`` (or the key itself when ``is_key``)."""

    kind: Kind
    path: str
    holder: Any
    key: Any
    text: str
    is_key: bool = False
    #: numbers: the key they sit under, analysed in front of the digits as context
    context: str = ""
    doc: JsonDoc | None = None
    #: for ``binary``: what to remove when the policy drops it (a content part, or the field)
    drop: tuple[Any, Any] | None = None
    #: in a tool message or tool-call arguments: content from outside the conversation
    tool: bool = field(default=False)
    #: the role of the message the slot belongs to (None outside the messages)
    role: str | None = None

    @property
    def analysed_text(self) -> str:
        """What the detector reads: the text; for a number its key and its digits; for a name that
        must stay verbatim, its words (``cust_ann_lee`` is read as ``cust ann lee``)."""
        if self.kind == "number" and self.context:
            return f"{self.context}: {self.text}"
        if self.kind == "ident":
            return self.text.replace("_", " ").replace("-", " ")
        return self.text

    @property
    def offset(self) -> int:
        """Where :attr:`text` starts inside :attr:`analysed_text`."""
        return len(self.context) + 2 if self.kind == "number" and self.context else 0

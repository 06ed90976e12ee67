"""A value that fits a JSON Schema: the demo model's tool arguments and ``json_schema`` replies.

:func:`fill` walks a schema (``type``, ``properties``, ``required``, ``items``, ``enum``,
``const``, ``anyOf`` / ``oneOf`` / ``allOf``, local ``$ref`` into ``$defs`` / ``definitions``,
numeric bounds, string lengths and common ``format`` values) and builds one instance that
validates against it. Strings are filled from what the request said, so a first contact looks
right:

* a property whose name fits a placeholder the user's message carried gets it (``order_id`` gets
  ``<ORDER_ID_1>``, ``email`` gets ``<EMAIL_ADDRESS_1>``), which Bedside then restores in the reply;
* free-text properties (``query``, ``message``, ``description``, ``answer``, ...) get the user's
  message;
* anything else gets ``"demo <name>"``.

``pattern`` is not generated (the string may not match it); everything else the schema can say
about one value is respected. Pure and deterministic: same schema and request, same value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FillContext", "fill"]

_MAX_DEPTH = 12
#: below this depth an array the schema lets be empty gets one item; deeper ones stay empty (recursive schemas end)
_ITEM_DEPTH = 4
#: property names whose value is free text: filled with the user's message
_FREE_TEXT = frozenset(
    """query q text message question input prompt content description summary body comment reason note notes details
    issue subject answer reply response result output explanation search keywords request""".split()
)
#: words in property names -> the word a placeholder type is known by
_SYNONYMS = {"mail": "email", "mobile": "phone", "tel": "phone", "telephone": "phone", "name": "person", "customer": "person", "address": "street", "card": "credit"}
#: words in placeholder types too generic to match on
_GENERIC = frozenset({"id", "number", "code", "address"})
_FORMATS = {
    "date": "2025-01-31",
    "date-time": "2025-01-31T12:00:00Z",
    "time": "12:00:00",
    "uri": "https://example.com/demo",
    "url": "https://example.com/demo",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}


@dataclass(frozen=True)
class FillContext:
    """What the request said: the user's last message and the placeholders in the request
    (``<TYPE_n>``, in order of first appearance)."""

    said: str = ""
    placeholders: Sequence[str] = field(default_factory=tuple)


def fill(schema: Any, ctx: FillContext) -> Any:
    """An instance of ``schema`` (a JSON Schema mapping; anything else gives ``{}``)."""
    root = schema if isinstance(schema, Mapping) else {}
    return _Filler(root, ctx).value(root, "", 0, 0)


class _Filler:
    def __init__(self, root: Mapping[str, Any], ctx: FillContext) -> None:
        self.root = root
        self.ctx = ctx

    def resolve(self, schema: Any, depth: int) -> Mapping[str, Any]:
        """``schema`` with local ``$ref``s followed and ``allOf`` merged."""
        schema = schema if isinstance(schema, Mapping) else {}
        for _ in range(_MAX_DEPTH):
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                break
            target = self.pointer(ref)
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        parts = schema.get("allOf")
        if isinstance(parts, list) and parts and depth < _MAX_DEPTH:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in parts:
                sub = self.resolve(part, depth + 1)
                props = {**(merged.get("properties") or {}), **(sub.get("properties") or {})}
                required = [*(merged.get("required") or ()), *(sub.get("required") or ())]
                merged = {**sub, **merged, "properties": props, "required": required}
                if not props:
                    merged.pop("properties")
            schema = merged
        return schema

    def pointer(self, ref: str) -> Mapping[str, Any]:
        if ref == "#":
            return self.root
        if not ref.startswith("#/"):
            return {}
        node: Any = self.root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, Mapping) else None
        return node if isinstance(node, Mapping) else {}

    def value(self, schema: Any, name: str, index: int, depth: int) -> Any:
        schema = self.resolve(schema, depth)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return next((e for e in enum if e is not None), enum[0])
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                chosen = next((b for b in branches if self.kind(self.resolve(b, depth + 1)) != "null"), branches[0])
                base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
                return self.value({**base, **self.resolve(chosen, depth + 1)}, name, index, depth + 1)
        kind = self.kind(schema)
        if depth >= _MAX_DEPTH:
            return None if kind == "null" else {} if kind == "object" else [] if kind == "array" else self.scalar(kind, schema, name, index)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        return self.scalar(kind, schema, name, index)

    @staticmethod
    def kind(schema: Mapping[str, Any]) -> str:
        declared = schema.get("type")
        if isinstance(declared, list):
            declared = next((t for t in declared if t != "null"), "null")
        if isinstance(declared, str):
            return declared
        if "properties" in schema or "required" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        return "string"

    def object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        out = {str(key): self.value(sub, str(key), 0, depth + 1) for key, sub in props.items()}
        for key in schema.get("required") or ():
            if isinstance(key, str) and key not in out:
                out[key] = self.scalar("string", {}, key, 0)
        return out

    def array(self, schema: Mapping[str, Any], name: str, depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        out: list[Any] = [self.value(s, name, i, depth + 1) for i, s in enumerate(prefix)] if isinstance(prefix, list) else []
        items = schema.get("items")
        low = int(schema.get("minItems") or 0)
        high = schema.get("maxItems")
        want = max(low, len(out), 1 if isinstance(items, Mapping) and depth < _ITEM_DEPTH else 0)
        if isinstance(high, int):
            want = min(want, high)
        while len(out) < want and isinstance(items, Mapping):
            out.append(self.value(items, name, len(out), depth + 1))
        return out[:want] if isinstance(high, int) else out

    def scalar(self, kind: str, schema: Mapping[str, Any], name: str, index: int) -> Any:
        if kind == "null":
            return None
        if kind == "boolean":
            return index % 2 == 1
        if kind in ("integer", "number"):
            return _number(schema, integer=kind == "integer", index=index)
        return self.string(schema, name, index)

    def string(self, schema: Mapping[str, Any], name: str, index: int) -> str:
        fmt = schema.get("format")
        text = _FORMATS.get(fmt) if isinstance(fmt, str) else None
        if text is None:
            text = self.placeholder_for(name) if fmt in (None, "email") else None
        if text is None and fmt == "email":
            text = "demo@example.com"
        if text is None:
            words = _words(name)
            text = self.ctx.said if self.ctx.said and (not words or words & _FREE_TEXT) else f"demo {name}".strip()
        if index:
            text = f"{text} {index + 1}"
        low = int(schema.get("minLength") or 0)
        high = schema.get("maxLength")
        if len(text) < low:
            text = text + "." * (low - len(text))
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        return text

    def placeholder_for(self, name: str) -> str | None:
        """The first placeholder whose type fits the property ``name`` (``order_id`` ~ ``ORDER_ID``)."""
        words = {_SYNONYMS.get(w, w) for w in _words(name)}
        if not words:
            return None
        for placeholder in self.ctx.placeholders:
            kind = placeholder.strip("<>").rsplit("_", 1)[0].lower().split("_")
            specific = set(kind) - _GENERIC or set(kind)
            if words & specific:
                return placeholder
        return None


def _words(name: str) -> set[str]:
    """``customerEmail`` / ``customer_email`` / ``customer-email`` -> ``{"customer", "email"}``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return {w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w}


def _number(schema: Mapping[str, Any], *, integer: bool, index: int) -> int | float:
    low = schema.get("minimum")
    high = schema.get("maximum")
    ex_low = schema.get("exclusiveMinimum")
    ex_high = schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    value: float = float(index)
    if isinstance(low, int | float):
        value = max(value, float(low))
    if isinstance(ex_low, int | float):
        value = max(value, float(ex_low) + (1 if integer else 0.5))
    if isinstance(step, int | float) and step > 0:
        value = math.ceil(value / step) * step
    if integer:
        value = math.ceil(value)
    if isinstance(high, int | float) and value > high:
        value = math.floor(high) if integer else float(high)
    if isinstance(ex_high, int | float) and value >= ex_high:
        value = math.ceil(ex_high) - 1 if integer else float(ex_high) - 0.5
    return int(value) if integer else value

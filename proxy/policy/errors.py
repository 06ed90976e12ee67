"""Policy problems as data: :class:`PolicyIssue` and :class:`PolicyLoadError`.

Every problem the loader finds becomes one ``PolicyIssue``; the loader collects all of them across
all files and raises a single :class:`PolicyLoadError`. ``str(issue)`` is the compiler-style line
``bedside policy check`` prints::

    policies/support.yaml:12:5: persona.placement: expected one of "prepend", "append", "replace", got "top"
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

#: A field path inside a policy document: mapping keys and list indices.
Loc = tuple[str | int, ...]


def format_path(loc: Loc) -> str:
    """Render ``("routing", "aliases", 0)`` as ``routing.aliases[0]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One problem in one policy file.

    ``line`` and ``column`` are 1-based and ``None`` when the problem has no single place (a missing
    top-level field, a missing default policy). ``path`` is the dotted field path, empty for
    file-level problems (YAML syntax, empty file). ``hint`` is an optional suggestion.
    """

    file: Path
    line: int | None
    column: int | None
    path: str
    message: str
    hint: str | None = None

    @property
    def location(self) -> str:
        """``file:line:column`` with the unknown parts left out."""
        parts = [str(self.file)]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order issues by file, then position, then path."""
        return (
            str(self.file),
            self.line or 0,
            self.column or 0,
            self.path,
            self.message,
        )


def sorted_issues(issues: Iterable[PolicyIssue]) -> list[PolicyIssue]:
    """De-duplicate and sort issues (inherited problems are found once per child)."""
    return sorted(set(issues), key=PolicyIssue.sort_key)


class PolicyLoadError(Exception):
    """The policy directory has problems; ``issues`` lists every one of them."""

    def __init__(self, issues: Sequence[PolicyIssue]) -> None:
        self.issues: list[PolicyIssue] = list(issues)
        count = len(self.issues)
        head = f"{count} policy problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([head + ":", *(str(i) for i in self.issues)]))


# --- turning pydantic errors into messages ---------------------------------------------------


def describe_value(value: Any) -> str:
    """How a YAML value reads in a message: ``"top"``, ``12``, ``true``, ``null``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the interesting type."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def annotation_at(loc: Loc, root: type[BaseModel]) -> Any:
    """The (unwrapped) type the schema expects at ``loc``, or ``None`` if the path is unknown."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        elif origin is dict:
            current = typing.get_args(current)[1]
        elif origin in (list, tuple):
            current = typing.get_args(current)[0]
        else:
            return None
    return _unwrap(current)


_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "string_type": "text",
    "bool_type": "true or false", "bool_parsing": "true or false", "list_type": "a list",
    "tuple_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}  # fmt: skip
_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


def describe_error(error: ErrorDetails, root: type[BaseModel]) -> tuple[str, str | None]:
    """A precise message and optional hint for one pydantic error."""
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        parent = annotation_at(loc[:-1], root)
        known = list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            return "unknown field", f"did you mean '{close[0]}'?"
        return "unknown field", ("known fields: " + ", ".join(known)) if known else None
    if kind == "missing":
        return "required field is missing", None
    if kind == "literal_error":
        choices = typing.get_args(annotation_at(loc, root))
        if choices:
            shown = ", ".join(describe_value(c) for c in choices)
            close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
            return f"expected one of {shown}, got {describe_value(value)}", (f"did you mean {describe_value(close[0])}?" if close else None)
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe_value(value)}", None
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()), "?")
        return f"must be {_BOUNDS[kind]} {bound}, got {describe_value(value)}", None
    message = str(error["msg"])
    message = message.removeprefix("Value error, ")
    return message[:1].lower() + message[1:], None

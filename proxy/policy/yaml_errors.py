"""YAML syntax errors told the way a person fixes them: the line that is wrong and what is likely wrong.

PyYAML reports a key indented one space too few as ``expected <block end>, but found '<block
mapping start>' (while parsing a block mapping on line 1)``: the line it names in words is where
the *enclosing* mapping began, often the first line of the file. :func:`describe_yaml_error` reads
the tokens before the error instead, finds the keys the bad line could have lined up with, and says
so::

    policies/support.yaml:5:2: invalid YAML: this key is indented 1 space, but nothing above it is:
    the keys it most likely belongs with ('system_prompt' on line 3, in 'persona') are indented 2
    (indent it 2 spaces to keep it in 'persona', or 0 to make it a top-level field)

A key indented too deep after a plain value (``mapping values are not allowed here``) and tabs get
their own hints; any other error keeps PyYAML's words, with the line its context starts on.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

__all__ = ["YamlProblem", "describe_yaml_error"]


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """Where a YAML error is (1-based, ``None`` when unknown), what is wrong and what to do."""

    line: int | None
    column: int | None
    message: str
    hint: str | None = None


@dataclass(slots=True)
class _Block:
    """An open block collection while scanning: its column and what a person would call it."""

    kind: str  # "map" or "seq"
    column: int
    line: int
    owner: str | None  # the key (or list item) it is the value of; None for the top level
    first_key: str | None = None
    first_line: int | None = None
    last_key: str | None = None


def describe_yaml_error(text: str, exc: yaml.YAMLError) -> YamlProblem:
    """A :class:`YamlProblem` for ``exc``, raised while reading ``text``."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return YamlProblem(None, None, f"invalid YAML: {exc}")
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "cannot be read"
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    if "expected a single document" in f"{problem} {exc.context}":
        return YamlProblem(line, column, "expected one policy per file, found a second YAML document ('---')")
    if "'\\t'" in problem or "\t" in problem:
        return YamlProblem(line, column, "invalid YAML: a tab character in the indentation", "YAML indents with spaces only: replace the tab with spaces")
    if mark is not None and problem.startswith("expected <block end>"):
        found = _indentation(text, mark.line)
        if found is not None:
            return found
    if mark is not None and problem == "mapping values are not allowed here":
        row = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
        if ":" in row[: mark.column]:  # key: text: more text
            return YamlProblem(line, column, "invalid YAML: a second ': ' on this line", "the value after the key holds ': ': put the value in quotes")
        return YamlProblem(line, column, "invalid YAML: a ':' where a plain value goes on", _over_indented(text, mark.line))
    message = f"invalid YAML: {problem}"
    if exc.context:
        message += f" ({exc.context}"
        if exc.context_mark is not None and exc.context_mark is not mark:
            message += f" that starts on line {exc.context_mark.line + 1}"
        message += ")"
    return YamlProblem(line, column, message)


def _open_blocks(text: str, before_line: int) -> list[_Block]:
    """The block collections still open when line ``before_line`` (0-based) begins, outermost first."""
    stack: list[_Block] = []
    key_next = False
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            start = token.start_mark
            if start.line >= before_line:
                break
            if isinstance(token, yaml.BlockMappingStartToken | yaml.BlockSequenceStartToken):
                stack.append(_Block("map" if isinstance(token, yaml.BlockMappingStartToken) else "seq", start.column, start.line, _owner(stack)))
            elif isinstance(token, yaml.BlockEndToken) and stack:
                stack.pop()
            elif isinstance(token, yaml.KeyToken):
                key_next = True
            elif isinstance(token, yaml.ScalarToken) and key_next:
                key_next = False
                if stack and stack[-1].kind == "map":
                    block = stack[-1]
                    block.last_key = str(token.value)
                    if block.first_key is None:
                        block.first_key, block.first_line = str(token.value), start.line + 1
            else:
                key_next = False
    except yaml.YAMLError:
        pass  # the tokens up to the error are what we need
    return stack


def _owner(stack: list[_Block]) -> str | None:
    """What a collection opening now is the value of: the enclosing mapping's key, or a list item."""
    if not stack:
        return None
    parent = stack[-1]
    if parent.kind == "seq":
        return f"the list item on line {parent.line + 1}" if parent.owner is None else f"the '{parent.owner}' list item"
    return parent.last_key


def _indentation(text: str, line0: int) -> YamlProblem | None:
    """A line whose indentation lines up with no open block: which keys (or list items) it could
    belong with, the nearest deeper one first (a key is far more often dedented by accident)."""
    lines = text.splitlines()
    if line0 >= len(lines):
        return None
    row = lines[line0]
    indent = len(row) - len(row.lstrip(" "))
    item = row.lstrip(" ").startswith("-")
    blocks = [b for b in _open_blocks(text, line0) if (b.kind == "seq" if item else b.kind == "map" and b.first_key is not None)]
    if not blocks or any(b.column == indent for b in blocks):
        return None
    deeper = min((b for b in blocks if b.column > indent), key=lambda b: b.column, default=None)
    shallower = max((b for b in blocks if b.column < indent), key=lambda b: b.column, default=None)
    likely = deeper or shallower
    assert likely is not None  # blocks is not empty and none is at `indent`
    what = "list item" if item else "key"
    message = (
        f"invalid YAML: this {what} is indented {indent} {'space' if indent == 1 else 'spaces'}, but nothing above it is: "
        f"the {what}s it most likely belongs with ({_example(likely)}) are indented {likely.column}"
    )
    options = [f"indent it {likely.column} spaces to keep it {_in(likely)}"]
    if likely is deeper and shallower is not None and not item:
        options.append(f"or {shallower.column} to make it {_key_of(shallower)}")
    return YamlProblem(line0 + 1, indent + 1, message, ", ".join(options))


def _over_indented(text: str, line0: int) -> str | None:
    """The hint for ``mapping values are not allowed here``: a key indented deeper than its
    neighbours (after a plain value), or a colon inside an unquoted text."""
    maps = [b for b in _open_blocks(text, line0) if b.kind == "map" and b.first_key is not None]
    if not maps:
        return None
    inner = maps[-1]
    return f"if this line is a key, indent it {inner.column} spaces like {_example(inner)}; if the ': ' is part of a text, put the text in quotes"


def _example(block: _Block) -> str:
    if block.kind == "seq":
        return f"the list on line {block.line + 1}, {_in(block)}" if block.owner else f"the list on line {block.line + 1}"
    where = f"'{block.first_key}' on line {block.first_line}"
    return f"{where}, {_in(block)}" if block.owner else where


def _in(block: _Block) -> str:
    if block.owner is None:
        return "at the top level"
    return f"in {block.owner}" if block.owner.startswith("the ") else f"in '{block.owner}'"


def _key_of(block: _Block) -> str:
    if block.owner is None:
        return "a top-level field"
    return f"a key of {block.owner}" if block.owner.startswith("the ") else f"a key of '{block.owner}'"

"""Reading one policy file: YAML with positions, and pydantic errors turned into :class:`PolicyIssue`.

:func:`parse_file` composes the YAML node tree (``yaml.compose`` style) and walks it, so every key
and value keeps its 1-based line and column in a :class:`SourceMap`. :func:`validate_policy`
validates a (merged) mapping as a :class:`~proxy.policy.schema.Policy` and attributes each error to
the file in the ``extends`` chain that wrote the offending key, with a precise message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from proxy.policy.errors import (
    Loc,
    PolicyIssue,
    describe_error,
    describe_value,
    format_path,
)
from proxy.policy.merge import APPEND_SUFFIX
from proxy.policy.schema import Policy
from proxy.policy.yaml_errors import describe_yaml_error

Position = tuple[int, int]
_MAX_DEPTH = 64


@dataclass(frozen=True)
class SourceMap:
    """Positions of every key and value in one file, by field path (``+`` suffixes stripped)."""

    keys: dict[Loc, Position] = field(default_factory=dict)
    values: dict[Loc, Position] = field(default_factory=dict)

    def deepest(self, loc: Loc) -> int:
        """Length of the longest prefix of ``loc`` this file wrote (0 if none)."""
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.values:
                return n
        return 0


@dataclass(frozen=True)
class ParsedFile:
    """One policy file read from disk: its raw mapping and where everything is in it."""

    path: Path
    data: dict[str, Any]
    source: SourceMap

    @property
    def name(self) -> str:
        """The policy name, which is always the file stem (an explicit ``name`` must equal it)."""
        return self.path.stem

    def position(self, loc: Loc, *, key: bool = False) -> Position | None:
        """Where ``loc`` is written (its key with ``key=True``), or ``None``."""
        return (self.source.keys if key else self.source.values).get(loc)

    def issue(self, loc: Loc, message: str, hint: str | None = None, *, key: bool = False) -> PolicyIssue:
        """A :class:`PolicyIssue` in this file at ``loc``."""
        pos = self.position(loc, key=key)
        return PolicyIssue(
            self.path,
            pos[0] if pos else None,
            pos[1] if pos else None,
            format_path(loc),
            message,
            hint,
        )


def _pos(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Walker:
    """Builds plain Python data from a composed node tree, recording positions and key problems."""

    def __init__(self, loader: yaml.SafeLoader, path: Path) -> None:
        self.loader = loader
        self.path = path
        self.source = SourceMap()
        self.issues: list[PolicyIssue] = []

    def _problem(self, node: yaml.Node, loc: Loc, message: str) -> None:
        line, col = _pos(node)
        self.issues.append(PolicyIssue(self.path, line, col, format_path(loc), message))

    def build(self, node: yaml.Node, loc: Loc, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            self._problem(
                node,
                loc,
                f"nested deeper than {_MAX_DEPTH} levels (a recursive YAML alias?)",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)
            out: dict[str, Any] = {}
            first: dict[str, Position] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, str):
                    self._problem(key_node, loc, f"keys must be text, got {describe_value(key)}")
                    continue
                field_name = key.removesuffix(APPEND_SUFFIX)
                sub = (*loc, field_name)
                if field_name in first:
                    line = first[field_name][0]
                    other = next(k for k in out if k.removesuffix(APPEND_SUFFIX) == field_name)
                    message = (
                        f"duplicate key '{key}' (first set on line {line})" if other == key else f"both '{other}' and '{key}' are set (line {line}); use one"
                    )
                    self._problem(key_node, sub, message)
                    continue
                first[field_name] = _pos(key_node)
                self.source.keys[sub] = _pos(key_node)
                self.source.values[sub] = _pos(value_node)
                out[key] = self.build(value_node, sub, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.source.values[(*loc, index)] = self.source.keys[(*loc, index)] = _pos(item)
                items.append(self.build(item, (*loc, index), depth + 1))
            return items
        return self.loader.construct_object(node, deep=True)


def _yaml_issue(path: Path, text: str, exc: yaml.YAMLError) -> PolicyIssue:
    problem = describe_yaml_error(text, exc)
    return PolicyIssue(path, problem.line, problem.column, "", problem.message, problem.hint)


def parse_file(path: Path) -> tuple[ParsedFile | None, list[PolicyIssue]]:
    """Read one policy file; return it (``None`` if unusable) and the problems found in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [PolicyIssue(path, None, None, "", f"cannot read file: {exc}")]
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [
                PolicyIssue(
                    path,
                    None,
                    None,
                    "",
                    "file is empty; a policy file holds one mapping",
                )
            ]
        walker = _Walker(loader, path)
        data = walker.build(node, ())
    except yaml.YAMLError as exc:
        return None, [_yaml_issue(path, text, exc)]
    finally:
        loader.dispose()
    if data is None:
        return None, [PolicyIssue(path, None, None, "", "file is empty; a policy file holds one mapping")]
    if not isinstance(data, dict):
        line, col = _pos(node)
        return None, [
            PolicyIssue(
                path,
                line,
                col,
                "",
                f"expected a mapping of policy fields, got {describe_value(data)}",
            )
        ]
    return ParsedFile(path, data, walker.source), walker.issues


def attribute(loc: Loc, chain: Sequence[ParsedFile], *, key: bool) -> tuple[ParsedFile, Position | None]:
    """Pick the file in ``chain`` (child first) that wrote the deepest part of ``loc``."""
    best, depth = chain[0], 0
    for parsed in chain:
        d = parsed.source.deepest(loc)
        if d > depth:
            best, depth = parsed, d
    if depth == 0:
        return chain[0], None
    return best, best.position(loc[:depth], key=key or depth < len(loc))


def validate_policy(data: dict[str, Any], chain: Sequence[ParsedFile], *, partial: bool = False) -> tuple[Policy | None, list[PolicyIssue]]:
    """Validate a merged policy mapping; ``chain`` is the file and its ancestors, child first.

    With ``partial=True`` (the parent could not be merged) missing fields are not reported, since
    the parent may have supplied them.
    """
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        issues: list[PolicyIssue] = []
        for error in exc.errors(include_url=False):
            if partial and error["type"] == "missing":
                continue
            loc = tuple(error["loc"])
            is_key = error["type"] in ("extra_forbidden",) or (bool(loc) and loc[-1] == "[key]")
            if loc and loc[-1] == "[key]":
                loc = loc[:-1]
            message, hint = describe_error(error, Policy)
            if error["type"] == "missing":  # it is missing where its parent mapping was written
                parsed, pos = attribute(loc[:-1], chain, key=True) if len(loc) > 1 else (chain[0], None)
            else:
                parsed, pos = attribute(loc, chain, key=is_key)
            line, col = pos if pos else (None, None)
            issues.append(PolicyIssue(parsed.path, line, col, format_path(loc), message, hint))
        return None, issues
    issues = []
    for finding in policy.findings():
        parsed, pos = attribute(finding.loc, chain, key=False)
        line, col = pos if pos else (None, None)
        issues.append(PolicyIssue(parsed.path, line, col, format_path(finding.loc), finding.message, finding.hint))
    return (policy if not issues else None), issues

"""Inheritance: deep-merging a child policy over the policy it ``extends``.

Rules (see docs/policies.md):

* mappings merge key by key, recursively;
* scalars and lists in the child replace the inherited value;
* a key written with a ``+`` suffix (``style+: [...]``) appends its list to the inherited list;
  with nothing inherited it is the list itself;
* ``name``, ``extends``, ``description``, ``version`` and ``routing.aliases`` are never inherited.

Merging works on plain YAML data, before validation, so the merged result is validated once as a
whole. Problems with ``+`` keys are returned as :class:`~proxy.policy.sections.Finding` values
relative to the policy root, for the loader to place in the child file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.policy.errors import Loc, format_path
from proxy.policy.sections.base import Finding

#: The key suffix that appends to an inherited list instead of replacing it.
APPEND_SUFFIX = "+"

#: Paths a child never inherits from its parent.
NOT_INHERITED: frozenset[Loc] = frozenset({("name",), ("extends",), ("description",), ("version",), ("routing", "aliases")})


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a single value"


def inheritable(parent: Mapping[str, Any], loc: Loc = ()) -> dict[str, Any]:
    """A copy of ``parent`` without the paths in :data:`NOT_INHERITED`."""
    out: dict[str, Any] = {}
    for key, value in parent.items():
        sub = (*loc, key)
        if sub in NOT_INHERITED:
            continue
        out[key] = inheritable(value, sub) if isinstance(value, Mapping) else value
    return out


def merge(parent: Mapping[str, Any] | None, child: Mapping[str, Any], loc: Loc = ()) -> tuple[dict[str, Any], list[Finding]]:
    """Merge ``child`` over ``parent`` (an already-merged policy, or ``None``).

    Returns the merged mapping, with every ``+`` key resolved, and the problems found.
    """
    out: dict[str, Any] = inheritable(parent, loc) if parent is not None else {}
    findings: list[Finding] = []
    for raw_key, value in child.items():
        append = raw_key.endswith(APPEND_SUFFIX)
        key = raw_key.removesuffix(APPEND_SUFFIX)
        sub = (*loc, key)
        if append:
            if sub in NOT_INHERITED:
                findings.append(
                    Finding(
                        sub,
                        f"'{raw_key}' appends to an inherited list, but {format_path(sub)} is never inherited",
                        f"write '{key}:'",
                    )
                )
            elif not isinstance(value, list):
                findings.append(
                    Finding(
                        sub,
                        f"'{raw_key}' appends a list to the inherited one, got {_what(value)}",
                        f"write '{key}:' to replace the value",
                    )
                )
                continue
            elif isinstance(out.get(key), list):
                value = [*out[key], *value]
            elif out.get(key) is not None:
                findings.append(
                    Finding(
                        sub,
                        f"'{raw_key}' appends to a list, but the inherited value is {_what(out[key])}",
                        f"write '{key}:' to replace the value",
                    )
                )
                continue
        if isinstance(value, Mapping):
            inherited = out.get(key)
            out[key], more = merge(inherited if isinstance(inherited, Mapping) else None, value, sub)
            findings.extend(more)
        elif isinstance(value, list):
            out[key] = [_plain(item, (*sub, i), findings) for i, item in enumerate(value)]
        else:
            out[key] = value
    return out, findings


def _plain(value: Any, loc: Loc, findings: list[Finding]) -> Any:
    """Resolve ``+`` keys inside list items (nothing is inherited there)."""
    if isinstance(value, Mapping):
        merged, more = merge(None, value, loc)
        findings.extend(more)
        return merged
    return value


def extends_chain(name: str, parents: Mapping[str, str | None]) -> tuple[list[str], list[str] | None]:
    """Follow ``extends`` from ``name``: the chain child first, and the cycle if there is one.

    ``parents`` maps each policy name to the name it extends. The chain stops at a policy that
    extends nothing or extends a name not in ``parents``. A cycle is returned closed, e.g.
    ``["a", "b", "a"]``, starting at the first policy on the chain that is in the cycle.
    """
    chain = [name]
    current = parents.get(name)
    while current is not None and current in parents:
        if current in chain:
            start = chain.index(current)
            return chain, [*chain[start:], current]
        chain.append(current)
        current = parents[current]
    return chain, None

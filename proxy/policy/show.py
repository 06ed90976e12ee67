"""``bedside policy show``: a merged policy as YAML, headed by where it came from."""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from proxy.policy.policy_set import ResolvedPolicy

__all__ = ["show"]


class _ShowDumper(yaml.SafeDumper):
    """Writes multi-line strings as ``|`` blocks so prompts read as they were written."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ShowDumper.add_representer(str, _str)


def show(policy: ResolvedPolicy) -> str:
    """The merged policy as YAML, with a comment naming its file, lineage and version."""
    header = f"# policy {policy.name} from {policy.source_file}"
    if len(policy.lineage) > 1:
        header += f" (extends {' -> '.join(policy.lineage[1:])})"
    header += f"\n# version {policy.version_header}\n"
    return header + yaml.dump(
        policy.policy_dict(),
        Dumper=_ShowDumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )

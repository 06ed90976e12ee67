"""Policies as code: the schema, loader, inheritance, policy set and hot-reloading store.

Operators keep one YAML file per policy in ``policies/``. The public surface::

    load_policy_set(directory, *, default_policy="auto", unknown_model="fallback") -> PolicySet
    check_directory(directory, *, default_policy="auto") -> list[PolicyIssue]
    PolicySet.resolve(model) -> ResolvedPolicy | None
    PolicyStore(directory, ...).current / .reload() / .watch(stop) / .install_sighup(loop)
    show(policy) -> str

See docs/policies.md for the guide and docs/policy-reference.md for every field.
"""

from proxy.policy.errors import PolicyIssue, PolicyLoadError
from proxy.policy.git_version import git_commit
from proxy.policy.merge import APPEND_SUFFIX, NOT_INHERITED
from proxy.policy.microcopy import TEMPLATE_VARIABLES, render_template, template_problems
from proxy.policy.policy_set import (
    AUTO_DEFAULT,
    PolicySet,
    ResolvedPolicy,
    check_directory,
    content_hash,
    load_policy_set,
)
from proxy.policy.schema import Policy
from proxy.policy.show import show
from proxy.policy.store import PolicyStore, ReloadResult

__all__ = [
    "APPEND_SUFFIX",
    "AUTO_DEFAULT",
    "NOT_INHERITED",
    "TEMPLATE_VARIABLES",
    "Policy",
    "PolicyIssue",
    "PolicyLoadError",
    "PolicySet",
    "PolicyStore",
    "ReloadResult",
    "ResolvedPolicy",
    "check_directory",
    "content_hash",
    "git_commit",
    "load_policy_set",
    "render_template",
    "show",
    "template_problems",
]

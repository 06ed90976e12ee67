"""A directory of policies, loaded, merged and checked as one immutable :class:`PolicySet`.

:func:`load_policy_set` reads every ``*.yaml``/``*.yml`` file directly in the directory (not
subdirectories; hidden files are skipped), resolves ``extends``, validates every merged policy and
the set as a whole, and raises :class:`PolicyLoadError` with *all* problems found.
:func:`check_directory` returns the problems instead. Files whose name starts with ``_`` are
abstract: they are validated and can be extended, but have no aliases and never serve a request.

The default (fallback) policy serves models no alias names. ``default_policy`` is a policy name
(it must exist), ``None`` (no fallback: unknown models get 404 listing the aliases), or
:data:`AUTO_DEFAULT` (``"auto"``): the policy named ``default`` when the directory has one, else
no fallback. ``bedside serve`` and ``bedside policy check`` resolve it the same way.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field

from proxy.policy.errors import PolicyIssue, PolicyLoadError, sorted_issues
from proxy.policy.git_version import git_commit
from proxy.policy.loader import ParsedFile, parse_file, validate_policy
from proxy.policy.merge import extends_chain, merge
from proxy.policy.schema import Policy

UnknownModel = Literal["fallback", "refuse"]
POLICY_SUFFIXES = (".yaml", ".yml")
#: ``default_policy`` value meaning "``default.yaml`` if the directory has one, else no fallback"
AUTO_DEFAULT = "auto"


class ResolvedPolicy(Policy):
    """A merged, validated policy plus where it came from and its identity for logs and headers."""

    source_file: Path = Field(description="The file that defines this policy.")
    lineage: tuple[str, ...] = Field(description="This policy and its ancestors, child first.")
    content_hash: str = Field(description="First 12 hex of sha256 over the canonical JSON of the merged policy.")
    version_header: str = Field(description="`content_hash`, plus `@<git short sha>` when known.")

    @property
    def abstract(self) -> bool:
        """Whether this policy only exists to be extended (its name starts with ``_``)."""
        return self.name.startswith("_")

    def policy_dict(self) -> dict[str, Any]:
        """The merged policy as JSON-ready data, without the resolution fields."""
        return self.model_dump(mode="json", include=set(Policy.model_fields))


def content_hash(policy: Policy) -> str:
    """sha256 (12 hex) of the canonical JSON of ``policy``'s :class:`Policy` fields."""
    data = policy.model_dump(mode="json", include=set(Policy.model_fields))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


@dataclass(frozen=True, eq=False)
class PolicySet:
    """Every policy of a directory, merged; immutable, so a request can hold it as a snapshot.

    Model resolution (:meth:`resolve`): an alias selects its policy. Otherwise the default policy
    serves the request if the model is in its ``routing.allowed_models``, or if ``allowed_models``
    is ``null`` and ``unknown_model`` is ``"fallback"``. Anything else resolves to ``None``.
    """

    directory: Path
    policies: Mapping[str, ResolvedPolicy]
    default_policy: str | None
    unknown_model: UnknownModel
    version: str
    git_commit: str | None
    _by_alias: Mapping[str, str] = field(repr=False)

    def resolve(self, model: str, tenant: str | None = None) -> ResolvedPolicy | None:
        """The policy serving a request for ``model`` (from ``tenant``, when given: a policy whose
        ``routing.tenants`` leaves the tenant out does not exist for it), or ``None`` (a 404)."""
        name = self._by_alias.get(model)
        if name is not None:
            policy = self.policies[name]
            return policy if tenant is None or policy.routing.serves(tenant) else None
        default = self.default
        if default is None or (tenant is not None and not default.routing.serves(tenant)):
            return None
        allowed = default.routing.allowed_models
        if (allowed is None and self.unknown_model == "fallback") or (allowed is not None and model in allowed):
            return default
        return None

    @property
    def default(self) -> ResolvedPolicy | None:
        """The default policy, if one is configured."""
        return self.policies.get(self.default_policy) if self.default_policy else None

    def aliases(self, tenant: str | None = None) -> list[str]:
        """Every model alias (that ``tenant`` may use, when given), sorted (for 404 messages and ``/v1/models``)."""
        return sorted(a for a, name in self._by_alias.items() if tenant is None or self.policies[name].routing.serves(tenant))

    def model_ids(self, tenant: str | None = None) -> list[str]:
        """Model names a client (of ``tenant``, when given) may ask for: aliases plus the default's
        explicit ``allowed_models``."""
        default = self.default
        extra = default.routing.allowed_models or [] if default is not None and (tenant is None or default.routing.serves(tenant)) else []
        return sorted({*self.aliases(tenant), *extra})


def _policy_files(directory: Path) -> tuple[list[Path], list[PolicyIssue]]:
    if not directory.is_dir():
        return [], [
            PolicyIssue(
                directory,
                None,
                None,
                "",
                "policy directory does not exist or is not a directory",
            )
        ]
    files = sorted(p for p in directory.iterdir() if p.suffix in POLICY_SUFFIXES and not p.name.startswith(".") and p.is_file())
    if not files:
        return [], [PolicyIssue(directory, None, None, "", "no policy files (*.yaml) in this directory")]
    return files, []


def _did_you_mean(word: str, options: list[str]) -> str | None:
    close = difflib.get_close_matches(word, options, n=1)
    return f"did you mean '{close[0]}'?" if close else None


class _Build:
    """One load of a directory: parsed files, merged data, validated policies and all issues."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.issues: list[PolicyIssue] = []
        self.files: dict[str, ParsedFile] = {}
        self.merged: dict[str, dict[str, Any]] = {}
        self.valid: dict[str, Policy] = {}

    def read(self) -> None:
        paths, self.issues = _policy_files(self.directory)
        for path in paths:
            parsed, problems = parse_file(path)
            self.issues += problems
            if parsed is None:
                continue
            explicit = parsed.data.get("name")
            if explicit is not None and explicit != parsed.name:
                self.issues.append(
                    parsed.issue(
                        ("name",),
                        f"name {json.dumps(explicit)} does not match the file name '{path.name}'",
                        f"rename the file to {explicit}.yaml or remove 'name'",
                    )
                )
            if parsed.name in self.files:
                first = self.files[parsed.name].path
                self.issues.append(
                    PolicyIssue(
                        path,
                        None,
                        None,
                        "",
                        f"policy '{parsed.name}' is defined twice: here and in {first}",
                    )
                )
                continue
            self.files[parsed.name] = parsed

    def _parent(self, parsed: ParsedFile) -> str | None:
        parent = parsed.data.get("extends")
        return parent if isinstance(parent, str) else None

    def resolve(self) -> None:
        parents = {name: self._parent(p) for name, p in self.files.items()}
        for name, parsed in self.files.items():
            parent = parents[name]
            chain, cycle = extends_chain(name, parents)
            partial = cycle is None and parents[chain[-1]] is not None
            if parent is not None and parent not in parents:
                self.issues.append(
                    parsed.issue(
                        ("extends",),
                        f"policy '{parent}' does not exist",
                        _did_you_mean(parent, sorted(parents)),
                    )
                )
                partial = True
            if cycle is not None:
                partial = True
                if name in cycle:
                    start = cycle.index(name)
                    loop = [*cycle[start:-1], *cycle[:start], name]
                    self.issues.append(parsed.issue(("extends",), "extends forms a cycle: " + " -> ".join(loop)))
                chain = [name]
            data: dict[str, Any] = {}
            for ancestor in reversed(chain):
                data, findings = merge(data or None, self.files[ancestor].data)
                if ancestor == name:
                    self.issues += [parsed.issue(f.loc, f.message, f.hint, key=True) for f in findings]
            data["name"] = name
            self.merged[name] = data
            policy, problems = validate_policy(data, [self.files[a] for a in chain], partial=partial)
            self.issues += problems
            if policy is not None and not partial:
                self.valid[name] = policy

    def check_set(self, default_policy: str | None) -> None:
        seen: dict[str, tuple[ParsedFile, int]] = {}
        for name, parsed in self.files.items():
            routing = self.merged[name].get("routing")
            aliases = routing.get("aliases") if isinstance(routing, dict) else None
            aliases = aliases if isinstance(aliases, list) else []
            if name.startswith("_") and aliases:
                self.issues.append(
                    parsed.issue(
                        ("routing", "aliases"),
                        "an abstract policy (name starts with '_') cannot have aliases",
                        key=True,
                    )
                )
            for index, alias in enumerate(aliases):
                if not isinstance(alias, str):
                    continue
                if alias in seen:
                    other, other_index = seen[alias]
                    where = other.issue(("routing", "aliases", other_index), "").location
                    self.issues.append(
                        parsed.issue(
                            ("routing", "aliases", index),
                            f"alias '{alias}' is already used by policy '{other.name}' ({where})",
                        )
                    )
                else:
                    seen[alias] = (parsed, index)
        if default_policy is not None and self.files:
            if default_policy not in self.files:
                self.issues.append(
                    PolicyIssue(
                        self.directory,
                        None,
                        None,
                        "",
                        f"default policy '{default_policy}' not found (no {default_policy}.yaml here)",
                        _did_you_mean(default_policy, sorted(self.files))
                        or "set BEDSIDE_POLICY__DEFAULT (policy.default) to one of the policies here, or to 'none' for no fallback",
                    )
                )
            elif default_policy.startswith("_"):
                self.issues.append(
                    PolicyIssue(
                        self.files[default_policy].path,
                        None,
                        None,
                        "",
                        f"the default policy '{default_policy}' is abstract (its name starts with '_')",
                    )
                )

    def policy_set(self, default_policy: str | None, unknown_model: UnknownModel) -> PolicySet:
        commit = git_commit(self.directory)
        suffix = f"@{commit[:7]}" if commit else ""
        resolved: dict[str, ResolvedPolicy] = {}
        for name, policy in sorted(self.valid.items()):
            chash = content_hash(policy)
            lineage = tuple(extends_chain(name, {n: p.extends for n, p in self.valid.items()})[0])
            resolved[name] = ResolvedPolicy(
                **{k: getattr(policy, k) for k in Policy.model_fields},
                source_file=self.files[name].path, lineage=lineage, content_hash=chash,
                version_header=chash + suffix,
            )  # fmt: skip
        digest = hashlib.sha256()
        for name, policy in resolved.items():
            digest.update(f"{name}:{policy.content_hash}\n".encode())
        digest.update(f"default={default_policy};unknown={unknown_model}".encode())
        by_alias = {alias: name for name, p in resolved.items() for alias in p.routing.aliases}
        return PolicySet(
            directory=self.directory, policies=MappingProxyType(resolved), default_policy=default_policy,
            unknown_model=unknown_model, version=digest.hexdigest()[:12] + suffix, git_commit=commit,
            _by_alias=MappingProxyType(by_alias),
        )  # fmt: skip


def _build(directory: Path, default_policy: str | None) -> tuple[_Build, str | None]:
    """The load, and the default policy it resolved (``auto``: ``default`` when that file exists)."""
    build = _Build(Path(directory))
    build.read()
    build.resolve()
    if default_policy == AUTO_DEFAULT:
        default_policy = "default" if "default" in build.files else None
    build.check_set(default_policy)
    return build, default_policy


def check_directory(directory: Path, *, default_policy: str | None = AUTO_DEFAULT) -> list[PolicyIssue]:
    """Every problem in the policy directory, sorted by file and position; empty when all is well."""
    return sorted_issues(_build(directory, default_policy)[0].issues)


def load_policy_set(
    directory: Path,
    *,
    default_policy: str | None = AUTO_DEFAULT,
    unknown_model: UnknownModel = "fallback",
) -> PolicySet:
    """Load, merge and check a policy directory; raise :class:`PolicyLoadError` listing all problems."""
    build, resolved = _build(directory, default_policy)
    if build.issues:
        raise PolicyLoadError(sorted_issues(build.issues))
    return build.policy_set(resolved, unknown_model)

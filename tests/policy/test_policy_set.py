"""The policy set: model resolution, aliases, versions and hashes, git commit, show."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from proxy.policy import Policy, PolicySet, check_directory, content_hash, git_commit, load_policy_set, show

SHA = "0123456789abcdef0123456789abcdef01234567"


def _write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    _write(folder, "default.yaml", "description: Default\nowner: o\nrouting: {allowed_models: [gpt-4o-mini, gpt-4o]}\n")
    _write(folder, "support.yaml", "description: Support\nowner: o\nrouting: {aliases: [support-agent, helpdesk], upstream_model: gpt-4o}\n")
    _write(folder, "open.yaml", "description: Open\nowner: o\n")
    return folder


def test_resolve_by_alias_then_default(directory: Path) -> None:
    policies = load_policy_set(directory)
    assert policies.resolve("support-agent") is policies.policies["support"]
    assert policies.resolve("helpdesk") is policies.policies["support"]
    assert policies.resolve("gpt-4o-mini") is policies.policies["default"]
    assert policies.resolve("gpt-3.5-turbo") is None  # not in the default's allowed_models
    assert policies.resolve("Support-Agent") is None  # aliases are exact


def test_fallback_without_allowed_models(directory: Path) -> None:
    _write(directory, "default.yaml", "description: Default\nowner: o\n")
    assert load_policy_set(directory).resolve("anything") is not None
    refusing = load_policy_set(directory, unknown_model="refuse")
    assert refusing.resolve("anything") is None
    assert refusing.resolve("support-agent") is not None


def test_refuse_still_honours_explicit_allowed_models(directory: Path) -> None:
    policies = load_policy_set(directory, unknown_model="refuse")
    assert policies.resolve("gpt-4o") is policies.policies["default"]
    assert policies.resolve("gpt-3.5-turbo") is None


def test_no_default_policy(directory: Path) -> None:
    policies = load_policy_set(directory, default_policy=None)
    assert policies.default is None
    assert policies.resolve("gpt-4o-mini") is None
    with_open = load_policy_set(directory, default_policy="open")
    assert with_open.resolve("whatever") is with_open.policies["open"]


def test_aliases_and_model_ids(directory: Path) -> None:
    policies = load_policy_set(directory)
    assert policies.aliases() == ["helpdesk", "support-agent"]
    assert policies.model_ids() == ["gpt-4o", "gpt-4o-mini", "helpdesk", "support-agent"]


def test_set_is_immutable(directory: Path) -> None:
    policies = load_policy_set(directory)
    with pytest.raises(TypeError):
        policies.policies["x"] = policies.policies["default"]  # type: ignore[index]  # proving it fails
    with pytest.raises(AttributeError):
        policies.version = "x"  # type: ignore[misc]  # proving it fails


def test_resolved_policy_fields(directory: Path) -> None:
    support = load_policy_set(directory).policies["support"]
    assert isinstance(support, Policy)
    assert support.name == "support"
    assert support.source_file == directory / "support.yaml"
    assert support.lineage == ("support",)
    assert len(support.content_hash) == 12 and int(support.content_hash, 16) >= 0
    assert support.content_hash == content_hash(support)
    assert support.version_header == support.content_hash  # tmp_path is no git checkout
    assert not support.abstract


def test_hashes_are_stable_and_change_with_content(directory: Path) -> None:
    first = load_policy_set(directory)
    again = load_policy_set(directory)
    assert first.version == again.version
    assert first.policies["support"].content_hash == again.policies["support"].content_hash
    # formatting and comments do not change the hash; content does
    _write(directory, "support.yaml", "# comment\nowner: o\ndescription: Support\nrouting:\n  upstream_model: gpt-4o\n  aliases: [support-agent, helpdesk]\n")
    reformatted = load_policy_set(directory)
    assert reformatted.policies["support"].content_hash == first.policies["support"].content_hash
    assert reformatted.version == first.version
    _write(directory, "open.yaml", "description: Open\nowner: someone else\n")
    changed = load_policy_set(directory)
    assert changed.version != first.version
    assert changed.policies["support"].content_hash == first.policies["support"].content_hash
    # the resolution settings are part of the set's version
    assert load_policy_set(directory, unknown_model="refuse").version != changed.version


def test_version_carries_the_git_commit(directory: Path) -> None:
    git = directory.parent / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(SHA + "\n")
    policies = load_policy_set(directory)
    assert policies.git_commit == SHA
    assert policies.version.endswith("@0123456")
    assert policies.policies["support"].version_header == policies.policies["support"].content_hash + "@0123456"


def test_git_commit_from_packed_refs_detached_head_and_worktrees(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (repo / ".git" / "packed-refs").write_text(f"# pack-refs with: peeled\n{SHA} refs/heads/main\n")
    assert git_commit(repo) == SHA
    (repo / ".git" / "HEAD").write_text(SHA.replace("0", "f") + "\n")
    assert git_commit(repo / "sub" / "dir") == SHA.replace("0", "f")  # parents are searched; need not exist
    worktree = tmp_path / "wt"
    gitdir = repo / ".git" / "worktrees" / "wt"
    gitdir.mkdir(parents=True)
    (gitdir / "HEAD").write_text("ref: refs/heads/feature\n")
    (gitdir / "commondir").write_text("../..\n")
    (repo / ".git" / "refs" / "heads").mkdir(parents=True)
    (repo / ".git" / "refs" / "heads" / "feature").write_text("a" * 40 + "\n")
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {gitdir}\n")
    assert git_commit(worktree) == "a" * 40


def test_git_commit_fails_quietly(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("garbage\n")
    assert git_commit(tmp_path) is None


def test_abstract_policies(directory: Path) -> None:
    _write(directory, "_base.yaml", "description: Base\nowner: o\n")
    policies = load_policy_set(directory)
    assert policies.policies["_base"].abstract
    _write(directory, "_base.yaml", "description: Base\nowner: o\nrouting: {aliases: [base]}\n")
    assert [str(i) for i in check_directory(directory)] == [
        f"{directory}/_base.yaml:3:11: routing.aliases: an abstract policy (name starts with '_') cannot have aliases"
    ]
    _write(directory, "_base.yaml", "description: Base\nowner: o\n")
    assert [i.message for i in check_directory(directory, default_policy="_base")] == ["the default policy '_base' is abstract (its name starts with '_')"]


def test_show_is_yaml_of_the_merged_policy(directory: Path) -> None:
    _write(directory, "vip.yaml", "description: VIP\nextends: support\npersona:\n  system_prompt: |\n    Line one.\n    Line two.\n")
    policies = load_policy_set(directory)
    vip = policies.policies["vip"]
    text = show(vip)
    assert text.startswith(f"# policy vip from {directory}/vip.yaml (extends support)\n# version {vip.version_header}\n")
    assert "system_prompt: |\n    Line one.\n    Line two.\n" in text
    data = yaml.safe_load(text)
    assert Policy.model_validate(data) == Policy.model_validate(vip.policy_dict())
    assert data["routing"]["upstream_model"] == "gpt-4o"


def test_policy_set_type(directory: Path) -> None:
    assert isinstance(load_policy_set(directory), PolicySet)

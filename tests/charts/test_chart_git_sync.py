"""Policies from git: the chart's git-sync containers, and Bedside's policy watcher following them.

git-sync publishes each commit as a new git worktree under ``--root`` and swaps the ``--link``
symlink to it, then deletes the old worktree. The last test lays out exactly that on disk with real
git (a clone, detached worktrees, an atomic symlink swap, the old worktree removed) and runs
Bedside's own :class:`PolicyStore` watcher under the environment the chart gives the pod: every
published commit must be picked up, and the policy version must carry its hash.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.charts.chart_support import KUBE_VERSION, PRODUCTION, ROOT, container, env_of, mounts_of, one, volumes_of

GIT_SYNC = {"gitSync": {"enabled": True, "repo": "https://git.example.com/acme/policies.git"}}


def _pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod: dict[str, Any] = one(objects, "Deployment")["spec"]["template"]["spec"]
    return pod


def test_an_init_clone_then_a_sidecar_share_one_volume_at_the_path_bedside_reads(render: Any) -> None:
    objects, notes = render(PRODUCTION)
    assert "Policies: git https://git.example.com/acme/bedside-policies.git (main, policies/), pulled every 60s and hot-reloaded." in notes
    assert "2 to 5 replicas (autoscaled)" in notes
    pod = _pod(objects)
    assert one(objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "bedside"
    (init,) = pod["initContainers"]
    sidecar = container(objects, name="git-sync")
    bedside = container(objects)
    assert init["name"] == "git-sync-init" and "--one-time" in init["args"]  # Bedside never starts without policies
    assert "--one-time" not in sidecar["args"] and "--period=60s" in sidecar["args"] and "--max-failures=-1" in sidecar["args"]
    for c in (init, sidecar):
        assert {"--repo=https://git.example.com/acme/bedside-policies.git", "--ref=main", "--root=/etc/bedside/git", "--link=policies"} <= set(c["args"])
        assert c["image"].startswith("registry.k8s.io/git-sync/git-sync:v4.")
        assert mounts_of(c)["/etc/bedside/git"]["name"] == "git"  # the same path everywhere: git's worktree links are absolute
        assert c["securityContext"]["readOnlyRootFilesystem"] is True and c["securityContext"]["allowPrivilegeEscalation"] is False
        assert env_of(c)["GITSYNC_USERNAME"] == {"secretKeyRef": {"name": "policy-repo", "key": "username"}}
        assert env_of(c)["GITSYNC_PASSWORD_FILE"] == "/etc/git-secret/password"  # read from a file, never an argument
    assert mounts_of(bedside)["/etc/bedside/git"] == {"name": "git", "mountPath": "/etc/bedside/git", "readOnly": True}
    env = env_of(bedside)
    assert env["BEDSIDE_POLICY__DIRECTORY"] == "/etc/bedside/git/policies/policies"  # --link, then gitSync.subPath
    assert env["BEDSIDE_POLICY__WATCH"] == "true" and env["WATCHFILES_FORCE_POLLING"] == "true"
    volumes = volumes_of(objects)
    assert "emptyDir" in volumes["git"]
    assert volumes["git-secret"]["secret"] == {"secretName": "policy-repo", "defaultMode": 0o440, "items": [{"key": "password", "path": "password"}]}
    assert "/etc/bedside/policies" not in mounts_of(bedside)


def test_ssh_credentials_mount_a_key_and_known_hosts(render: Any, kubernetes_validate: Any) -> None:
    objects, _ = render({"gitSync": {**GIT_SYNC["gitSync"], "repo": "git@git.example.com:acme/policies.git", "ssh": {"existingSecret": "deploy-key"}}})
    kubernetes_validate.validate(one(objects, "Deployment"), KUBE_VERSION, strict=True)
    sidecar = container(objects, name="git-sync")
    assert {"--ssh", "--ssh-key-file=/etc/git-secret/ssh", "--ssh-known-hosts-file=/etc/git-secret/known_hosts"} <= set(sidecar["args"])
    assert "env" not in sidecar
    items = volumes_of(objects)["git-secret"]["secret"]["items"]
    assert items == [{"key": "ssh", "path": "ssh"}, {"key": "known_hosts", "path": "known_hosts"}]


def test_without_credentials_a_public_repository_needs_no_secret(render: Any) -> None:
    objects, _ = render(GIT_SYNC)
    assert "git-secret" not in volumes_of(objects)
    assert env_of(container(objects))["BEDSIDE_POLICY__DIRECTORY"] == "/etc/bedside/git/policies"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"gitSync": {"enabled": True}}, "gitSync.enabled needs gitSync.repo"),
        ({**GIT_SYNC, "policies": {"existingConfigMap": "x"}}, "policies come from one place"),
        ({**GIT_SYNC, "policies": {"watch": False}}, "gitSync.enabled needs policies.watch=true"),
        ({"gitSync": {**GIT_SYNC["gitSync"], "https": {"existingSecret": "a"}, "ssh": {"existingSecret": "b"}}}, "not both"),
        ({"gitSync": {**GIT_SYNC["gitSync"], "subPath": "../etc"}}, 'gitSync.subPath "../etc" must be a relative directory'),
    ],
)
def test_git_sync_values_that_cannot_work_stop_rendering(helm: Any, render: Any, values: dict[str, Any], expected: str) -> None:
    with pytest.raises(helm.HelmRenderError) as failure:
        render(values)
    assert expected in str(failure.value)


# --- the watcher follows git-sync's symlink swaps ---------------------------------------------------


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


class GitSyncLayout:
    """What git-sync v4 leaves in ``--root``: the repository, one worktree per synced commit and
    the ``--link`` symlink swapped atomically to the newest (the previous worktree deleted)."""

    def __init__(self, tmp: Path, sub_path: str) -> None:
        self.origin, self.root, self.sub_path = tmp / "origin", tmp / "root", sub_path
        (self.origin / sub_path).mkdir(parents=True)
        for source in (ROOT / "policies").glob("*.yaml"):
            shutil.copy(source, self.origin / sub_path / source.name)
        _git("init", "-q", "-b", "main", cwd=self.origin)
        self.commit("first")
        _git("clone", "-q", "--no-checkout", str(self.origin), str(self.root), cwd=tmp)
        self.current: Path | None = None

    def commit(self, description: str) -> str:
        default = self.origin / self.sub_path / "default.yaml"
        text = default.read_text()
        start = text.index("\ndescription:") + 1
        end = text.index("extends:", start)
        default.write_text(text[:start] + f"description: {description}\n" + text[end:])
        _git("add", "-A", cwd=self.origin)
        _git("commit", "-q", "-m", description, cwd=self.origin)
        return _git("rev-parse", "HEAD", cwd=self.origin)

    def publish(self) -> str:
        _git("fetch", "-q", "origin", "main", cwd=self.root)
        sha = _git("rev-parse", "FETCH_HEAD", cwd=self.root)
        worktree = self.root / ".worktrees" / sha
        _git("worktree", "add", "-q", "--detach", str(worktree), sha, cwd=self.root)
        staging = self.root / "tmp-link"
        staging.symlink_to(Path(".worktrees") / sha)
        os.replace(staging, self.root / "policies")  # rename(2) over the old link: atomic
        if self.current is not None:
            _git("worktree", "remove", "--force", str(self.current), cwd=self.root)
        self.current = worktree
        return sha


async def _wait_for(condition: Any, seconds: float = 20.0) -> bool:
    for _ in range(int(seconds / 0.1)):
        if condition():
            return True
        await asyncio.sleep(0.1)
    return bool(condition())


def test_each_commit_git_sync_publishes_is_picked_up_by_the_policy_watcher(render: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from proxy.policy.store import PolicyStore

    objects, _ = render({"gitSync": {**GIT_SYNC["gitSync"], "subPath": "bedside"}})
    env = env_of(container(objects))
    for name in ("WATCHFILES_FORCE_POLLING", "WATCHFILES_POLL_DELAY_MS"):  # what the chart sets for the pod
        monkeypatch.setenv(name, env[name])
    layout = GitSyncLayout(tmp_path, "bedside")
    first = layout.publish()
    directory = layout.root / env["BEDSIDE_POLICY__DIRECTORY"].removeprefix("/etc/bedside/git/")
    store = PolicyStore(directory)
    assert store.current.git_commit == first
    assert store.current.policies["default"].description == "first"

    async def follow() -> list[tuple[str | None, str]]:
        stop = asyncio.Event()
        watcher = asyncio.create_task(store.watch(stop))
        seen: list[tuple[str | None, str]] = []
        try:
            await asyncio.sleep(0.5)
            for n in (2, 3, 4):  # several swaps: a watch left on the first, deleted worktree would miss the later ones
                # git-sync publishes at most once per period (60 s in the chart); the poller compares
                # modification times to the second, so two worktrees written within one second look alike.
                await asyncio.sleep(1.1)
                layout.commit(f"revision {n}")
                sha = layout.publish()
                await _wait_for(lambda sha=sha: store.current.git_commit == sha)
                seen.append((store.current.git_commit, store.current.policies["default"].description or ""))
        finally:
            stop.set()
            await asyncio.wait_for(watcher, 10)
        return seen

    seen = asyncio.run(follow())
    shas = [sha for sha, _ in seen]
    assert all(shas) and len(set(shas)) == 3
    assert [description for _, description in seen] == ["revision 2", "revision 3", "revision 4"]
    assert store.current.version.endswith("@" + shas[-1][:7])  # x-bedside-policy-version names the commit

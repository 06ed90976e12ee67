"""Policies from git (the chart's gitSync): does the policy watcher follow git-sync, how fast, and
what does polling cost?

    python bench/policy_watch.py [--swaps N] [--idle SECONDS]

git-sync publishes a commit by writing a new worktree and swapping the ``--link`` symlink to it,
then deleting the old worktree. This lays out exactly that (copies of ``policies/``, one
directory per commit, an atomic ``rename(2)`` of the link) and runs Bedside's own
:class:`~proxy.policy.store.PolicyStore` watcher twice, side by side:

* ``inotify``: the default (a file-system watch on the directory);
* ``polling``: the chart's setting (``WATCHFILES_FORCE_POLLING=true``, ``WATCHFILES_POLL_DELAY_MS=1000``).

For each: how many of ``N`` commits (published 1.5 s apart) were reloaded, the wall time from the
swap to the new policy set (median and worst), and the process CPU the idle watcher spends per
minute. Wall times are noisy on a loaded machine; the CPU figure is ``time.process_time``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy.policy.store import PolicyStore  # noqa: E402 - after the path is set

MODES = {"inotify": {}, "polling": {"WATCHFILES_FORCE_POLLING": "true", "WATCHFILES_POLL_DELAY_MS": "1000"}}


class Layout:
    """git-sync's --root: .worktrees/<n>/ and the 'policies' link swapped to the newest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / ".worktrees").mkdir(parents=True)
        self.n = 0

    def publish(self) -> None:
        self.n += 1
        worktree = self.root / ".worktrees" / f"c{self.n}"
        worktree.mkdir()
        for source in (ROOT / "policies").glob("*.yaml"):
            text = source.read_text()
            if source.name == "default.yaml":
                start = text.index("\ndescription:") + 1
                text = text[:start] + f"description: commit {self.n}\n" + text[text.index("extends:", start) :]
            (worktree / source.name).write_text(text)
        staging = self.root / "link.tmp"
        staging.symlink_to(Path(".worktrees") / worktree.name)
        os.replace(staging, self.root / "policies")
        old = self.root / ".worktrees" / f"c{self.n - 1}"
        if old.exists():
            shutil.rmtree(old)


async def measure(mode: str, swaps: int, idle: float) -> dict[str, object]:
    for name in ("WATCHFILES_FORCE_POLLING", "WATCHFILES_POLL_DELAY_MS"):
        os.environ.pop(name, None)
    os.environ.update(MODES[mode])
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp))
        layout.publish()
        store = PolicyStore(layout.root / "policies")
        stop = asyncio.Event()
        watcher = asyncio.create_task(store.watch(stop))
        await asyncio.sleep(1.0)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(idle)
        idle_cpu_per_min = (time.process_time() - cpu0) / (time.perf_counter() - wall0) * 60
        latencies: list[float] = []
        for _ in range(swaps):
            await asyncio.sleep(1.5)
            layout.publish()
            published, want = time.perf_counter(), f"commit {layout.n}"
            while time.perf_counter() - published < 10:
                if store.current.policies["default"].description == want:
                    latencies.append(time.perf_counter() - published)
                    break
                await asyncio.sleep(0.02)
        stop.set()
        await asyncio.wait_for(watcher, 10)
    return {"reloaded": len(latencies), "median": statistics.median(latencies) if latencies else None, "worst": max(latencies) if latencies else None, "cpu": idle_cpu_per_min}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=5, help="commits to publish (default 5)")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle watching for the CPU figure (default 20)")
    args = parser.parse_args()
    results = {mode: asyncio.run(measure(mode, args.swaps, args.idle)) for mode in MODES}
    load = os.getloadavg()[0]
    print(f"policy watcher following git-sync swaps ({args.swaps} commits, 1.5 s apart; load average {load:.1f})")
    print(f"{'watcher':<10} {'reloaded':>9} {'median s':>9} {'worst s':>8} {'idle CPU ms/min':>16}")
    for mode, r in results.items():
        median = f"{r['median']:.2f}" if r["median"] is not None else "-"
        worst = f"{r['worst']:.2f}" if r["worst"] is not None else "-"
        print(f"{mode:<10} {r['reloaded']:>4}/{args.swaps:<4} {median:>9} {worst:>8} {r['cpu'] * 1000:>16.1f}")


if __name__ == "__main__":
    main()

"""The store: atomic swaps under concurrent readers, failed reloads, file watching and SIGHUP."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from pathlib import Path

import anyio
import pytest

from proxy.policy import PolicyLoadError, PolicyStore, ReloadResult

NAMES = ("default", "support", "billing", "intake")


def _write_generation(directory: Path, generation: int) -> None:
    """Every policy file carries the same generation marker in its description."""
    for index, name in enumerate(NAMES):
        alias = f"routing: {{aliases: [{name}-agent]}}\n" if index else ""
        (directory / f"{name}.yaml").write_text(f"description: generation {generation}\nowner: o\n{alias}")


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    _write_generation(tmp_path, 0)
    return tmp_path


def test_initial_load_failure_raises(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("mode: loud\n")
    with pytest.raises(PolicyLoadError):
        PolicyStore(tmp_path)


def test_reload_swaps_in_a_new_set(directory: Path) -> None:
    results: list[ReloadResult] = []
    store = PolicyStore(directory, on_reload=results.append)
    before = store.current
    same = store.reload()
    assert same.ok and not same.changed and same.version == before.version
    _write_generation(directory, 1)
    result = store.reload()
    assert result.ok and result.changed and result.issues == []
    assert result.version == store.current.version != before.version
    assert result.duration_s >= 0
    assert store.current.policies["support"].description == "generation 1"
    assert before.policies["support"].description == "generation 0"  # a held snapshot never changes
    assert results == [same, result]


def test_failed_reload_keeps_the_last_good_set(directory: Path) -> None:
    store = PolicyStore(directory)
    good = store.current
    (directory / "support.yaml").write_text("description: x\nowner: o\npersona: {placement: top}\n")
    result = store.reload()
    assert not result.ok and not result.changed
    assert result.version == good.version
    assert [i.path for i in result.issues] == ["persona.placement"]
    assert store.current is good
    _write_generation(directory, 2)
    assert store.reload().ok
    assert store.current is not good


def test_a_failing_callback_does_not_break_reloads(directory: Path) -> None:
    def explode(result: ReloadResult) -> None:
        raise RuntimeError("boom")

    store = PolicyStore(directory, on_reload=explode)
    _write_generation(directory, 3)
    assert store.reload().ok
    assert store.current.policies["default"].description == "generation 3"


def test_concurrent_readers_never_see_a_mixed_snapshot(directory: Path) -> None:
    store = PolicyStore(directory)
    versions: dict[int, str] = {0: store.current.version}
    stop = threading.Event()
    failures: list[str] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            snapshot = store.current  # one read per "request"
            generations = {p.description for p in snapshot.policies.values()}
            if len(generations) != 1:
                failures.append(f"mixed generations {generations}")
            resolved = snapshot.resolve("support-agent")
            if resolved is None or resolved is not snapshot.policies["support"]:
                failures.append("resolve did not use the snapshot")
            if snapshot.policies["default"].description != next(iter(generations)):
                failures.append("snapshot changed while held")
            reads[0] += 1
            time.sleep(0)  # yield the GIL so the writer makes progress

    def writer() -> None:
        for generation in range(1, 26):
            _write_generation(directory, generation)
            result = store.reload()
            if not result.ok or result.version is None:
                failures.append(f"reload failed: {result.issues}")
                continue
            versions[generation] = result.version
        stop.set()

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert reads[0] > 0
    assert len(set(versions.values())) == 26  # every generation was a distinct, complete set
    assert store.current.policies["intake"].description == "generation 25"


async def _wait_for(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_watch_picks_up_a_file_change(directory: Path) -> None:
    results: list[ReloadResult] = []
    store = PolicyStore(directory, on_reload=results.append)
    stop = anyio.Event()
    task = asyncio.create_task(store.watch(stop, debounce_ms=50))
    try:
        await asyncio.sleep(0.3)  # let the watcher start
        _write_generation(directory, 5)
        assert await _wait_for(lambda: store.current.policies["billing"].description == "generation 5")
        (directory / "billing.yaml").write_text("persona: [\n")  # a broken edit is reported, not applied
        assert await _wait_for(lambda: any(not r.ok for r in results))
        assert store.current.policies["billing"].description == "generation 5"
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
async def test_sighup_reloads(directory: Path) -> None:
    results: list[ReloadResult] = []
    store = PolicyStore(directory, on_reload=results.append)
    loop = asyncio.get_running_loop()
    if not store.install_sighup(loop):
        pytest.skip("signal handlers unavailable here (not the main thread)")
    try:
        _write_generation(directory, 7)
        os.kill(os.getpid(), signal.SIGHUP)
        assert await _wait_for(lambda: bool(results))
        assert store.current.policies["default"].description == "generation 7"
    finally:
        loop.remove_signal_handler(signal.SIGHUP)


def test_before_swap_sees_the_new_set_before_any_reader_does(directory: Path) -> None:
    """The server loads a reloaded set's models in ``before_swap``: readers see the new set only after."""
    seen: list[tuple[str, str]] = []
    store: PolicyStore

    def prepare(fresh: object) -> None:
        seen.append((fresh.policies["default"].description, store.current.policies["default"].description))  # type: ignore[attr-defined]

    store = PolicyStore(directory, before_swap=prepare)
    _write_generation(directory, 1)
    assert store.reload().ok
    assert seen == [("generation 1", "generation 0")]
    assert store.current.policies["default"].description == "generation 1"

    def broken(fresh: object) -> None:
        raise RuntimeError("a model failed to load")

    store.before_swap = broken  # what it would prepare loads on first use instead: the reload still happens
    _write_generation(directory, 2)
    assert store.reload().ok
    assert store.current.policies["default"].description == "generation 2"

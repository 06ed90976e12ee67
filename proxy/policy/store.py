"""The live policy set, swapped atomically on reload (file watch, SIGHUP or an explicit call).

A request reads :attr:`PolicyStore.current` once and keeps that :class:`PolicySet` to the end; a
reload builds a complete new set and swaps it in with one assignment, so a reader never sees a mix
of old and new policies. A failed reload keeps the last good set and reports the issues.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import anyio.to_thread
import watchfiles

from proxy.policy.errors import PolicyIssue, PolicyLoadError
from proxy.policy.policy_set import (
    AUTO_DEFAULT,
    POLICY_SUFFIXES,
    PolicySet,
    UnknownModel,
    load_policy_set,
)

log = logging.getLogger(__name__)


class StopEvent(Protocol):
    """What :meth:`PolicyStore.watch` needs to stop: an ``anyio.Event`` or ``asyncio.Event``."""

    def is_set(self) -> bool: ...

    async def wait(self) -> object: ...


@dataclass(frozen=True)
class ReloadResult:
    """The outcome of one reload: ``version`` is the set in use afterwards (``None`` if none)."""

    ok: bool
    version: str | None
    issues: list[PolicyIssue] = field(default_factory=list)
    duration_s: float = 0.0
    changed: bool = False


def _is_policy_change(change: watchfiles.Change, path: str) -> bool:
    """Reload for policy files and for symlink swaps (Kubernetes ConfigMaps rename ``..data``)."""
    name = Path(path).name
    return name.endswith(POLICY_SUFFIXES) or name.startswith("..")


class PolicyStore:
    """Holds the current :class:`PolicySet` for a directory and reloads it.

    The constructor loads the directory and raises :class:`PolicyLoadError` if it has problems: a
    server must not start with broken policies. Later reloads never raise.
    """

    def __init__(
        self,
        directory: Path,
        *,
        default_policy: str | None = AUTO_DEFAULT,
        unknown_model: UnknownModel = "fallback",
        on_reload: Callable[[ReloadResult], None] | None = None,
        before_swap: Callable[[PolicySet], None] | None = None,
        check: Callable[[PolicySet], Sequence[PolicyIssue]] | None = None,
    ) -> None:
        """``check`` runs on every set that loads (at start and on each reload); the issues it
        returns reject the set like a file problem does. The wiring uses it for what only the
        running server can know, e.g. that a policy names an emotion reader that is not installed."""
        self.check = check
        self.directory = Path(directory)
        self.default_policy = default_policy
        self.unknown_model: UnknownModel = unknown_model
        self.on_reload = on_reload
        #: called (in the reloading thread) with a valid new set before it is swapped in: the
        #: server loads the models the new set uses there, so no request waits for one
        self.before_swap = before_swap
        self._lock = threading.Lock()
        self._current: PolicySet = self._load()

    def _load(self) -> PolicySet:
        loaded = load_policy_set(
            self.directory,
            default_policy=self.default_policy,
            unknown_model=self.unknown_model,
        )
        issues = list(self.check(loaded)) if self.check is not None else []
        if issues:
            raise PolicyLoadError(issues)
        return loaded

    @property
    def current(self) -> PolicySet:
        """The policy set in use: read it once per request and keep it."""
        return self._current

    def reload(self) -> ReloadResult:
        """Load the directory again; swap the set in if it is valid, keep the old one if not."""
        with self._lock:  # one reload at a time; readers never wait
            started = time.perf_counter()
            previous = self._current
            try:
                fresh = self._load()
            except PolicyLoadError as exc:
                result = ReloadResult(False, previous.version, exc.issues, time.perf_counter() - started)
            else:
                if self.before_swap is not None:
                    try:
                        self.before_swap(fresh)
                    except Exception:  # what it prepares is loaded on first use instead
                        log.exception("policy before_swap callback failed")
                self._current = fresh
                changed = fresh.version != previous.version
                result = ReloadResult(True, fresh.version, [], time.perf_counter() - started, changed)
        if self.on_reload is not None:
            try:
                self.on_reload(result)
            except Exception:  # a broken callback must not break reloading
                log.exception("policy on_reload callback failed")
        return result

    async def watch(
        self,
        stop: StopEvent,
        *,
        debounce_ms: int = 300,
        force_polling: bool | None = None,
    ) -> None:
        """Reload whenever a policy file in the directory changes, until ``stop`` is set.

        Changes are debounced (a burst of writes, like a ``git pull``, reloads once) and the reload
        runs in a worker thread so the event loop keeps serving requests.
        """
        async for _changes in watchfiles.awatch(
            self.directory,
            watch_filter=_is_policy_change,
            debounce=debounce_ms,
            stop_event=stop,
            force_polling=force_polling,
            recursive=False,
        ):
            await anyio.to_thread.run_sync(self.reload)

    def install_sighup(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Reload on SIGHUP (in the loop's default executor); ``False`` where signals are unavailable."""
        if not hasattr(signal, "SIGHUP"):
            return False

        def _on_signal() -> None:
            loop.run_in_executor(None, self.reload)

        try:
            loop.add_signal_handler(signal.SIGHUP, _on_signal)
        except (NotImplementedError, RuntimeError, ValueError):
            return False
        return True

"""Run validators over one text and collect a :class:`RailOutcome` of reason *names* (no user text).

Two ways were measured (``python bench/rails_eval.py`` prints them; one core, 150-word text, five
validators: jailbreak, crisis, denied_topics, language, max_length):

* through a cached ``Guard`` (``GUARDRAILS_RUN_SYNC=true``, tracing off): 1.50 ms p50 / 1.79 ms
  p99, i.e. ~0.8 ms of guard overhead on top of the validators;
* calling ``validator.validate`` directly: 0.71 ms p50 / 0.91 ms p99, the validators' own cost
  only, no per-call history holding the user's text, and thread-safe.

(A trivial regex validator alone costs 0.002 ms direct vs ~0.44 ms through a Guard.)

Direct calls are the default (:func:`run_validators`); a :class:`GuardRunner` (one per owner, its
``Guard`` objects in a bounded LRU cache) runs them through guardrails-ai, to prove the validators
behave identically inside it and for callers that need a ``Guard``. A validator that raises counts
as a failure with reason ``validator_error`` (the input rails fail closed); the exception text is
not included since it may quote the input. guardrails-ai is imported when a function runs, never
at import.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from proxy.rails.guardrails_setup import prepare_rails

__all__ = ["GuardRunner", "RailFailure", "RailOutcome", "run_validators"]


@dataclass(frozen=True, slots=True)
class RailFailure:
    """One validator that failed: its registered name, reason names and an optional fixed text."""

    validator: str
    reasons: tuple[str, ...]
    fix_value: str | None


@dataclass(frozen=True, slots=True)
class RailOutcome:
    """The result of running a set of validators over one text."""

    passed: bool
    failures: tuple[RailFailure, ...]


def _failure(name: str, result: Any) -> RailFailure:
    meta = result.metadata or {}
    reasons = tuple(str(r) for r in meta.get("reasons", ())) or (name.rsplit("/", 1)[-1],)
    fix = result.fix_value if isinstance(result.fix_value, str) else None
    return RailFailure(name, reasons, fix)


def run_validators(text: str, validators: Sequence[Any], *, metadata: dict[str, Any] | None = None) -> RailOutcome:
    """Run ``validators`` over ``text`` by calling each one's ``validate`` directly.

    ``metadata`` is passed to every validator (e.g. ``{"source": "tool"}`` for the jailbreak
    validator). Synchronous, CPU-bound and thread-safe; at ~0.6 ms for the input rails it may run
    on the event loop, or in ``anyio.to_thread.run_sync`` for long texts.
    """
    if not validators:
        return RailOutcome(True, ())
    from guardrails.classes.validation.validation_result import FailResult

    meta = dict(metadata or {})
    failures = []
    for v in validators:
        try:
            result = v.validate(text, meta)
        except Exception:  # noqa: BLE001 - fail closed, never leak the message
            failures.append(RailFailure(v.rail_alias, ("validator_error",), None))
            continue
        if isinstance(result, FailResult):
            failures.append(_failure(v.rail_alias, result))
    return RailOutcome(not failures, tuple(failures))


class GuardRunner:
    """Runs validators through a guardrails ``Guard``, one ``Guard`` per validator set (bounded LRU).

    A ``Guard`` keeps per-call history, so each has a lock and its history is cleared after every
    call (the user's text is not kept in memory)."""

    def __init__(self, maxsize: int = 32) -> None:
        self._guards: LRUCache[tuple[int, ...], tuple[tuple[Any, ...], Any, threading.Lock]] = LRUCache(maxsize)
        self._lock = threading.Lock()

    def _guard_for(self, validators: Sequence[Any]) -> tuple[Any, threading.Lock]:
        key = tuple(id(v) for v in validators)
        with self._lock:
            entry = self._guards.get(key)
            if entry is None:
                prepare_rails()
                from guardrails import Guard

                # The entry keeps the validators alive, so their ids cannot be reused for others.
                entry = self._guards[key] = (tuple(validators), Guard().use(*validators), threading.Lock())
            return entry[1], entry[2]

    def run(self, text: str, validators: Sequence[Any], *, metadata: dict[str, Any] | None = None) -> RailOutcome:
        """Like :func:`run_validators`, through a ``Guard``."""
        if not validators:
            return RailOutcome(True, ())
        from guardrails.classes.validation.validation_result import FailResult

        guard, lock = self._guard_for(validators)
        with lock:
            try:
                guard.validate(text, metadata=dict(metadata or {}))
                call = guard.history.last
                logs = call.iterations.last.validator_logs if call and call.iterations.last else []
            except Exception:  # noqa: BLE001 - fail closed
                return RailOutcome(False, (RailFailure("guard", ("validator_error",), None),))
            finally:
                guard.history.clear()  # do not keep the user's text in memory
        failures = tuple(_failure(log.registered_name, log.validation_result) for log in logs if isinstance(log.validation_result, FailResult))
        return RailOutcome(not failures, failures)

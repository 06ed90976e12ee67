"""Rails: Bedside's guardrails-ai validators and the façade the guardrails stage calls.

Importing this package first makes guardrails-ai offline (no telemetry, metrics, remote inference;
see :mod:`proxy.rails.guardrails_setup`), then registers the ``bedside/...`` validators.

:func:`run_validators` runs validators over one text and returns a :class:`RailOutcome` of reason
*names* (no user text). Two ways were measured (``python bench/rails_eval.py`` prints them; one
core, 150-word text, five validators: jailbreak, crisis, denied_topics, language, max_length):

* through a cached ``Guard`` (``GUARDRAILS_RUN_SYNC=true``, tracing off): 1.50 ms p50 / 1.79 ms
  p99, i.e. ~0.8 ms of guard overhead on top of the validators;
* calling ``validator.validate`` directly: 0.71 ms p50 / 0.91 ms p99, the validators' own cost
  only, no per-call history holding the user's text, and thread-safe.

(A trivial regex validator alone costs 0.002 ms direct vs ~0.44 ms through a Guard.)

Direct calls are the default (``via_guard=False``); ``via_guard=True`` exists to prove the
validators behave identically inside guardrails-ai and for callers that need a ``Guard``.
A validator that raises counts as a failure with reason ``validator_error`` (the guardrails stage
fails closed); the exception text is not included since it may quote the input.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from proxy.rails.guardrails_setup import disable_guardrails_network

disable_guardrails_network()

from guardrails import Guard  # noqa: E402
from guardrails.classes.validation.validation_result import FailResult  # noqa: E402
from guardrails.validator_base import Validator  # noqa: E402

from proxy.rails.validators import (  # noqa: E402
    BedsideCrisis,
    BedsideDeniedTopics,
    BedsideForbiddenPhrases,
    BedsideJailbreak,
    BedsideLanguage,
    BedsideMaxLength,
    BedsideRequiredDisclosure,
    detect_language,
)

__all__ = [
    "BedsideCrisis",
    "BedsideDeniedTopics",
    "BedsideForbiddenPhrases",
    "BedsideJailbreak",
    "BedsideLanguage",
    "BedsideMaxLength",
    "BedsideRequiredDisclosure",
    "RailFailure",
    "RailOutcome",
    "detect_language",
    "disable_guardrails_network",
    "run_validators",
]


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


def _failure(name: str, result: FailResult) -> RailFailure:
    meta = result.metadata or {}
    reasons = tuple(str(r) for r in meta.get("reasons", ())) or (name.rsplit("/", 1)[-1],)
    fix = result.fix_value if isinstance(result.fix_value, str) else None
    return RailFailure(name, reasons, fix)


def _direct(text: str, validators: Sequence[Validator], metadata: dict[str, Any]) -> RailOutcome:
    failures = []
    for v in validators:
        try:
            result = v.validate(text, metadata)
        except Exception:  # noqa: BLE001 - fail closed, never leak the message
            failures.append(RailFailure(v.rail_alias, ("validator_error",), None))
            continue
        if isinstance(result, FailResult):
            failures.append(_failure(v.rail_alias, result))
    return RailOutcome(not failures, tuple(failures))


_GUARD_CACHE_SIZE = 32
_guards: OrderedDict[tuple[int, ...], tuple[tuple[Validator, ...], Guard, threading.Lock]] = OrderedDict()
_guards_lock = threading.Lock()


def _guard_for(validators: Sequence[Validator]) -> tuple[Guard, threading.Lock]:
    key = tuple(id(v) for v in validators)
    with _guards_lock:
        entry = _guards.get(key)
        if entry is None:
            # The entry keeps the validators alive, so their ids cannot be reused for others.
            entry = (tuple(validators), Guard().use(*validators), threading.Lock())
            _guards[key] = entry
            while len(_guards) > _GUARD_CACHE_SIZE:
                _guards.popitem(last=False)
        else:
            _guards.move_to_end(key)
        return entry[1], entry[2]


def _via_guard(text: str, validators: Sequence[Validator], metadata: dict[str, Any]) -> RailOutcome:
    guard, lock = _guard_for(validators)
    with lock:  # a Guard keeps per-call history: not safe to share between threads
        try:
            guard.validate(text, metadata=metadata)
            call = guard.history.last
            logs = call.iterations.last.validator_logs if call and call.iterations.last else []
        except Exception:  # noqa: BLE001 - fail closed
            return RailOutcome(False, (RailFailure("guard", ("validator_error",), None),))
        finally:
            guard.history.clear()  # do not keep the user's text in memory
    failures = tuple(
        _failure(log.registered_name, log.validation_result)
        for log in logs
        if isinstance(log.validation_result, FailResult)
    )
    return RailOutcome(not failures, failures)


def run_validators(
    text: str,
    validators: Sequence[Validator],
    *,
    metadata: dict[str, Any] | None = None,
    via_guard: bool = False,
) -> RailOutcome:
    """Run ``validators`` over ``text`` and collect failures as reason names and fixes.

    ``metadata`` is passed to every validator (e.g. ``{"source": "tool"}`` for the jailbreak
    validator). Synchronous and CPU-bound; at ~0.6 ms for the input rails it may run on the event
    loop, or in ``anyio.to_thread.run_sync`` for long texts.
    """
    meta = dict(metadata or {})
    if not validators:
        return RailOutcome(True, ())
    if via_guard:
        return _via_guard(text, validators, meta)
    return _direct(text, validators, meta)

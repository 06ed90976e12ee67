"""``jailbreak`` (input): prompt injection and jailbreaks in the user's message, tool results and
documents, per the rule's ``sources`` (the detector weighs instructions inside data higher)."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import InputCheck


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.validators import BedsideJailbreak

    threshold = 0.5 if rule.threshold is None else rule.threshold
    return InputCheck("jailbreak", rule.action, frozenset(rule.sources), BedsideJailbreak(threshold=threshold))

"""``crisis`` (input): self-harm, abuse or a medical emergency in the person's latest message."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import InputCheck, user_only


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.validators import BedsideCrisis

    threshold = 0.5 if rule.threshold is None else rule.threshold
    return InputCheck("crisis", rule.action, user_only(rule), BedsideCrisis(threshold=threshold))

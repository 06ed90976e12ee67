"""Every rail check by name: one line per check (the name is the policy's ``check:`` value).

``tests/checks/test_registry.py`` proves every check the policy schema allows has a module here
and every module here is allowed by the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from proxy.checks import (
    crisis,
    denied_topics,
    forbidden_phrases,
    harmful_request,
    jailbreak,
    language,
    max_length,
    moderation,
    over_empathy,
    persona_drift,
    pii_leak,
    required_disclosure,
    system_prompt_leak,
)
from proxy.checks.base import Check, CheckModule
from proxy.rails.guardrails_setup import prepare_rails

__all__ = ["INPUT_CHECKS", "OUTPUT_CHECKS", "compile_check"]

INPUT_CHECKS: Mapping[str, CheckModule] = MappingProxyType(
    {
        "jailbreak": jailbreak,
        "harmful_request": harmful_request,
        "moderation": moderation,
        "crisis": crisis,
        "denied_topics": denied_topics,
        "max_length": max_length,
        "language": language,
    }
)

OUTPUT_CHECKS: Mapping[str, CheckModule] = MappingProxyType(
    {
        "forbidden_phrases": forbidden_phrases,
        "persona_drift": persona_drift,
        "system_prompt_leak": system_prompt_leak,
        "required_disclosure": required_disclosure,
        "pii_leak": pii_leak,
        "over_empathy": over_empathy,
    }
)


def compile_check(direction: str, rule: Any, policy: Any) -> Check | None:
    """The compiled check for ``rule`` of ``policy`` (``direction``: ``input`` or ``output``).

    guardrails-ai is made offline first (idempotent), before any validator exists."""
    prepare_rails()
    checks = INPUT_CHECKS if direction == "input" else OUTPUT_CHECKS
    try:
        module = checks[rule.check]
    except KeyError:
        raise ValueError(f"unknown {direction} check {rule.check!r}") from None  # the schema forbids it
    return module.compile(rule, policy)

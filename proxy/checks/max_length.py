"""``max_length`` (input): the person's latest message is longer than ``max_chars`` (``fix``
shortens it at a word boundary)."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import InputCheck, user_only


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.validators import BedsideMaxLength

    return InputCheck("max_length", rule.action, user_only(rule), BedsideMaxLength(max_chars=rule.max_chars))

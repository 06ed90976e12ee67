"""``language`` (input): the person's latest message is confidently in a language outside the
rule's ``languages`` (default: the persona's language). Tags are reduced to their primary subtag."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import InputCheck, user_only


def allowed_languages(rule: Any, policy: Any) -> list[str]:
    """``["en", "es"]`` for ``languages: [en-GB, es]``; the persona's language when none are given."""
    return [lang.split("-")[0].lower() for lang in rule.languages] or [policy.persona.language.split("-")[0].lower()]


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.validators import BedsideLanguage

    return InputCheck("language", rule.action, user_only(rule), BedsideLanguage(allowed=allowed_languages(rule, policy)))

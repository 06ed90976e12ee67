"""``persona_drift`` (output): stock self-descriptions of a generic model ("as an AI language
model", "trained by OpenAI", ...) plus the rule's ``phrases``; ``fix`` removes the phrase."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import SpanCheck
from proxy.checks.phrases import phrase_mirror
from proxy.rails.patterns import DRIFT_PHRASES

CORRECTION = "Stay in your persona: do not describe yourself as a language model or name the company that trained you."


def compile(rule: Any, policy: Any) -> SpanCheck:
    from proxy.rails.validators import BedsideForbiddenPhrases

    phrases = (*DRIFT_PHRASES, *rule.phrases)
    return SpanCheck("persona_drift", rule.action, BedsideForbiddenPhrases(phrases), CORRECTION, phrase_mirror(phrases))

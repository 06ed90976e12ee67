"""``forbidden_phrases`` (output): ``persona.forbidden_phrases`` plus the rule's ``phrases``
(case-insensitive, whole words, any whitespace between words); ``fix`` removes the phrase.

The one place the persona's forbidden phrases are enforced: a policy that declares no
``forbidden_phrases`` rail still gets them enforced, with ``block`` and on the reply's text only
(:func:`persona_default`), by the output rails like any other check.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from proxy.checks.base import SpanCheck
from proxy.checks.phrases import phrase_mirror
from proxy.policy.sections.rails import OutputRail


def compile(rule: Any, policy: Any) -> SpanCheck | None:
    from proxy.rails.validators import BedsideForbiddenPhrases

    phrases = (*policy.persona.forbidden_phrases, *rule.phrases)
    if not phrases:
        return None
    quoted = ", ".join(f'"{p}"' for p in phrases)
    return SpanCheck("forbidden_phrases", rule.action, BedsideForbiddenPhrases(phrases), f"Do not use these phrases: {quoted}.", phrase_mirror(phrases))


def persona_default(policy: Any) -> SpanCheck | None:
    """The check a policy gets when its persona forbids phrases but it declares no
    ``forbidden_phrases`` rail: those phrases, ``block``, on the reply's text (not tool calls)."""
    if any(r.check == "forbidden_phrases" for r in policy.rails.output) or not policy.persona.forbidden_phrases:
        return None
    found = compile(OutputRail(check="forbidden_phrases", action="block"), policy)
    return None if found is None else dataclasses.replace(found, tools=False)

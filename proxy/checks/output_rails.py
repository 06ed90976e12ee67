"""A policy's output rails compiled: :func:`compile_output_rails` -> :class:`OutputRules`.

Each ``rails.output`` entry is compiled by its check module (:mod:`proxy.checks.registry`); the
persona's forbidden phrases are added with ``block`` when the policy declares no
``forbidden_phrases`` rail (:func:`proxy.checks.forbidden_phrases.persona_default`), so they are
enforced in one place whatever the policy says. :mod:`proxy.checks.output_scan` applies the
result to a reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from proxy.checks import forbidden_phrases
from proxy.checks.base import PrefixCheck, SpanCheck
from proxy.checks.registry import compile_check
from proxy.rails.guardrails_setup import prepare_rails

__all__ = ["OutputRules", "compile_output_rails"]


@dataclass(frozen=True, slots=True)
class OutputRules:
    rules: tuple[SpanCheck, ...]
    disclosure: PrefixCheck | None
    #: whether any rail's action is ``reask`` (the stage then reads a JSON reply whole)
    reask: bool
    #: every rule's ``regex`` mirror in one pattern (None when a rule has none, or their flags
    #: differ): one search tells whether any mirror matches, instead of one search per rule
    trigger: Any = None

    @property
    def tool_rules(self) -> tuple[SpanCheck, ...]:
        return tuple(r for r in self.rules if r.tools)

    @property
    def empty(self) -> bool:
        return not self.rules and self.disclosure is None


def compile_output_rails(policy: Any) -> OutputRules:
    """The compiled ``rails.output`` of ``policy`` (validators built once per policy version)."""
    if policy.rails.output or policy.persona.forbidden_phrases:  # something to compile: guardrails is offline before any validator exists
        prepare_rails()  # (idempotent; a policy without output rails never loads guardrails-ai)
    rules: list[SpanCheck] = []
    disclosure: PrefixCheck | None = None
    for rule in policy.rails.output:
        check = compile_check("output", rule, policy)
        if isinstance(check, PrefixCheck):
            disclosure = check
        elif isinstance(check, SpanCheck):
            rules.append(check)
    default = forbidden_phrases.persona_default(policy)
    if default is not None:
        rules.insert(0, default)
    reask = any(r.action == "reask" for r in policy.rails.output)
    return OutputRules(tuple(rules), disclosure, reask, _trigger(rules))


def _trigger(rules: list[SpanCheck]) -> Any:
    """One alternation of the rules' mirrors: it matches somewhere exactly when one of them does."""
    mirrors = [r.partial for r in rules]
    if not mirrors or any(m is None for m in mirrors) or len({m.flags for m in mirrors}) != 1:
        return None
    if any(_REFERS.search(m.pattern) for m in mirrors):
        return None  # a back-reference would point elsewhere once the groups are renumbered
    import regex

    return regex.compile("|".join(f"(?:{m.pattern})" for m in mirrors), mirrors[0].flags)


#: a back-reference (numbered or named) in a mirror's pattern
_REFERS = re.compile(r"\\[1-9]|\(\?P=|\\g<")

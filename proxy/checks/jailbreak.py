"""``jailbreak`` (input): prompt injection and jailbreaks in the user's message, tool results,
documents and pasted blocks, per the rule's ``sources``. Untrusted text (tool, document, pasted)
is read sentence by sentence by the indirect-injection detector; the user's own words by the
jailbreak detector."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import InputCheck


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.validators import BedsideJailbreak

    threshold = 0.5 if rule.threshold is None else rule.threshold
    sources = frozenset(rule.sources)
    # pasted blocks are data read by the indirect detector; the person's own words around them are
    # read as the user's (only when the rule reads pasted blocks, so nothing goes unread)
    return InputCheck("jailbreak", rule.action, sources, BedsideJailbreak(threshold=threshold), own_words="pasted" in sources)

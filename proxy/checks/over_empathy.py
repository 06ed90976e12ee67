"""``over_empathy`` (output): more than ``max_apologies`` stock apologies or empathy phrases in a
reply ("I'm sorry…", "I apologize for the inconvenience", "I hear you"); ``fix`` removes those
beyond the limit. Counted per choice across the whole reply; prose only, not tool calls."""

from __future__ import annotations

from typing import Any

import regex

from proxy.checks.base import SpanCheck
from proxy.rails.patterns import EMPATHY_RE

#: How far past the end of a complete match optional words may still extend it.
EMPATHY_TAIL = 48


def compile(rule: Any, policy: Any) -> SpanCheck:
    from proxy.rails.output_validators import BedsideOverEmpathy

    correction = f"Apologise or express sympathy at most {rule.max_apologies} time(s); be specific and move on to what you will do."
    mirror = regex.compile(EMPATHY_RE.pattern, regex.IGNORECASE)
    # the validator reports every phrase (max 0); the scan counts them against the limit
    return SpanCheck("over_empathy", rule.action, BedsideOverEmpathy(max_apologies=0), correction, mirror, tail=EMPATHY_TAIL, limit=rule.max_apologies, tools=False)

"""``pii_leak`` (output): structured personal data the model wrote itself (e-mail, phone, payment
card, US SSN, IBAN, IPv4); ``fix`` replaces it with ``<ENTITY>``. The PII stage's placeholders
are not personal data: this check sees the reply before they are restored."""

from __future__ import annotations

from typing import Any

import regex

from proxy.checks.base import SpanCheck
from proxy.detectors import structured_pii
from proxy.rails.patterns import PII_PATTERNS

CORRECTION = "Do not include e-mail addresses, phone numbers, card, account or identity numbers."


def placeholder(entity: str) -> str:
    return f"<{entity}>"


def compile(rule: Any, policy: Any) -> SpanCheck:
    from proxy.rails.output_validators import BedsidePiiLeak

    mirror = regex.compile("|".join(f"(?:{p.pattern})" for _, p in PII_PATTERNS))
    return SpanCheck("pii_leak", rule.action, BedsidePiiLeak(), CORRECTION, mirror, replacement=placeholder, in_progress=structured_pii.in_progress_from)

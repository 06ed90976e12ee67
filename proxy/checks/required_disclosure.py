"""``required_disclosure`` (output): the persona's ``disclosure`` (first turn, or every turn) must be
within the first characters of the reply; ``fix`` prepends it. Nothing to check when the persona
has no disclosure or says ``when: never``."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import PrefixCheck

#: characters past the disclosure's length within which it must appear
SLACK = 40


def compile(rule: Any, policy: Any) -> PrefixCheck | None:
    disclosure = policy.persona.disclosure
    if disclosure is None or disclosure.when == "never":
        return None
    from proxy.policy import render_template
    from proxy.rails.validators import BedsideRequiredDisclosure

    said = render_template(disclosure.text, policy.microcopy.variables(None))
    return PrefixCheck("required_disclosure", rule.action, said, BedsideRequiredDisclosure([said]), len(said) + SLACK, disclosure.when == "every_turn")

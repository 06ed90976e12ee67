"""``harmful_request`` (input): the person's latest message asks for help to do serious harm
(weapons, violence, self-harm, sexual abuse, malware, crime, hate, privacy, misinformation).

The rule's ``categories`` give each category its action (``block`` kindly with the refusal text,
``handoff`` to a person, ``log``); categories not named pass. With no ``categories`` every category
takes the rule's ``action``. Offline (:mod:`proxy.detectors.harmful`)."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import InputCheck, user_only


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.validators import BedsideHarmfulRequest

    validator = BedsideHarmfulRequest(threshold=rule.threshold, categories=list(rule.categories))
    return InputCheck("harmful_request", rule.action, user_only(rule), validator, actions=dict(rule.categories))

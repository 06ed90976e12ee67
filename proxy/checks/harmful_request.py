"""``harmful_request`` (input): the person's latest message asks for help to do serious harm
(weapons, violence, self-harm, sexual abuse, malware, crime, hate, privacy, misinformation).

The rule's ``categories`` give each category its action (``block`` kindly with the refusal text,
``handoff`` to a person, ``log``); categories not named pass. With no ``categories`` every category
takes the rule's ``action``. Offline. The rule's ``model`` picks the reader: ``features`` (default,
:mod:`proxy.detectors.harmful`) or ``encoder`` (:mod:`proxy.detectors.harm_encoder`: milliseconds,
so the check is marked ``off_loop`` and the input-rails stage runs it in a worker thread; it needs
the ``contextual`` extra, and :func:`harm_policy_issues` rejects a policy naming it where that is
not installed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxy.checks.base import InputCheck, user_only

if TYPE_CHECKING:
    from proxy.policy.errors import PolicyIssue


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.validators import BedsideHarmfulRequest

    model = rule.model or "features"
    validator = BedsideHarmfulRequest(threshold=rule.threshold, categories=list(rule.categories), model=model)
    return InputCheck("harmful_request", rule.action, user_only(rule), validator, actions=dict(rule.categories), off_loop=model == "encoder")


def harm_policy_issues(policy_set: Any) -> list[PolicyIssue]:
    """Policies with a ``harmful_request`` rail reading with ``model: encoder`` where the encoder cannot
    load (the ``contextual`` extra or the encoder wheel missing), named with the install commands. The
    policy store runs this on every load and reload, so such a set is rejected instead of failing
    closed at every request. Cheap: it looks the packages up without importing them."""
    from proxy.policy.errors import PolicyIssue

    issues: list[PolicyIssue] = []
    why: str | None = None
    looked = False
    for name, policy in sorted(policy_set.policies.items()):
        for i, rail in enumerate(policy.rails.input):
            if rail.check != "harmful_request" or rail.model != "encoder":
                continue
            if not looked:
                from proxy.detectors.harm_encoder import encoder_missing

                why, looked = encoder_missing(), True
            if why is not None:
                issues.append(PolicyIssue(
                    policy.source_file, None, None, f"rails.input[{i}].model",
                    f"policy '{name}' reads harmful requests with the encoder, which cannot load here: {why}",
                    "install it as said, or remove `model: encoder`"))
    return issues

"""``moderation`` (input): the person's latest message is judged by an OpenAI-compatible moderation
endpoint or a guard model behind a chat API (:mod:`proxy.rails.moderation`).

The rule's ``moderation`` names the endpoint, its timeout and failure mode (``on_error``);
``categories`` map the provider's category names (``violence``, ``self-harm``, ``S1``, ...) to
actions, others pass; with no ``categories`` anything flagged takes the rule's ``action``. The
stage awaits it (``InputCheck.remote``): it is network I/O, never run on a worker thread."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import InputCheck, user_only


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.moderation import ModerationJudge

    judge = ModerationJudge(rule.moderation, rule.categories)
    return InputCheck("moderation", rule.action, user_only(rule), None, actions=dict(rule.categories), remote=judge)

"""``denied_topics`` (input): the person's latest message is about a built-in or operator topic.

A built-in topic named without keywords or exceptions stays a name (the detector's own spec); one
with keywords or exceptions extends the built-in spec; any other name is the operator's topic."""

from __future__ import annotations

from typing import Any

from proxy.checks.base import InputCheck, user_only
from proxy.detectors.topics import BUILTIN_TOPICS, TopicSpec
from proxy.policy.sections.rails import TopicRule


def topic(rule: TopicRule) -> str | TopicSpec:
    """The detector's topic for one policy topic."""
    base = BUILTIN_TOPICS.get(rule.name)
    if base is not None and not rule.keywords and not rule.exceptions:
        return rule.name
    if base is not None:
        return TopicSpec(rule.name, (*base.keywords, *rule.keywords), base.patterns, (*base.exceptions, *rule.exceptions), base.description)
    return TopicSpec(rule.name, tuple(rule.keywords), (), tuple(rule.exceptions))


def compile(rule: Any, policy: Any) -> InputCheck:
    from proxy.rails.validators import BedsideDeniedTopics

    options = {} if rule.threshold is None else {"min_score": rule.threshold}
    return InputCheck("denied_topics", rule.action, user_only(rule), BedsideDeniedTopics(topics=[topic(t) for t in rule.topics], **options))

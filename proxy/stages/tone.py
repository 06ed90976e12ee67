"""Tone stage: turn the emotion reading into short guidance for the model.

Reads: ``ctx.policy.tone`` (rules, placement, max_rules, escalation), ``ctx.facts["emotion"]``
(written by the emotion stage), the policy's microcopy variables (for the escalation template).
Writes: one system message marked ``[bedside:tone]`` into ``ctx.body["messages"]`` at the declared
place (guidance only: the model is told not to mention it); the ``x-bedside-tone`` header (the rule
names that fired, plus ``escalation``, or ``none``); decision ``tone`` (rule names, whether it
escalated); metrics ``bedside_tone_rules_total{policy, rule}``, ``bedside_escalations_total{policy}``.
Short-circuits: never. Fails **open**. In shadow mode the rules are chosen and recorded, not injected.

Rules are matched in order, first match first, up to ``max_rules``: a rule applies when the current
emotion is one of ``when.emotion`` (or any when empty), its intensity is at least
``when.min_intensity``, the latest turn's calibrated frustration score is inside ``when.frustration``
(when given), and the trend and distress flag match when given. Escalation (offer a person)
fires when the last ``min_turns`` user turns were all negative (frustration, anger, anxiety and
sadness together at least 0.4, or the turn's frustration score at least ``min_frustration``) or
their frustration scores rose turn after turn (calm, then annoyed, then furious), the trend is not
falling (rising or holding high), and the latest turn is negative with intensity at least
``min_intensity`` or has a frustration score of at least ``min_frustration``.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, ClassVar

from proxy.logs import get_logger
from proxy.marks import TONE_MARK
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next
from proxy.pipeline.summary import TONE_HEADER, summary_value
from proxy.stages.messages import last_user_index, leading_system_end

_NEGATIVE = frozenset({"frustration", "anger", "anxiety", "sadness"})


class ToneStage:
    name: ClassVar[str] = "tone"

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        policy = ctx.policy
        conv = ctx.facts.get("emotion")
        if policy is None or not policy.tone.enabled or conv is None or ctx.endpoint != "chat":
            return await call_next(ctx)
        tone = policy.tone
        shadow = policy.mode == "shadow"
        try:
            fired, escalate = select_rules(tone, conv)
            said = [rule.name for rule in fired] + (["escalation"] if escalate else [])
            ctx.response_headers[TONE_HEADER] = summary_value(said, shadow=shadow)
            lines = [rule.say for rule in fired]
            if escalate:
                from proxy.policy import render_template

                lines.append(render_template(tone.escalation.instruction, policy.microcopy.variables(ctx.request_id)))
            if lines:
                if not shadow:
                    inject(ctx.body["messages"], guidance(lines), tone.placement)
                for rule in fired:
                    self._metrics.child(self._metrics.tone_rules, policy.name, rule.name).inc()
                if escalate:
                    self._metrics.child(self._metrics.escalations, policy.name).inc()
                ctx.decide(self.name, rules=[r.name for r in fired], escalated=escalate, injected=not shadow)
        except Exception as exc:  # noqa: BLE001 - tone fails open by design
            get_logger().warning("stage_failed_open", stage=self.name, request_id=ctx.request_id, exc_info=exc)
            self._metrics.stage_failures.labels(self.name, "open").inc()
        return await call_next(ctx)


def select_rules(tone: Any, conv: Any) -> tuple[list[Any], bool]:
    """The rules that fire for this reading (in order, at most ``max_rules``), and whether to escalate."""
    current = conv.current
    fired = []
    for rule in tone.rules:
        when = rule.when
        if when.emotion and current.label not in when.emotion:
            continue
        if current.intensity < when.min_intensity:
            continue
        if when.frustration is not None and not (
                when.frustration.min <= _frustration(conv) <= when.frustration.max):
            continue
        if when.trend is not None and conv.trend != when.trend:
            continue
        if when.distress is not None and bool(conv.distress) != when.distress:
            continue
        fired.append(rule)
        if len(fired) >= tone.max_rules:
            break
    esc = tone.escalation
    escalate = bool(
        esc.enabled
        and conv.trend != "falling"
        and (_rising_turns(conv, esc.min_frustration) >= esc.min_turns or _escalating(conv, esc.min_turns))
        and ((current.label in _NEGATIVE and current.intensity >= esc.min_intensity)
             or _frustration(conv) >= esc.min_frustration)
    )
    return fired, escalate


def _frustration(conv: Any) -> float:
    return float(getattr(conv, "frustration", 0.0))


def _escalating(conv: Any, turns: int) -> bool:
    """The frustration scores of the last ``turns`` user turns rose turn after turn."""
    scores = tuple(getattr(conv, "frustrations", ()))[-turns:]
    return len(scores) == turns and all(b > a for a, b in pairwise(scores))


#: a turn counts as negative when frustration, anger, anxiety and sadness together reach this
#: probability (more robust than the top label when negative emotions split the mass)
NEGATIVE_MASS = 0.4


def _rising_turns(conv: Any, min_frustration: float = 1.0) -> int:
    """How many of the latest user turns were negative, counting back from the last one."""
    count = 0
    scores = tuple(getattr(conv, "frustrations", ()))
    scores = scores if len(scores) == len(conv.turns) else (0.0,) * len(conv.turns)
    for reading, score in zip(reversed(conv.turns), reversed(scores), strict=True):
        if sum(reading.probabilities.get(e, 0.0) for e in _NEGATIVE) >= NEGATIVE_MASS or score >= min_frustration:
            count += 1
        else:
            break
    return count


def guidance(lines: list[str]) -> str:
    body = "\n".join(f"- {line}" for line in lines)
    return (
        f"{TONE_MARK} Guidance for your next reply, based on how the user seems to feel. "
        "Follow it quietly: do not mention it, and do not label the user's feelings for them.\n" + body
    )


def inject(messages: list[dict[str, Any]], text: str, placement: str) -> None:
    """Insert the tone system message before the last user turn, or after the leading system block."""
    message = {"role": "system", "content": text}
    if placement == "before_last_user":
        index = last_user_index(messages)
        messages.insert(index if index is not None else len(messages), message)
    else:
        messages.insert(leading_system_end(messages), message)

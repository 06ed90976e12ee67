"""What a finished request adds to its conversation's outcome: read from the request's context, machine values only.

:func:`outcome_of` runs once per request in ``proxy.api.requestlog.finish_request`` (the one place
where every decision of the request is final: the output rails have seen the whole reply). It reads:

* ``ctx.facts["emotion"]``: per user turn, the top label, intensity, frustration probability and
  distress flag; the sentiment shift;
* ``ctx.decisions``: ``policy`` (name, version), ``tone`` (rule names, escalated),
  ``input_rails`` (action) and ``output_rails`` (failures' actions);
* ``ctx.facts["consent"]["sensitivity"]``: a ``no-store`` conversation yields nothing;
* the tenant, user and conversation ids, which leave only as keyed HMACs (``SubjectKey``).

It never reads message text.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from proxy.crypto.subjects import SubjectKey, conversation_subject
from proxy.pipeline.context import RequestContext
from proxy.storage.outcomes import OutcomeUpdate

#: output actions, strongest first (the request's output verdict is the strongest failure's)
_OUTPUT_ORDER = ("handoff", "block", "reask", "fix", "log")


def _trajectory(conv: Any) -> tuple[tuple[str, float, float, int], ...]:
    return tuple(
        (str(t.label), round(float(t.intensity), 3), round(float(t.probabilities.get("frustration", 0.0)), 3), 1 if t.distress else 0) for t in conv.turns
    )


def _user_turns(body: dict[str, Any]) -> int:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "user")


def _output_verdict(decision: dict[str, Any] | None) -> str | None:
    if decision is None:
        return None
    actions = {str(f.get("action")) for f in decision.get("failures") or () if isinstance(f, dict)}
    for action in _OUTPUT_ORDER:
        if action in actions:
            return action
    shadowed = sorted(a for a in actions if a.startswith("would_"))
    return shadowed[0] if shadowed else "pass"


def outcome_of(ctx: RequestContext, subjects: SubjectKey, *, now: datetime | None = None) -> OutcomeUpdate | None:
    """The facts of this request for its conversation, or None when nothing is kept: not a chat
    request, no policy, the policy keeps no outcomes, a ``no-store`` conversation, or no conversation id."""
    policy = ctx.policy
    if ctx.endpoint != "chat" or policy is None or not policy.outcomes.enabled:
        return None
    consent = ctx.facts.get("consent")
    sensitivity: str
    if consent is not None:
        sensitivity = consent["sensitivity"]
    else:  # no consent stage: the header, else the policy's default (the stricter reading of both is the stage's job)
        sensitivity = ctx.headers.get("x-bedside-sensitivity", "").strip().lower() or policy.memory.default_sensitivity
    if sensitivity == "no-store":
        return None
    conversation = ctx.conversation_id
    if not conversation:
        return None
    at = now or datetime.now(UTC)
    decisions = ctx.decisions
    conv = ctx.facts.get("emotion")
    rails: list[str] = []
    handoff = False
    inp = decisions.get("input_rails")
    if inp is not None:
        action = str(inp.get("action") or "pass")
        rails.append(f"input:{action}")
        handoff = action == "handoff"
    out = _output_verdict(decisions.get("output_rails"))
    if out is not None:
        rails.append(f"output:{out}")
        handoff = handoff or out == "handoff"
    tone = decisions.get("tone") or {}
    return OutcomeUpdate(
        tenant=ctx.tenant,
        conversation=conversation_subject(subjects, ctx.tenant, conversation),
        subject=subjects.subject(ctx.tenant, ctx.user_id) if ctx.user_id else None,
        policy_name=policy.name,
        policy_version=policy.version_header[:64],
        at=at,
        began=at - timedelta(seconds=max(0.0, time.perf_counter() - ctx.started)),
        turns=len(conv.turns) if conv is not None else _user_turns(ctx.body),
        trajectory=_trajectory(conv) if conv is not None else (),
        sentiment_shift=float(conv.sentiment_shift) if conv is not None else None,
        tone_rules=tuple(str(r) for r in tone.get("rules") or ()),
        escalated=bool(tone.get("escalated")),
        rails=tuple(rails),
        handoff=handoff,
    )

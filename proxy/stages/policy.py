"""Policy stage: pick the request's policy and apply its routing, persona and clamps.

Reads: ``ctx.body`` (``model``, ``messages``, ``max_tokens`` / ``max_completion_tokens``,
``temperature``, ``top_p``, ``tools``, ``tool_choice``), the policy store's current snapshot,
``ctx.facts["thread"]`` (earlier turns an upstream keeps: the disclosure is for the first turn only).
Writes: ``ctx.policy`` (the frozen snapshot, kept for the whole request), ``ctx.body`` (model,
persona system message, clamped parameters, allowed tools), ``ctx.facts["route"]``,
``x-bedside-policy`` / ``x-bedside-policy-version`` headers, ``x-bedside-clamps`` (the clamps that
changed the request, e.g. ``tools_removed=1``: see :mod:`proxy.pipeline.summary`), decision ``policy``.
Short-circuits: ``ModelNotFound`` (404, listing the models that exist) when no policy serves the
model; ``PolicyRefusal`` (400, the policy's ``policy_violation`` text) for a refused client system
message, a disallowed tool under ``on_disallowed_tool: refuse``, or input over the clamps; and
400 ``tool_choice_not_allowed`` (a message for the developer naming the policy and its allowed
tools) when ``tool_choice`` forces a tool the policy does not allow, since removing it would turn
a forced tool call into plain text.
The persona's ``forbidden_phrases`` are enforced on the reply by the output rails stage (one
mechanism: the ``forbidden_phrases`` rail, or ``block`` when the policy declares none).

In ``shadow`` mode every decision is computed and recorded, and nothing is changed except routing
(an alias must still reach a real model). See docs/policies.md.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from proxy.errors import ModelNotFound, PolicyRefusal
from proxy.marks import BEDSIDE_MARK, PERSONA_MARK
from proxy.metrics import Metrics
from proxy.pipeline.completion import Completion
from proxy.pipeline.context import RequestContext
from proxy.pipeline.stage import Next
from proxy.pipeline.summary import CLAMPS_HEADER, summary_value
from proxy.policy import PolicyStore, ResolvedPolicy

#: marks Bedside's own system messages so later stages (and people reading traces) recognise them
_SYSTEM_ROLES = ("system", "developer")
#: the changes that come from the ``clamps`` section (reported in ``x-bedside-clamps``)
_CLAMP_CHANGES = ("tools_removed", "tool_choice_removed", "max_tokens", "max_completion_tokens", "temperature", "top_p")
#: a tool name echoed in an error message only in this shape (OpenAI's own rule for function names)
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the policy refuses a request: a machine code and, for developer mistakes, the message
    (``None``: the policy's own ``policy_violation`` microcopy, written for end users)."""

    code: str
    message: str | None = None
    param: str | None = None


class PolicyStage:
    name: ClassVar[str] = "policy"
    #: the stages inside this one are composed per policy (proxy.pipeline.stage.Pipeline)
    selects_policy: ClassVar[bool] = True

    def __init__(self, store: PolicyStore, metrics: Metrics) -> None:
        self._store = store
        self._metrics = metrics

    async def __call__(self, ctx: RequestContext, call_next: Next) -> Completion:
        snapshot = self._store.current  # one read: this request keeps this snapshot to the end
        requested = ctx.model
        policy = snapshot.resolve(requested, ctx.tenant)
        if policy is None:
            names = ", ".join(snapshot.model_ids(ctx.tenant)) or "(none)"
            raise ModelNotFound(
                f"There is no model '{requested}' here. You can use: {names}. GET /v1/models lists them too.",
                param="model",
            )
        ctx.policy = policy
        ctx.response_headers["x-bedside-policy"] = policy.name
        ctx.response_headers["x-bedside-policy-version"] = policy.version_header
        shadow = policy.mode == "shadow"
        self._metrics.child(self._metrics.policy_requests, policy.name, policy.mode).inc()

        # routing applies in both modes: an alias must reach a real model
        ctx.body["model"] = policy.routing.target_model(requested)
        if policy.routing.upstream:
            ctx.facts["route"] = policy.routing.upstream

        changes: list[str] = []
        if ctx.endpoint == "chat":
            shaped = copy.deepcopy(ctx.body) if shadow else ctx.body
            history = ctx.facts.get("thread")  # earlier turns an upstream keeps: not the first turn
            refusal = apply_policy(policy, shaped, changes, earlier_turns=history is not None and history.user_turns > 0)
            if refusal is not None and not shadow:
                ctx.decide(self.name, name=policy.name, version=policy.version_header, mode=policy.mode, changes=changes, refused=refusal.code)
                message = refusal.message or policy.microcopy.render("policy_violation", policy.persona.language, reference=ctx.request_id)
                raise PolicyRefusal(message, code=refusal.code, param=refusal.param)
            if refusal is not None:
                changes.append(f"would_refuse:{refusal.code}")
            ctx.response_headers[CLAMPS_HEADER] = clamps_header(changes, shadow=shadow)
        ctx.decide(self.name, name=policy.name, version=policy.version_header, mode=policy.mode, changes=changes, shadow=shadow)

        return await call_next(ctx)


def clamps_header(changes: list[str], *, shadow: bool) -> str:
    """The ``x-bedside-clamps`` value: the clamp changes among ``changes`` (``tools_removed:1`` ->
    ``tools_removed=1``), ``none`` when no clamp changed anything."""
    found = [c.replace(":", "=", 1) for c in changes if c.split(":", 1)[0].startswith(_CLAMP_CHANGES)]
    return summary_value(found, shadow=shadow)


def apply_policy(policy: ResolvedPolicy, body: dict[str, Any], changes: list[str], *, earlier_turns: bool = False) -> Refusal | None:
    """Shape ``body`` in place by the policy; returns the refusal instead when it must refuse.
    ``earlier_turns``: the conversation has turns the client did not resend (an upstream keeps them)."""
    messages: list[dict[str, Any]] = body["messages"]
    persona = policy.persona
    clamps = policy.clamps

    client_system = [i for i, m in enumerate(messages) if m.get("role") in _SYSTEM_ROLES and not _is_ours(m)]
    if client_system and persona.client_system == "refuse":
        return Refusal("client_system_not_allowed")
    if clamps.max_messages is not None and len(messages) > clamps.max_messages:
        return Refusal("too_many_messages")
    if clamps.max_input_chars is not None and _chars(messages) > clamps.max_input_chars:
        return Refusal("input_too_long")

    if clamps.allowed_tools is not None:
        refusal = _clamp_tools(policy, body, changes)
        if refusal is not None:
            return refusal

    drop_client = persona.client_system == "ignore" or (persona.placement == "replace" and persona.system_prompt is not None)
    if drop_client and client_system:
        body["messages"] = messages = [m for i, m in enumerate(messages) if i not in set(client_system)]
        changes.append(f"client_system_dropped:{len(client_system)}")
        client_system = []

    text = persona_text(policy, first_turn=not earlier_turns and not any(m.get("role") == "assistant" for m in messages))
    if text is not None:
        persona_msg = {"role": "system", "content": text}
        if persona.placement == "append" and client_system:
            messages.insert(client_system[-1] + 1, persona_msg)
        else:
            messages.insert(0, persona_msg)
        changes.append(f"persona_{persona.placement}")

    _clamp_tokens(policy, body, changes)
    for field in ("temperature", "top_p"):
        rng = getattr(clamps, field)
        if rng is None:
            continue
        value = body.get(field)
        new = rng.apply(value)
        if new is not None and new != value:
            body[field] = new
            changes.append(f"{field}_{'set' if value is None else 'clamped'}")
    return None


def _clamp_tools(policy: ResolvedPolicy, body: dict[str, Any], changes: list[str]) -> Refusal | None:
    """Keep only the allowed tools (or refuse, by ``on_disallowed_tool``). A ``tool_choice`` that
    forces a tool the policy does not allow is refused whatever ``on_disallowed_tool`` says:
    removing the tool would silently turn the forced call into a plain text reply."""
    clamps = policy.clamps
    tools = body.get("tools")
    tools = tools if isinstance(tools, list) else []
    kept = [t for t in tools if clamps.tool_allowed(_tool_name(t))]
    choice = body.get("tool_choice")
    forced = _forced_tool(choice)
    if (forced is not None and not clamps.tool_allowed(forced)) or (choice == "required" and tools and not kept):
        return Refusal("tool_choice_not_allowed", _tool_choice_message(policy, forced), param="tool_choice")
    if len(kept) == len(tools):
        return None
    if clamps.on_disallowed_tool == "refuse":
        return Refusal("tool_not_allowed")
    changes.append(f"tools_removed:{len(tools) - len(kept)}")
    if kept:
        body["tools"] = kept
    else:
        body.pop("tools", None)
        body.pop("parallel_tool_calls", None)
        if "tool_choice" in body:  # "auto" or "none" about tools that are all gone
            body.pop("tool_choice")
            changes.append("tool_choice_removed")
    return None


def _forced_tool(choice: Any) -> str | None:
    """The tool a ``tool_choice`` names (``{"type": "function", "function": {"name": ...}}``, or a
    custom tool), else ``None`` (``auto``, ``none``, ``required``)."""
    if not isinstance(choice, dict):
        return None
    for key in ("function", "custom"):
        named = choice.get(key)
        if isinstance(named, dict) and isinstance(named.get("name"), str):
            return str(named["name"])
    return None


def _tool_choice_message(policy: ResolvedPolicy, forced: str | None) -> str:
    allowed = policy.clamps.allowed_tools or []
    which = f"the tool '{forced}'" if forced is not None and _TOOL_NAME.match(forced) else "that tool" if forced is not None else "a tool"
    what_next = (
        f"Its allowed tools are: {', '.join(allowed)}. Force one of them, or send tool_choice 'auto'."
        if allowed
        else "It allows no tools at all: leave tools and tool_choice out of the request."
    )
    return f"tool_choice forces {which}, but the policy '{policy.name}' does not allow it (clamps.allowed_tools), so the model could not call it. {what_next}"


def persona_text(policy: ResolvedPolicy, *, first_turn: bool) -> str | None:
    """The persona system message: prompt, style guidelines, language and disclosure."""
    persona = policy.persona
    parts: list[str] = []
    if persona.system_prompt:
        parts.append(persona.system_prompt.strip())
    if persona.style:
        parts.append("Style:\n" + "\n".join(f"- {s}" for s in persona.style))
    if persona.language and not persona.language.lower().startswith("en"):
        parts.append(f"Reply in the language with the tag '{persona.language}' unless the user writes in another language.")
    disclosure = persona.disclosure
    if disclosure is not None and (disclosure.when == "every_turn" or (disclosure.when == "first_turn" and first_turn)):
        from proxy.policy import render_template

        said = render_template(disclosure.text, policy.microcopy.variables(None))
        parts.append(f'Begin your reply with this disclosure, word for word: "{said}"')
    if not parts:
        return None
    return f"{PERSONA_MARK}\n" + "\n\n".join(parts)


def _clamp_tokens(policy: ResolvedPolicy, body: dict[str, Any], changes: list[str]) -> None:
    clamps = policy.clamps
    if clamps.max_tokens is None:
        return
    present = [f for f in ("max_completion_tokens", "max_tokens") if isinstance(body.get(f), int)]
    if not present:
        body["max_tokens"] = clamps.max_tokens
        changes.append("max_tokens_set")
        return
    for field in present:
        limited = clamps.token_limit(body[field])
        if limited != body[field]:
            body[field] = limited
            changes.append(f"{field}_clamped")


def _is_ours(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return isinstance(content, str) and content.startswith(BEDSIDE_MARK)


def _tool_name(tool: Any) -> str:
    if isinstance(tool, dict):
        fn = tool.get("function")
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            return str(fn["name"])
        if isinstance(tool.get("name"), str):
            return str(tool["name"])
    return ""


def _chars(messages: list[dict[str, Any]]) -> int:
    total = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(p.get("text", "")) for p in content if isinstance(p, dict))
    return total

"""The ``rails`` section: input and output checks, and what happens when one fails.

Input checks run before the upstream; output checks run on the reply through the hold-back window
(streaming included). Actions: `block` (the policy's refusal text, never a bare error), `fix`
(rewrite the offending span; output only), `reask` (one more upstream call with the correction;
non-streaming output only), `handoff` (the policy's handoff text, and a handoff event with the
conversation's redacted context POSTed to `handoff.webhook_url`), `log` (record only).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from proxy.policy.sections.base import NonEmptyStr, StrictModel

RailAction = Literal["block", "fix", "reask", "handoff", "log"]
InputCheck = Literal["jailbreak", "crisis", "denied_topics", "max_length", "language"]
OutputCheck = Literal["forbidden_phrases", "system_prompt_leak", "required_disclosure", "pii_leak", "over_empathy"]


class TopicRule(StrictModel):
    """A topic the assistant must not engage with: a built-in name or keywords of the operator's."""

    name: NonEmptyStr = Field(description="A built-in topic (`medical_diagnosis`, `legal_advice`, `financial_advice`) or a name of your own.")
    keywords: list[NonEmptyStr] = Field(default_factory=list, description="Words or phrases that signal the topic (for your own topics).")
    exceptions: list[NonEmptyStr] = Field(default_factory=list, description="Phrases that make a match harmless.")


class InputRail(StrictModel):
    check: InputCheck = Field(description="Which check.")
    action: RailAction = Field(default="block", description="What happens when it fails.")
    threshold: float | None = Field(default=None, ge=0, le=1, description="Detector threshold (jailbreak), default the detector's own.")
    topics: list[TopicRule] = Field(default_factory=list, description="For `denied_topics`: the topics.")
    max_chars: int | None = Field(default=None, gt=0, description="For `max_length`: the longest user message.")
    languages: list[NonEmptyStr] = Field(default_factory=list, description="For `language`: allowed language tags, e.g. `[en, es]`.")
    sources: list[Literal["user", "tool", "document"]] = Field(default_factory=lambda: ["user", "tool"], description="Which texts are checked: user turns, tool results, retrieved documents.")


class OutputRail(StrictModel):
    check: OutputCheck = Field(description="Which check.")
    action: RailAction = Field(default="block", description="What happens when it fails.")
    phrases: list[NonEmptyStr] = Field(default_factory=list, description="For `forbidden_phrases`: extra phrases beyond `persona.forbidden_phrases`.")
    max_apologies: int = Field(default=1, ge=0, description="For `over_empathy`: apologies and stock empathy phrases allowed per reply.")


class Handoff(StrictModel):
    """Where handoff events go, so the person does not have to repeat themselves."""

    webhook_url: NonEmptyStr | None = Field(default=None, description="URL that receives the handoff event (POST, JSON, redacted context).")
    secret_env: NonEmptyStr | None = Field(default=None, description="Environment variable holding the HMAC secret that signs each event (`X-Bedside-Signature`).")
    retries: int = Field(default=3, ge=0, le=10, description="Retries on failure, with exponential back-off.")
    timeout_seconds: float = Field(default=5.0, gt=0, description="Timeout of one delivery attempt.")
    context_turns: int = Field(default=10, ge=1, description="How many recent turns the event carries (redacted).")


class Rails(StrictModel):
    """Input and output checks."""

    input: list[InputRail] = Field(default_factory=list, description="Checks on the request, in order.")
    output: list[OutputRail] = Field(default_factory=list, description="Checks on the reply, in order.")
    handoff: Handoff = Field(default_factory=Handoff, description="Human handoff delivery.")

"""The policy schema: one :class:`Policy` per YAML file, built from one model per section.

Adding a section (``tone``, ``pii``, ...) is a module under :mod:`proxy.policy.sections` plus one
field line in :class:`Policy`; the loader, merge, docs and JSON Schema pick it up from the model.
A section may define ``findings() -> list[Finding]`` for cross-field checks after validation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field

from proxy.policy.microcopy import template_variables
from proxy.policy.sections import (
    Clamps,
    Finding,
    Microcopy,
    Persona,
    Routing,
    StrictModel,
)
from proxy.policy.sections.audit import Audit
from proxy.policy.sections.base import NonEmptyStr, Slug
from proxy.policy.sections.memory import Memory
from proxy.policy.sections.outcomes import Outcomes
from proxy.policy.sections.pii import Pii
from proxy.policy.sections.rails import Rails
from proxy.policy.sections.tone import EmotionSection, Tone
from proxy.policy.sections.transcripts import Transcripts


def _label(value: Any) -> Any:
    """Accept ``version: 1.2`` or ``version: 2024-05-01`` as the label text."""
    return str(value) if isinstance(value, int | float) or hasattr(value, "isoformat") else value


class Policy(StrictModel):
    """One policy: identity, mode, and one field per section."""

    name: Slug = Field(
        description="The policy's name, a lowercase slug. Defaults to the file name without `.yaml`; "
        "if set it must equal it. A leading `_` marks an abstract policy that can only be extended."
    )
    description: NonEmptyStr = Field(description="What the policy is for, in one or two sentences. Not inherited.")
    owner: NonEmptyStr = Field(description="Who to ask about this policy: a team, person or e-mail.")
    extends: Slug | None = Field(default=None, description="Name of the policy this one builds on.")
    version: Annotated[str, BeforeValidator(_label)] | None = Field(
        default=None,
        description="An optional label for humans, e.g. `2024-06`. Not inherited.",
    )
    mode: Literal["enforce", "shadow"] = Field(
        default="enforce",
        description="`enforce` applies the policy; `shadow` evaluates it and records what would have happened, changing nothing.",
    )
    routing: Routing = Field(default_factory=Routing, description="Model names and upstream.")
    persona: Persona = Field(default_factory=Persona, description="Who the assistant is.")
    clamps: Clamps = Field(default_factory=Clamps, description="Limits on request parameters and tools.")
    microcopy: Microcopy = Field(default_factory=Microcopy, description="Texts people see.")
    emotion: EmotionSection = Field(default_factory=EmotionSection, description="Emotion detection.")
    tone: Tone = Field(default_factory=Tone, description="Tone rules injected for the model.")
    pii: Pii = Field(default_factory=Pii, description="Personal data redaction and restoration.")
    rails: Rails = Field(default_factory=Rails, description="Input and output checks, and human handoff.")
    memory: Memory = Field(default_factory=Memory, description="Opt-in memory across conversations.")
    transcripts: Transcripts = Field(default_factory=Transcripts, description="How long recorded conversations are kept.")
    outcomes: Outcomes = Field(default_factory=Outcomes, description="Outcome facts (no text) for the KPIs, and how long they are kept.")
    audit: Audit = Field(default_factory=Audit, description="What a request does when the audit log cannot record it.")

    @classmethod
    def section_names(cls) -> list[str]:
        """The fields of :class:`Policy` that are sections (models), in declaration order."""
        return [name for name, field in cls.model_fields.items() if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)]

    def findings(self) -> list[Finding]:
        """Cross-field problems in the validated policy, with paths from the policy root."""
        out: list[Finding] = []
        for section in self.section_names():
            check = getattr(getattr(self, section), "findings", None)
            if callable(check):
                out.extend(Finding((section, *f.loc), f.message, f.hint) for f in check())
        disclosure = self.persona.disclosure
        if disclosure and self.microcopy.support_url is None and "support_url" in template_variables(disclosure.text):
            out.append(
                Finding(
                    ("persona", "disclosure", "text"),
                    "uses {support_url} but microcopy.support_url is not set",
                )
            )
        return out

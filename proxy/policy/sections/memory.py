"""The ``memory`` section: opt-in memory across conversations (see docs/privacy.md, "Memory").

Memory works only when the policy enables it, the user granted the ``memory`` purpose (consent
API), the conversation's sensitivity is ``standard`` and PII redaction is on in enforce mode (the
remembered values reach the model only as this request's placeholders).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from proxy.policy.sections.base import StrictModel

MemoryKind = Literal["preference", "fact", "identifier"]
Sensitivity = Literal["standard", "sensitive", "no-store"]
ALL_KINDS: tuple[MemoryKind, ...] = ("preference", "fact", "identifier")


class Memory(StrictModel):
    enabled: bool = Field(default=False, description="Remember what users say about themselves across conversations (only for users who granted `memory`).")
    extractor: Literal["rules"] = Field(default="rules", description="How facts are found in the user's turn: `rules` (offline, self-stated facts and preferences only).")
    token_budget: int = Field(default=300, ge=20, le=4000, description="Most tokens (about words x 1.3) of memories injected into one request.")
    retention_days: int = Field(default=180, ge=1, le=3650, description="Memories not updated for this many days are no longer used.")
    remember: list[MemoryKind] = Field(
        default_factory=lambda: list(ALL_KINDS),
        description="What kinds are remembered: `preference` (I prefer e-mail), `fact` (I'm vegetarian), `identifier` (my order number is ...).",
    )
    default_sensitivity: Sensitivity = Field(
        default="standard",
        description="Sensitivity of a conversation that does not say (`X-Bedside-Sensitivity` or `metadata.bedside_sensitivity`): "
        "`standard` (memory allowed), `sensitive` (no memory), `no-store` (nothing kept).",
    )

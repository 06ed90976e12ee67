"""The ``memory`` section: opt-in memory across conversations (see docs/privacy.md, "Memory").

Memory works only when the policy enables it, the user granted the ``memory`` purpose (consent
API), the conversation's sensitivity is ``standard`` and PII redaction is on in enforce mode (the
remembered values reach the model only as this request's placeholders).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from proxy.policy.sections.base import ModelName, NonEmptyStr, StrictModel

MemoryKind = Literal["preference", "fact", "identifier"]
Sensitivity = Literal["standard", "sensitive", "no-store"]
ALL_KINDS: tuple[MemoryKind, ...] = ("preference", "fact", "identifier")


class MemoryLlm(StrictModel):
    """The model-based extractor (`memory.extractor: llm`): after an exchange that ended normally, a
    model reads the user's redacted turn and their existing memories and answers with `add`,
    `update` and `forget` operations, which Bedside validates before storing anything."""

    model: ModelName = Field(description="The model that reads each exchange (sent to the upstream as is, e.g. `gpt-4o-mini`).")
    upstream: NonEmptyStr | None = Field(
        default=None,
        description="Name of a configured upstream; `null`: the policy's (`routing.upstream`), else the upstream serving `model`.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Longest wait for the extractor model; past it nothing is stored.")
    prompt: NonEmptyStr | None = Field(
        default=None,
        description="Instructions for the extractor model; `null`: Bedside's packaged prompt (`memory-extract-v1`). "
        "The prompt's version and SHA-256 prefix are recorded in the memory decision and the logs.",
    )
    max_memories: int = Field(default=50, ge=0, le=200, description="Most existing memories shown to the extractor model (the most relevant to the turn).")


class Memory(StrictModel):
    enabled: bool = Field(default=False, description="Remember what users say about themselves across conversations (only for users who granted `memory`).")
    extractor: Literal["rules", "llm"] = Field(
        default="rules",
        description="How facts are found in the user's turn: `rules` (offline, self-stated facts and preferences only) "
        "or `llm` (a model decides add / update / forget, configured in `memory.llm`; runs after the reply, never delaying it).",
    )
    llm: MemoryLlm | None = Field(default=None, description="The extractor model, for `extractor: llm`.")
    token_budget: int = Field(default=300, ge=20, le=4000, description="Most tokens (about words x 1.3) of memories injected into one request.")
    retention_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description="Memories not updated for this many days are no longer used; the retention purge deletes those older than the longest "
        "`retention_days` among the loaded policies that enable memory.",
    )
    remember: list[MemoryKind] = Field(
        default_factory=lambda: list(ALL_KINDS),
        description="What kinds are remembered: `preference` (I prefer e-mail), `fact` (I'm vegetarian), `identifier` (my order number is ...).",
    )
    default_sensitivity: Sensitivity = Field(
        default="standard",
        description="Sensitivity of a conversation that does not say (`X-Bedside-Sensitivity` or `metadata.bedside_sensitivity`): "
        "`standard` (memory allowed), `sensitive` (no memory), `no-store` (nothing kept).",
    )

    @model_validator(mode="after")
    def _llm_configured(self) -> Memory:
        if self.extractor == "llm" and self.llm is None:
            raise PydanticCustomError("memory_llm", "extractor 'llm' needs memory.llm with at least a model, e.g. llm: {model: gpt-4o-mini}", {})
        return self

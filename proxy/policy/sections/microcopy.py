"""The ``microcopy`` section: the short texts people see when something goes wrong or changes.

Texts are templates (see :mod:`proxy.policy.microcopy`) and are written to acknowledge the person:
"We're reviewing your request and will update you shortly", not "Still processing".
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from proxy.policy.errors import Loc
from proxy.policy.microcopy import render_template, template_variables
from proxy.policy.sections.base import (
    Finding,
    LanguageTag,
    NonEmptyStr,
    StrictModel,
    Template,
)

MessageKind = Literal[
    "refusal",
    "error",
    "timeout",
    "upstream_unavailable",
    "handoff",
    "rate_limited",
    "policy_violation",
]

#: Built-in English texts, used for every kind a policy does not set.
DEFAULT_TEXTS: dict[str, str] = {
    "refusal": "I'm sorry, I can't help with that here. If you think I've misunderstood, please tell me more and I'll do my best.",
    "error": "Something went wrong on our side, not yours. Please try again in a moment.",
    "timeout": "This is taking longer than it should. We're still on it; please try again in a moment.",
    "upstream_unavailable": "I can't reach the assistant service right now. Your message wasn't lost; please try again in a few minutes.",
    "handoff": "I'd like a person to help you with this. I'm passing your conversation on now.",
    "rate_limited": "You've sent a lot of messages in a short time. Please wait a moment and try again.",
    "policy_violation": "I can't take this request as it is. Could you rephrase it?",
}


class Messages(StrictModel):
    """The texts for one language. In `en` unset kinds use the built-in text; in other languages
    they fall back to `en`."""

    refusal: Template | None = Field(default=None, description="Shown when a request or reply is refused.")
    error: Template | None = Field(default=None, description="Shown for an unexpected internal error.")
    timeout: Template | None = Field(default=None, description="Shown when the upstream takes too long.")
    upstream_unavailable: Template | None = Field(default=None, description="Shown when the upstream model cannot be reached.")
    handoff: Template | None = Field(default=None, description="Shown when the conversation goes to a person.")
    rate_limited: Template | None = Field(default=None, description="Shown when the user is rate limited.")
    policy_violation: Template | None = Field(
        default=None,
        description="Shown when a request breaks this policy (e.g. a refused system message).",
    )


class Microcopy(StrictModel):
    """User-facing texts per language (`en` required) and the values their templates may use.

    Templates may use `{assistant_name}`, `{support_url}` (both set here) and `{reference}` (a
    request reference filled in at run time); any other `{field}`, attribute access or format spec is
    an error at load time. Write `{{` and `}}` for literal braces.
    """

    assistant_name: NonEmptyStr = Field(default="the assistant", description="Fills `{assistant_name}`, e.g. `Ava`.")
    support_url: NonEmptyStr | None = Field(default=None, description="Fills `{support_url}`; required when a text uses it.")
    texts: dict[LanguageTag, Messages] = Field(
        default_factory=lambda: {"en": Messages(**DEFAULT_TEXTS)},
        description="Texts per language tag; `en` is required and complete (unset kinds use built-in texts).",
    )

    @field_validator("texts")
    @classmethod
    def _english_complete(cls, value: dict[str, Messages]) -> dict[str, Messages]:
        if "en" not in value:
            raise PydanticCustomError(
                "missing_language",
                "missing required language 'en' (other languages fall back to it)",
                {},
            )
        en = value["en"]
        filled = {k: v for k, v in DEFAULT_TEXTS.items() if getattr(en, k) is None}
        return {**value, "en": en.model_copy(update=filled)} if filled else value

    def text(self, kind: MessageKind, language: str = "en") -> str:
        """The raw template for ``kind`` in ``language`` (exact tag, then primary subtag, then en)."""
        for tag in (language, language.split("-")[0], "en"):
            messages = self.texts.get(tag)
            value = getattr(messages, kind) if messages is not None else None
            if value is not None:
                return str(value)
        return DEFAULT_TEXTS[kind]

    def variables(self, reference: str | None = None) -> dict[str, str | None]:
        """The template variables: this section's values plus the run-time ``reference``."""
        return {
            "assistant_name": self.assistant_name,
            "support_url": self.support_url,
            "reference": reference,
        }

    def render(self, kind: MessageKind, language: str = "en", *, reference: str | None = None) -> str:
        """The text for ``kind`` in ``language``, filled in; never raises."""
        return render_template(self.text(kind, language), self.variables(reference))

    def findings(self) -> list[Finding]:
        """Cross-field problems: a text uses ``{support_url}`` but none is set."""
        out: list[Finding] = []
        if self.support_url is None:
            for tag, messages in self.texts.items():
                for kind in DEFAULT_TEXTS:
                    value = getattr(messages, kind)
                    if value is not None and "support_url" in template_variables(value):
                        loc: Loc = ("texts", tag, kind)
                        out.append(
                            Finding(
                                loc,
                                "uses {support_url} but microcopy.support_url is not set",
                            )
                        )
        return out

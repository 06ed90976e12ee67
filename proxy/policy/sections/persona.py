"""The ``persona`` section: who the assistant is and how it treats the client's system messages."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from proxy.policy.sections.base import LanguageTag, NonEmptyStr, StrictModel, Template

Placement = Literal["prepend", "append", "replace"]
ClientSystem = Literal["allow", "ignore", "refuse"]
DisclosureWhen = Literal["first_turn", "every_turn", "never"]


class Disclosure(StrictModel):
    """A sentence the assistant must say about itself, e.g. that it is an AI."""

    text: Template = Field(description="The disclosure, a template (`{assistant_name}`, `{support_url}`, `{reference}`).")
    when: DisclosureWhen = Field(
        default="first_turn",
        description="`first_turn`: at the start of a conversation (no earlier assistant message); "
        "`every_turn`: in every reply; `never`: keep the text but do not show it.",
    )


class Persona(StrictModel):
    """Who the assistant is: its system prompt, disclosure, language and style.

    The persona's `system_prompt` becomes a system message placed by `placement` relative to the
    client's own system (and `developer`) messages: `prepend` puts it before them, `append` after
    them, `replace` drops them and uses the persona alone.

    `client_system` says what happens to the client's system messages, whatever they say:
    `allow` keeps them (positioned per `placement`; with `replace` they are dropped anyway),
    `ignore` silently drops every client system message, `refuse` rejects a request that carries any
    client system message with the `policy_violation` microcopy.
    """

    system_prompt: NonEmptyStr | None = Field(default=None, description="The persona's system prompt; `null` adds none.")
    placement: Placement = Field(
        default="prepend",
        description="Where `system_prompt` goes relative to the client's system messages.",
    )
    client_system: ClientSystem = Field(
        default="allow",
        description="What to do with system messages sent by the client.",
    )
    disclosure: Disclosure | None = Field(default=None, description="What the assistant discloses about itself.")
    language: LanguageTag = Field(
        default="en",
        description="The language replies and microcopy use (BCP-47, e.g. `en`, `pt-BR`).",
    )
    style: list[NonEmptyStr] = Field(
        default_factory=list,
        description="Style guidelines added to the system prompt, one per item.",
    )
    forbidden_phrases: list[NonEmptyStr] = Field(
        default_factory=list,
        description="Phrases the reply must never contain (case-insensitive); checked on the output.",
    )

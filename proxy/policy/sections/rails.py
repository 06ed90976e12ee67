"""The ``rails`` section: input and output checks, and what happens when one fails.

Input checks run before the upstream; output checks run on the reply through the hold-back window
(streaming included). See docs/rails.md. Actions: `block` (the policy's refusal text, never a bare error), `fix`
(rewrite the offending span; output only), `reask` (one more upstream call with the correction;
non-streaming output only), `handoff` (the policy's handoff text, and a handoff event with the
conversation's redacted context POSTed to `handoff.webhook_url`), `log` (record only).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from proxy.policy.sections.base import Finding, NonEmptyStr, StrictModel

RailAction = Literal["block", "fix", "reask", "handoff", "log"]
Source = Literal["user", "tool", "document", "pasted"]
InputCheck = Literal["jailbreak", "crisis", "denied_topics", "max_length", "language", "harmful_request", "moderation"]
#: The offline harmful_request detector's categories, gravest first (proxy/detectors/harmful.py).
HarmModel = Literal["features", "encoder"]
HARM_CATEGORIES = ("weapons", "violence", "self_harm", "sexual", "cyber", "crime", "hate", "privacy", "misinformation")
OutputCheck = Literal["forbidden_phrases", "persona_drift", "system_prompt_leak", "required_disclosure", "pii_leak", "over_empathy"]


def _default_sources() -> list[Source]:
    return ["user", "tool", "pasted"]


class TopicRule(StrictModel):
    """A topic the assistant must not engage with: a built-in name or keywords of the operator's."""

    name: NonEmptyStr = Field(description="A built-in topic (`medical_diagnosis`, `legal_advice`, `financial_advice`) or a name of your own.")
    keywords: list[NonEmptyStr] = Field(default_factory=list, description="Words or phrases that signal the topic (for your own topics).")
    exceptions: list[NonEmptyStr] = Field(default_factory=list, description="Phrases that make a match harmless.")


class Moderation(StrictModel):
    """Where the `moderation` check sends the person's message, and what it does when that fails."""

    url: NonEmptyStr = Field(description="Base URL of an OpenAI-compatible API, e.g. `https://api.openai.com/v1` (`/moderations` or `/chat/completions` is appended).")
    style: Literal["moderations", "guard_chat"] = Field(
        default="moderations",
        description="`moderations`: the OpenAI moderation endpoint; `guard_chat`: a guard model (Llama Guard style) behind a chat API that answers `safe` or `unsafe` plus category codes.",
    )
    model: NonEmptyStr | None = Field(default=None, description="Model name sent with the request (e.g. `omni-moderation-latest`, `llama-guard-3-8b`).")
    api_key_env: NonEmptyStr | None = Field(default=None, description="Environment variable holding the API key (sent as a bearer token).")
    timeout_seconds: float = Field(default=2.0, gt=0, le=30, description="Longest wait for the verdict.")
    on_error: Literal["block", "pass"] = Field(
        default="block", description="What a timeout or a broken answer means: `block` (fail closed, the default) or `pass` (fail open, counted and logged)."
    )
    cache_size: int = Field(default=1024, ge=0, description="Verdicts kept by content hash (SHA-256 of the text), so a resent history is not judged twice.")


SpotlightSource = Literal["tool", "document", "pasted"]


def _spotlight_sources() -> list[SpotlightSource]:
    return ["tool", "pasted"]


class Spotlight(StrictModel):
    """Spotlighting: untrusted text (tool results, documents, pasted blocks) is marked before the model reads it."""

    enabled: bool = Field(default=False, description="Turn spotlighting on.")
    mode: Literal["delimit", "datamark", "encode"] = Field(
        default="datamark",
        description="`delimit`: wrap in random markers; `datamark`: also join its words with a marker character; `encode`: base64 inside the markers.",
    )
    sources: list[SpotlightSource] = Field(
        default_factory=_spotlight_sources,
        description=(
            "Which untrusted texts are marked: `tool` results, `pasted` blocks and parts marked `\"document\": true`, "
            "`document` (the client's own system messages: only when they carry retrieved text, never instructions)."
        ),
    )
    marker: NonEmptyStr = Field(default="\u02c6", description="The datamark character (default `ˆ`).")


class InputRail(StrictModel):
    check: InputCheck = Field(description="Which check.")
    action: RailAction = Field(default="block", description="What happens when it fails.")
    threshold: float | None = Field(default=None, ge=0, le=1, description="Detector threshold (jailbreak, harmful_request), default the detector's own.")
    model: HarmModel | None = Field(
        default=None,
        description="For `harmful_request`: which reader judges. `features` (the default): word features and a small model, "
        "~0.4 ms. `encoder`: the all-MiniLM-L6-v2 sentence encoder with a trained head, tens of ms per message (run off "
        "the event loop); needs the `contextual` extra and the encoder wheel, and a policy naming it where they are not "
        "installed is rejected at load with the install commands.",
    )
    topics: list[TopicRule] = Field(default_factory=list, description="For `denied_topics`: the topics.")
    max_chars: int | None = Field(default=None, gt=0, description="For `max_length`: the longest user message.")
    languages: list[NonEmptyStr] = Field(default_factory=list, description="For `language`: allowed language tags, e.g. `[en, es]`.")
    sources: list[Source] = Field(
        default_factory=_default_sources,
        description=(
            "Which texts are checked: `user` (the latest user message), `tool` (tool results), `document` (the client's own system "
            "messages, where retrieval apps put documents), `pasted` (untrusted text inside a message: blocks pasted into the latest "
            "user message, such as quotes, fenced blocks, blocks in a tag such as <email>...</email>, e-mails, everything after "
            "a lead-in like 'summarise this:', or a text before a last line that asks about it, and content parts marked "
            "`\"document\": true`). Checks that judge the person's own words read `user` only."
        ),
    )
    categories: dict[NonEmptyStr, RailAction] = Field(
        default_factory=dict,
        description="For `harmful_request` and `moderation`: the action per category (others pass). Empty: every category takes `action`. "
        "harmful_request categories: weapons, violence, self_harm, sexual, cyber, crime, hate, privacy, misinformation.",
    )
    moderation: Moderation | None = Field(default=None, description="For `moderation`: the endpoint and its failure mode.")


class OutputRail(StrictModel):
    check: OutputCheck = Field(description="Which check.")
    action: RailAction = Field(default="block", description="What happens when it fails.")
    phrases: list[NonEmptyStr] = Field(
        default_factory=list,
        description="For `forbidden_phrases`: extra phrases beyond `persona.forbidden_phrases`; for `persona_drift` and `system_prompt_leak`: extra phrases beyond the built-in ones.",
    )
    max_apologies: int = Field(default=1, ge=0, description="For `over_empathy`: apologies and stock empathy phrases allowed per reply.")


class Handoff(StrictModel):
    """Where handoff events go, so the person does not have to repeat themselves."""

    webhook_url: NonEmptyStr | None = Field(default=None, description="URL that receives the handoff event (POST, JSON, redacted context).")
    secret_env: NonEmptyStr | None = Field(default=None, description="Environment variable holding the HMAC secret that signs each event (`X-Bedside-Signature`).")
    retries: int = Field(default=3, ge=0, le=10, description="Retries on failure, with exponential back-off.")
    timeout_seconds: float = Field(default=5.0, gt=0, description="Timeout of one delivery attempt.")
    context_turns: int = Field(default=10, ge=1, description="How many recent turns the event carries (redacted).")


class Rails(StrictModel):
    """Input and output checks.

    Input checks: `jailbreak` (prompt injection, also in tool results, documents and blocks pasted
    into a user message, per `sources`), `harmful_request` (offline: help to do serious harm, with
    an action per category; `model: encoder` reads it with a sentence encoder), `moderation` (an OpenAI-compatible moderation endpoint or guard
    model), `crisis` (self-harm, abuse, medical emergency: usually `handoff`), `denied_topics`,
    `max_length`, `language`. Output checks: `forbidden_phrases`, `persona_drift` ("as an AI
    language model"), `system_prompt_leak`, `required_disclosure` (the persona's disclosure),
    `pii_leak` (structured personal data the model wrote), `over_empathy` (stock apologies beyond
    `max_apologies`). On input, `fix` applies to `max_length` only (the message is shortened) and
    `reask` is not allowed; on a streamed reply `reask` acts as `block`.
    """

    input: list[InputRail] = Field(default_factory=list, description="Checks on the request, in order.")
    output: list[OutputRail] = Field(default_factory=list, description="Checks on the reply, in order.")
    handoff: Handoff = Field(default_factory=Handoff, description="Human handoff delivery.")
    spotlight: Spotlight = Field(default_factory=Spotlight, description="Mark untrusted text before the model reads it (works without detection).")

    def findings(self) -> list[Finding]:
        """Rails that cannot work as written: missing parameters, actions a check cannot take."""
        out: list[Finding] = []
        for i, rail in enumerate(self.input):
            if rail.action == "reask":
                out.append(Finding(("input", i, "action"), "`reask` only applies to output rails", "use `block`, `handoff` or `log`"))
            if rail.action == "fix" and rail.check != "max_length":
                out.append(Finding(("input", i, "action"), f"`fix` cannot rewrite a `{rail.check}` failure", "only `max_length` can be fixed on input"))
            if rail.check == "max_length" and rail.max_chars is None:
                out.append(Finding(("input", i, "max_chars"), "`max_length` needs `max_chars`"))
            if rail.check == "moderation" and rail.moderation is None:
                out.append(Finding(("input", i, "moderation"), "`moderation` needs `moderation: {url: ...}`", "name an OpenAI-compatible base URL"))
            if rail.check == "harmful_request":
                for name in rail.categories:
                    if name not in HARM_CATEGORIES:
                        out.append(Finding(("input", i, "categories", name), f"unknown harm category '{name}'", f"categories: {', '.join(HARM_CATEGORIES)}"))
            if rail.model is not None and rail.check != "harmful_request":
                out.append(Finding(("input", i, "model"), f"`model` does not apply to `{rail.check}`", "only `harmful_request` has a choice of reader"))
            if rail.categories and rail.check not in ("harmful_request", "moderation"):
                out.append(Finding(("input", i, "categories"), f"`categories` does not apply to `{rail.check}`"))
            if rail.check == "denied_topics" and not rail.topics:
                out.append(Finding(("input", i, "topics"), "`denied_topics` needs at least one topic"))
            for j, topic in enumerate(rail.topics):
                if topic.name not in BUILTIN_TOPIC_NAMES and not topic.keywords:
                    out.append(
                        Finding(
                            ("input", i, "topics", j, "keywords"),
                            f"topic '{topic.name}' is not built in and has no keywords",
                            f"built-in topics: {', '.join(BUILTIN_TOPIC_NAMES)}",
                        )
                    )
        return out


#: Topics that need no keywords (see docs/rails-detectors.md).
BUILTIN_TOPIC_NAMES = ("medical_diagnosis", "legal_advice", "financial_advice")

"""``RequestContext``: everything one request carries through the stages.

The context is created by the route, handed to the outermost stage, and read and written by the
stages in order. It is the only per-request state: stages themselves hold none.

What each stage may write is documented on the stage; the fields are grouped here by who fills
them. Nothing in here is ever logged whole: the request-log line picks safe fields by name.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

if TYPE_CHECKING:  # types only: the pipeline runs whatever the stages put here
    from proxy.detectors.emotion_conversation import ConversationEmotion, PriorTurns
    from proxy.detectors.pii import PiiSpan
    from proxy.pipeline.completion import Completion
    from proxy.pipeline.early import EarlyWork
    from proxy.policy.policy_set import ResolvedPolicy
    from proxy.privacy.pseudonyms import PseudonymVault

Endpoint = Literal["chat", "embeddings"]
Sensitivity = Literal["standard", "sensitive", "no-store"]


class ConsentFact(TypedDict):
    """What the consent stage found: the purposes the user granted now, and the conversation's sensitivity."""

    #: purposes granted (``memory``, ``transcripts``); empty without a user id or when the ledger failed
    granted: frozenset[str]
    sensitivity: Sensitivity


@dataclass(slots=True)
class ThreadRef:
    """A conversation whose history the upstream keeps, so the client does not resend it (the
    Responses API's ``previous_response_id`` and ``conversation``). Set by the route; the thread
    stage (:mod:`proxy.stages.thread`) keeps Bedside's side of it: the pseudonyms and emotion
    readings of the turns the upstream holds, per reply id, encrypted, for one tenant and user."""

    #: ``response``: continue after a stored reply; ``conversation``: a conversation object the upstream keeps
    kind: Literal["response", "conversation"] = "response"
    #: the reply or conversation id the client continues (None: the first turn of a new thread)
    continues: str | None = None
    #: whether the upstream keeps this request's reply (the client did not send ``store: false``)
    keep: bool = True
    #: set by the thread stage: the id the upstream continues from (differs from ``continues``
    #: after a reply Bedside wrote itself, which the upstream never saw)
    resume_from: str | None = None


@dataclass(frozen=True, slots=True)
class ThreadHistory:
    """What Bedside kept of the earlier turns of a thread (the thread stage's fact)."""

    #: the placeholders the upstream-held history uses, and the values behind them
    vault: PseudonymVault | None
    #: the emotion readings of the earlier user turns (for the trend)
    emotion: PriorTurns | None
    #: how many user turns the upstream holds
    user_turns: int = 0


class UpstreamCall(Protocol):
    """How a request reaches the upstream when the client spoke another API than chat completions
    (set by the route; the forward stage calls it instead of ``upstream.chat``). It reads
    ``ctx.body`` as the stages left it, and ``ctx.thread``."""

    def __call__(self, upstream: Any, ctx: RequestContext) -> Awaitable[Completion]: ...


class Facts(TypedDict, total=False):
    """Results a stage leaves for the stages after it. Every key is optional: a stage that did not
    run (or found nothing) leaves its key out, so readers use ``facts.get(key)``."""

    #: the emotion stage: readings of the user turns, the current emotion and its trend
    emotion: ConversationEmotion
    #: the policy stage: the upstream the policy routes to (``routing.upstream``), read by forward
    route: str | None
    #: the consent stage: granted purposes and sensitivity (absent: nothing granted)
    consent: ConsentFact
    #: the PII stage (enforce mode): this request's pseudonym vault, so later stages can redact
    #: what they add (memories) with this request's placeholders, which the reply is restored from
    pii_vault: PseudonymVault
    #: the thread stage: the pseudonyms and emotion readings of the turns an upstream keeps
    #: (the PII stage numbers on from that vault, the emotion stage reads the trend on)
    thread: ThreadHistory
    #: the PII analysis of this request's texts, started by the emotion stage before its own model
    #: read so both run at once; the PII stage takes it (spans per analysed text), else it is discarded
    pii_analysis: EarlyWork[dict[str, tuple[PiiSpan, ...]]]


@dataclass(slots=True)
class RequestContext:
    # ---- filled by the route ---------------------------------------------------------------
    request_id: str
    endpoint: Endpoint
    #: the decoded request body; stages edit it in place before it is forwarded
    body: dict[str, Any]
    #: request headers, lower-cased names
    headers: dict[str, str]
    started: float = field(default_factory=time.perf_counter)
    #: the conversation the upstream keeps (Responses API), or None for self-contained requests
    thread: ThreadRef | None = None
    #: the upstream call for a request that came in on another API (Responses), or None (chat)
    upstream_call: UpstreamCall | None = None

    # ---- identity stage --------------------------------------------------------------------
    tenant: str = "open"
    #: the end user, from `user` / `safety_identifier` / `X-Bedside-User` (None when not sent)
    user_id: str | None = None
    #: "header" when the client named the conversation, "derived" when Bedside derived it
    conversation_source: str | None = None
    _conversation_id: str | None = None
    #: computes the derived id on first use (most requests never need it): set by identity
    _conversation_derive: Callable[[], str | None] | None = None

    # ---- policy stage ----------------------------------------------------------------------
    #: the frozen policy snapshot for this request, read-only (None before the policy stage, or
    #: when policies are off)
    policy: ResolvedPolicy | None = None
    #: the model name the client asked for
    requested_model: str | None = None

    # ---- forward stage ---------------------------------------------------------------------
    upstream_name: str | None = None
    upstream_status: int | None = None

    # ---- everyone --------------------------------------------------------------------------
    #: response headers stages add (e.g. x-bedside-policy)
    response_headers: dict[str, str] = field(default_factory=dict)
    #: decisions for the audit stage: stage name -> small dict of machine values, never content
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: request-phase seconds spent in each stage (excluding the stages inside it)
    timings: dict[str, float] = field(default_factory=dict)
    #: results later stages read, keyed by what they are (see :class:`Facts`)
    facts: Facts = field(default_factory=lambda: Facts())

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream")) if self.endpoint == "chat" else False

    @property
    def model(self) -> str:
        value = self.body.get("model")
        return value if isinstance(value, str) else ""

    @property
    def conversation_id(self) -> str | None:
        """The conversation: ``X-Bedside-Conversation``, else derived (lazily) by the identity stage."""
        if self._conversation_id is None and self._conversation_derive is not None:
            self._conversation_id = self._conversation_derive()
            self._conversation_derive = None
        return self._conversation_id

    @conversation_id.setter
    def conversation_id(self, value: str | None) -> None:
        self._conversation_id = value
        self._conversation_derive = None

    def require_policy(self) -> ResolvedPolicy:
        """The request's policy, for stages inside the policy stage (which always sets it)."""
        if self.policy is None:
            raise RuntimeError("the policy stage must run before this stage")
        return self.policy

    def decide(self, stage: str, **values: Any) -> None:
        """Record a decision for the audit log (machine values only: names, counts, verdicts)."""
        self.decisions.setdefault(stage, {}).update(values)

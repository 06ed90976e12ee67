"""The processing facts GDPR Art. 15(1) asks for, as they hold for one tenant's user right now.

Built from the deployment itself, not from prose kept beside it: the purposes are the consent
purposes (with this user's decisions) plus the service itself; the recipients are the upstream
model servers the tenant's policies route to (their host, from ``routing.upstream`` or the
upstreams' model patterns) and the handoff webhooks those policies name; retention comes from the
policies' ``memory.retention_days`` and ``transcripts.retention_days`` and the deployment's
``privacy.transcript_retention_days``. The export (:mod:`proxy.privacy.export`) writes them first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from proxy.policy.schema import Policy
from proxy.privacy.export_document import CategoryFact, ProcessingFacts, PurposeFact, RecipientFact, RetentionFact
from proxy.settings import UpstreamSettings


@dataclass(frozen=True, slots=True)
class UpstreamInfo:
    """What the facts need of one upstream: its name, host (None: the in-process demo model) and model patterns."""

    name: str
    host: str | None
    patterns: tuple[str, ...] = ("*",)

    @classmethod
    def of(cls, upstream: UpstreamSettings) -> UpstreamInfo:
        return cls(upstream.name, urlsplit(upstream.base_url).hostname, tuple(upstream.models))

    def matches(self, model: str) -> bool:
        return any(p == "*" or p == model or (p.endswith("*") and model.startswith(p[:-1])) for p in self.patterns)


DEMO = UpstreamInfo("demo", None)

_REDACTED = "the conversation with personal values replaced by placeholders (PII redaction), your id only as a keyed hash"
_UNREDACTED = "the conversation as sent (this policy does not redact personal data), your id only as a keyed hash"


def _redacts(policy: Policy) -> bool:
    return policy.pii.enabled and policy.pii.mode == "enforce"


def _targets(policy: Policy, upstreams: Sequence[UpstreamInfo]) -> list[UpstreamInfo]:
    """The upstreams a policy's requests can reach (the router's rule: the named one, else the first match)."""
    if policy.routing.upstream is not None:
        named = [u for u in upstreams if u.name == policy.routing.upstream]
        if named:
            return named
    model = policy.routing.upstream_model
    if model is not None:
        first = next((u for u in upstreams if u.matches(model)), None)
        return [first] if first is not None else []
    return list(upstreams)  # the client names the model: any configured upstream may serve it


def recipients(policies: Iterable[Policy], upstreams: Sequence[UpstreamInfo]) -> list[RecipientFact]:
    """Who receives data through ``policies``: model servers and handoff webhooks, with the policies that send to each."""
    policies = list(policies)
    model: dict[tuple[str, str | None, bool], list[str]] = {}
    hooks: dict[str | None, list[str]] = {}
    if not policies:  # policies off: every request goes to the upstreams as sent
        for target in upstreams:
            model.setdefault((target.name, target.host, False), [])
    for policy in policies:
        for target in _targets(policy, upstreams):
            model.setdefault((target.name, target.host, _redacts(policy)), []).append(policy.name)
        if policy.rails.handoff.webhook_url:
            hooks.setdefault(urlsplit(policy.rails.handoff.webhook_url).hostname, []).append(policy.name)
    out: list[RecipientFact] = []
    for (name, host, redacted), names in sorted(model.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        if host is None:
            out.append(RecipientFact(kind="none", name=name, host=None, policies=sorted(names), receives="nothing leaves this Bedside: replies come from its built-in demo model"))
        else:
            out.append(RecipientFact(kind="model_provider", name=name, host=host, policies=sorted(names), receives=_REDACTED if redacted else _UNREDACTED))
    for host, names in sorted(hooks.items(), key=lambda kv: kv[0] or ""):
        out.append(
            RecipientFact(
                kind="handoff_webhook",
                name="handoff",
                host=host,
                policies=sorted(names),
                receives="when a conversation is handed to a person: the last turns (redacted), the reason, your id as a keyed hash",
            )
        )
    return out


def retention(policies: Iterable[Policy], transcript_days: int) -> list[RetentionFact]:
    policies = list(policies)
    out = [
        RetentionFact(data="consent_receipts", period="kept as proof of consent; on erasure detached from you (no longer linked to your id)", days=None),
    ]
    for policy in sorted((p for p in policies if p.memory.enabled), key=lambda p: p.name):
        days = policy.memory.retention_days
        out.append(RetentionFact(data="memories", period=f"until withdrawn or erased; no longer used after {days} days without an update (policy {policy.name})", days=days))
    own = {p.name: p.transcripts.retention_days for p in policies if p.transcripts.retention_days is not None}
    for name, days in sorted(own.items()):
        out.append(RetentionFact(data="transcripts", period=f"{days} days after the turn (policy {name}), or until withdrawn or erased", days=days))
    out.append(RetentionFact(data="transcripts", period=f"{transcript_days} days after the turn (every other policy), or until withdrawn or erased", days=transcript_days))
    out.append(RetentionFact(data="handoff_events", period="until the handoff webhook accepted the event (or Bedside gave up on it)", days=None))
    out.append(RetentionFact(data="data_keys", period="while any of your data is kept; destroyed on erasure", days=None))
    return out


_PURPOSES = {
    "memory": "Remember what you say about yourself across conversations and give it to the assistant (as placeholders) in later ones.",
    "transcripts": "Keep the turns of your conversations (encrypted) so they can be shown to you or reviewed.",
}

_CATEGORIES = [
    CategoryFact(name="consent_receipts", description="Your consent decisions: purpose, decision, time, the notice shown.", stored=True, encrypted_at_rest=False),
    CategoryFact(name="memories", description="Things you said about yourself, extracted by Bedside (derived data).", stored=True, encrypted_at_rest=True),
    CategoryFact(name="pseudonym_values", description="Personal values (e-mail, phone, names, ...) behind the placeholders in your memories.", stored=True, encrypted_at_rest=True),
    CategoryFact(name="transcripts", description="Your messages and the replies, per turn, with machine readings (emotion, tone, rails).", stored=True, encrypted_at_rest=True),
    CategoryFact(name="handoff_events", description="A handoff to a person waiting for delivery: the last turns, redacted.", stored=True, encrypted_at_rest=True),
    CategoryFact(name="data_keys", description="Your data key, wrapped by a key kept outside the database.", stored=True, encrypted_at_rest=True),
    CategoryFact(
        name="conversation",
        description="Each request's messages: read for tone, safety and personal data, then forwarded (redacted where the policy says); not kept unless a purpose above allows it.",
        stored=False,
        encrypted_at_rest=None,
    ),
]


def processing_facts(
    tenant: str,
    policies: Iterable[Policy],
    upstreams: Sequence[UpstreamInfo],
    *,
    transcript_days: int,
    granted: Iterable[str] = (),
) -> ProcessingFacts:
    """The facts for a user of ``tenant`` whose granted purposes are ``granted`` (``policies``: the ones the tenant may use)."""
    policies = [p for p in policies if not p.name.startswith("_")]
    granted = frozenset(granted)
    purposes = [
        PurposeFact(
            name="service",
            description="Pass your messages to the assistant's model and its replies back to you, shaped by the operator's policy (tone, safety rules, redaction).",
            basis="the operator's service to you",
            active=True,
        ),
        *(PurposeFact(name=name, description=text, basis="your consent", active=name in granted) for name, text in _PURPOSES.items()),
    ]
    return ProcessingFacts(
        controller=f"The operator of this Bedside deployment, for its tenant `{tenant}` (the service you use); Bedside processes on its behalf.",
        source="You, through the service that sends your messages to Bedside; memories are derived by Bedside from what you said.",
        purposes=purposes,
        categories=list(_CATEGORIES),
        recipients=recipients(policies, upstreams),
        retention=retention(policies, transcript_days),
        automated_decisions=(
            "Each message is read by offline models for emotion (to adjust tone), personal data (to redact it) and safety "
            "(jailbreaks, denied topics, crisis language). A safety rule can refuse a message, change a reply, or hand the "
            "conversation to a person; no decision with legal or similarly significant effect is made."
        ),
        rights=[
            "Export: GET /v1/users/{user}/export (this document).",
            "Erasure: DELETE /v1/users/{user} (answers a deletion receipt).",
            "Withdraw consent per purpose at any time: PUT /v1/users/{user}/consent.",
            "Forget memories: DELETE /v1/users/{user}/memories[/{id}].",
            "Ask the operator of the service for rectification or restriction, or complain to a supervisory authority.",
        ],
    )

"""The Art. 15 processing facts come from the deployment: upstream hosts by routing, redaction, webhooks, retention."""

from __future__ import annotations

from typing import Any

from proxy.policy.schema import Policy
from proxy.privacy.processing import DEMO, UpstreamInfo, processing_facts
from proxy.settings import UpstreamSettings

UPSTREAMS = [
    UpstreamInfo.of(UpstreamSettings(name="azure", base_url="https://acme.openai.azure.com/openai/v1?api-version=1", models=["azure-*"])),
    UpstreamInfo.of(UpstreamSettings(name="local", base_url="http://127.0.0.1:11434/v1", models=["llama*"])),
    UpstreamInfo.of(UpstreamSettings(name="openai", base_url="https://api.openai.com/v1")),
]


def _policy(name: str, **sections: Any) -> Policy:
    return Policy.model_validate({"name": name, "description": "d", "owner": "o", **sections})


def test_recipients_follow_routing_redaction_and_webhooks() -> None:
    policies = [
        _policy("named", routing={"upstream": "azure"}, pii={"enabled": True}),
        _policy("pinned", routing={"upstream_model": "llama3"}, rails={"handoff": {"webhook_url": "https://desk.example.org/hook?token=s3cret"}}),
        _policy("open-model", pii={"enabled": True, "mode": "shadow"}),
    ]
    facts = processing_facts("acme", policies, UPSTREAMS, transcript_days=90)
    got = {(r.kind, r.name, r.host, tuple(r.policies), "placeholders" in r.receives) for r in facts.recipients}
    assert got == {
        ("model_provider", "azure", "acme.openai.azure.com", ("named",), True),
        ("model_provider", "azure", "acme.openai.azure.com", ("open-model",), False),  # shadow PII sends values unchanged: said so
        ("model_provider", "local", "127.0.0.1", ("open-model", "pinned"), False),  # one entry per recipient and redaction
        ("model_provider", "openai", "api.openai.com", ("open-model",), False),
        ("handoff_webhook", "handoff", "desk.example.org", ("pinned",), False),
    }
    assert "s3cret" not in facts.model_dump_json()  # hosts only: a URL may carry a token


def test_abstract_policies_are_left_out_and_no_policy_means_every_upstream() -> None:
    facts = processing_facts("acme", [_policy("_base", routing={"upstream": "azure"})], UPSTREAMS, transcript_days=90)
    assert {r.name for r in facts.recipients} == {"azure", "local", "openai"} and all(r.policies == [] for r in facts.recipients)
    demo = processing_facts("open", [], [DEMO], transcript_days=90)
    assert [(r.kind, r.host) for r in demo.recipients] == [("none", None)]


def test_retention_and_purposes() -> None:
    policies = [_policy("support", memory={"enabled": True, "retention_days": 30}), _policy("intake", transcripts={"retention_days": 14})]
    facts = processing_facts("acme", policies, UPSTREAMS, transcript_days=90, granted={"transcripts"})
    periods = {(r.data, r.days) for r in facts.retention}
    assert {("memories", 30), ("transcripts", 14), ("transcripts", 90)} <= periods
    assert {p.name: (p.active, p.basis) for p in facts.purposes} == {
        "service": (True, "the operator's service to you"),
        "memory": (False, "your consent"),
        "transcripts": (True, "your consent"),
    }
    assert "acme" in facts.controller

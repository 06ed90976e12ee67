"""The request pipeline's parts built from settings: the upstream HTTP client and the stages in their fixed order.

``proxy.services.build_services`` calls both; benches build stages on their own with ``build_stages``.
"""

from __future__ import annotations

import sys
from typing import Any

from proxy.audit.log import AuditLog
from proxy.auth import KeyRing
from proxy.metrics import Metrics
from proxy.pipeline.stage import Stage
from proxy.policy import PolicyStore
from proxy.privacy.wiring import Privacy
from proxy.rails.handoff import HandoffNotifier
from proxy.rails.metrics import RailsMetrics
from proxy.secrets_store import SubjectHasher
from proxy.settings import Settings
from proxy.stages.audit import AuditStage
from proxy.stages.consent import ConsentStage
from proxy.stages.emotion import build_emotion_stage
from proxy.stages.identity import IdentityStage
from proxy.stages.input_rails import InputRailsStage
from proxy.stages.memory import MemoryStage
from proxy.stages.memory_extractor import LlmExtractor
from proxy.stages.output_rails import OutputRailsStage
from proxy.stages.pii import build_pii_stage
from proxy.stages.policy import PolicyStage
from proxy.stages.thread import ThreadStage
from proxy.stages.tone import ToneStage
from proxy.stages.transcripts import TranscriptsStage
from proxy.upstream.aiohttp_transport import AiohttpTransport
from proxy.upstream.transport import HttpTransport


def build_transport(settings: Settings, upstream_transport: Any = None) -> HttpTransport:
    """The upstream HTTP client; an ``httpx`` transport (e.g. MockTransport) selects httpx.

    httpx is imported only when it is used (about 10 MiB resident with what it pulls in): an httpx
    transport passed in means httpx is imported already."""
    if upstream_transport is not None:
        httpx = sys.modules.get("httpx")
        if httpx is not None and isinstance(upstream_transport, httpx.AsyncBaseTransport):
            from proxy.upstream.httpx_transport import HttpxTransport

            return HttpxTransport(max_connections=settings.server.max_connections, transport=upstream_transport)
        return upstream_transport  # an HttpTransport already
    if settings.server.client == "httpx":
        from proxy.upstream.httpx_transport import HttpxTransport

        return HttpxTransport(max_connections=settings.server.max_connections)
    return AiohttpTransport(max_connections=settings.server.max_connections)


def build_stages(
    settings: Settings,
    keyring: KeyRing,
    metrics: Metrics,
    policies: PolicyStore | None,
    hasher: SubjectHasher,
    handoff: HandoffNotifier | None = None,
    privacy: Privacy | None = None,
    memory_extractor: LlmExtractor | None = None,
    audit: AuditLog | None = None,
) -> list[Stage]:
    """The stages, outermost first. The order is fixed here (see docs/architecture.md):
    identity, thread, policy, audit, consent, emotion, tone, pii, memory, transcripts, input rails, output rails, forward.
    Stages of later issues slot in at their place; this list holds the ones that exist."""
    stages: list[Stage] = [IdentityStage(keyring, hasher)]
    # thread: right after identity (whose threads), before the stages that read on from it (policy and
    # the output rails: not a first turn; emotion: the trend; pii: the vault); also in a bare proxy
    stages.append(ThreadStage(privacy.threads if privacy is not None else None, metrics))
    if policies is not None:
        stages.append(PolicyStage(policies, metrics))
        if audit is not None:
            stages.append(AuditStage(audit, metrics))  # inside policy: on_failure is per policy
        if privacy is not None:
            stages.append(ConsentStage(privacy.ledger, metrics))  # before emotion: reads the raw metadata field
        pii = build_pii_stage(settings, metrics, policies)
        # the emotion stage starts the PII analysis of the request just before its own model read, so the
        # two overlap (settings `pii.overlap`; docs/architecture.md); the order of the stages is unchanged
        stages.append(build_emotion_stage(metrics, policies, meanwhile=pii.start_analysis if settings.pii.overlap else None))
        stages.append(ToneStage(metrics))
        stages.append(pii)  # pii: after emotion/tone (they see raw text)
        if privacy is not None:
            stages.append(MemoryStage(privacy.memories, metrics, memory_extractor))  # inside pii: injects through the request's vault
            stages.append(TranscriptsStage(privacy.transcripts, metrics))  # inside pii: restores the turn with the request's vault
        rails_metrics = handoff.rails_metrics if handoff is not None else RailsMetrics(metrics)  # one set per registry
        input_rails = InputRailsStage(metrics, handoff, rails_metrics=rails_metrics)
        input_rails.warm_policies(policies)  # the models its checks use load now, not in the first request
        stages.append(input_rails)  # inside pii: rails and handoff events see redacted text
        stages.append(OutputRailsStage(metrics, handoff, rails_metrics=rails_metrics))  # just before forward
    return stages
